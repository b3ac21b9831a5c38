using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>TCP demultiplexing tables (see TcpLayer.cs): the 4-tuple hash, the listeners, the connections with timers, and the per-batch output list.</summary>
    internal sealed unsafe partial class TcpLayer
    {
        // ------------------------------------------------------------ tables

        private int Bucket(uint remoteAddress, int remotePort, int localPort)
        {
            uint h = remoteAddress ^ ((uint)remotePort << 16) ^ (uint)localPort;
            h *= 0x9E3779B1;
            return (int)(h >> 16) & _bucketMask;
        }

        internal void Hash(TcpConnection c)
        {
            TableLinks.Hash(ref _buckets[Bucket(c.RemoteAddress, c.RemotePort, c.LocalPort)], c);
        }

        internal void Unhash(TcpConnection c)
        {
            if (c.Links.Hashed)
            {
                TableLinks.Unhash(ref _buckets[Bucket(c.RemoteAddress, c.RemotePort, c.LocalPort)], c);
            }
        }

        internal TcpConnection Lookup(uint localAddress, int localPort, uint remoteAddress, int remotePort)
        {
            for (TcpConnection x = _buckets[Bucket(remoteAddress, remotePort, localPort)]; x != null; x = x.Links.HashNext)
            {
                if (x.RemoteAddress == remoteAddress && x.RemotePort == remotePort && x.LocalPort == localPort &&
                    x.LocalAddress == localAddress)
                {
                    return x;
                }
            }
            return null;
        }

        internal void AddListener(TcpConnection c)
        {
            TableLinks.AddListener(ref _listeners, c);
        }

        internal void RemoveListener(TcpConnection c)
        {
            TableLinks.RemoveListener(ref _listeners, c);
            _synQueue.RemoveAllFor(c);
        }

        private TcpConnection FindListener(uint localAddress, int localPort)
        {
            for (TcpConnection x = _listeners; x != null; x = x.Links.ListenNext)
            {
                if (x.LocalPort == localPort && (x.LocalAddress == 0 || x.LocalAddress == localAddress))
                {
                    return x;
                }
            }
            return null;
        }

        internal void Activate(TcpConnection c)
        {
            TableLinks.Activate(ref _active, c);
        }

        internal void Deactivate(TcpConnection c)
        {
            TableLinks.Deactivate(ref _active, c);
        }

        /// <summary>
        /// Puts a connection on the list flushed at the end of the receive batch (first in, first out, so
        /// connections that share a full transmit ring take turns).
        /// </summary>
        internal void Schedule(TcpConnection c)
        {
            TableLinks.Schedule(ref _batchHead, ref _batchTail, c);
        }

        internal void Unschedule(TcpConnection c)
        {
            if (!c.Links.OnBatch)
            {
                return;
            }
            if (!TableLinks.Unlink(ref _batchHead, ref _batchTail, c))
            {
                TableLinks.Unlink(ref _flushHead, ref _flushTail, c);
            }
            TableLinks.Unscheduled(c);
        }

        /// <summary>True while a connection waits for its batched output or ACK (e.g. the device refused frames).</summary>
        internal bool HasScheduled => _batchHead != null;

        /// <summary>
        /// End of a receive batch: output data the ACKs allowed, then send or delay the ACKs. Works on the list as
        /// it was on entry: a connection that schedules itself again (its output was stopped by a full transmit
        /// ring or an empty packet pool, which only the driver's next poll can change) waits for the next call
        /// instead of being retried here for ever.
        /// </summary>
        internal void FlushBatch(Instant now)
        {
            if (_batchHead == null)
            {
                return;
            }
            _flushHead = _batchHead;
            _flushTail = _batchTail;
            _batchHead = null;
            _batchTail = null;
            TcpConnection c;
            while ((c = TableLinks.TakeFirst(ref _flushHead, ref _flushTail)) != null)
            {
                c.FlushBatch(now);
            }
        }

        internal void Poll(Instant now)
        {
            TcpConnection c = _active;
            while (c != null)
            {
                TcpConnection next = c.Links.ActiveNext;
                c.OnTimers(now);
                c = next;
            }
            PollSynQueue(now);
        }

        internal Instant NextDeadline()
        {
            Instant best = _synQueue.NextDeadline();
            for (TcpConnection c = _active; c != null; c = c.Links.ActiveNext)
            {
                Instant d = c.NextDeadline();
                if (d < best)
                {
                    best = d;
                }
            }
            return best;
        }
    }
}
