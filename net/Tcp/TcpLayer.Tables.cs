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

        /// <summary>
        /// Hash bucket of a connection: the peer's whole address (an IPv4 address hashes to its own value, an IPv6
        /// one folds its 128 bits, the family included) and both ports, spread by a multiplicative hash.
        /// </summary>
        private int Bucket(IPEndPoint remote, int localPort)
        {
            uint h = (uint)remote.Address.GetHashCode() ^ ((uint)remote.Port << 16) ^ (uint)localPort;
            h *= 0x9E3779B1;
            return (int)(h >> 16) & _bucketMask;
        }

        internal void Hash(TcpConnection c)
        {
            if (c.Hashed)
            {
                return;
            }
            int b = Bucket(c.Remote, c.Local.Port);
            c.HashNext = _buckets[b];
            _buckets[b] = c;
            c.Hashed = true;
        }

        internal void Unhash(TcpConnection c)
        {
            if (!c.Hashed)
            {
                return;
            }
            int b = Bucket(c.Remote, c.Local.Port);
            TcpConnection previous = null;
            for (TcpConnection x = _buckets[b]; x != null; x = x.HashNext)
            {
                if (x == c)
                {
                    if (previous == null)
                    {
                        _buckets[b] = x.HashNext;
                    }
                    else
                    {
                        previous.HashNext = x.HashNext;
                    }
                    break;
                }
                previous = x;
            }
            c.HashNext = null;
            c.Hashed = false;
        }

        /// <summary>The connection with this 4-tuple; null when there is none.</summary>
        internal TcpConnection Lookup(IPEndPoint local, IPEndPoint remote)
        {
            for (TcpConnection x = _buckets[Bucket(remote, local.Port)]; x != null; x = x.HashNext)
            {
                if (x.Remote == remote && x.Local == local)
                {
                    return x;
                }
            }
            return null;
        }

        internal void AddListener(TcpConnection c)
        {
            c.ListenNext = _listeners;
            _listeners = c;
        }

        internal void RemoveListener(TcpConnection c)
        {
            TcpConnection previous = null;
            for (TcpConnection x = _listeners; x != null; x = x.ListenNext)
            {
                if (x == c)
                {
                    if (previous == null)
                    {
                        _listeners = x.ListenNext;
                    }
                    else
                    {
                        previous.ListenNext = x.ListenNext;
                    }
                    break;
                }
                previous = x;
            }
            c.ListenNext = null;
            _synQueue.RemoveAllFor(c);
        }

        /// <summary>The listener for <paramref name="local"/>: bound to its address, or to the unspecified address of its family.</summary>
        private TcpConnection FindListener(IPEndPoint local)
        {
            for (TcpConnection x = _listeners; x != null; x = x.ListenNext)
            {
                if (x.Local.Port == local.Port && (x.Local.Address == local.Address ||
                    (x.Local.Address.IsAny && x.Local.Address.Family == local.Address.Family)))
                {
                    return x;
                }
            }
            return null;
        }

        internal void Activate(TcpConnection c)
        {
            if (c.Active)
            {
                return;
            }
            c.ActivePrev = null;
            c.ActiveNext = _active;
            if (_active != null)
            {
                _active.ActivePrev = c;
            }
            _active = c;
            c.Active = true;
        }

        internal void Deactivate(TcpConnection c)
        {
            if (!c.Active)
            {
                return;
            }
            if (c.ActivePrev == null)
            {
                _active = c.ActiveNext;
            }
            else
            {
                c.ActivePrev.ActiveNext = c.ActiveNext;
            }
            if (c.ActiveNext != null)
            {
                c.ActiveNext.ActivePrev = c.ActivePrev;
            }
            c.ActiveNext = null;
            c.ActivePrev = null;
            c.Active = false;
        }

        /// <summary>
        /// Puts a connection on the list flushed at the end of the receive batch (first in, first out, so
        /// connections that share a full transmit ring take turns).
        /// </summary>
        internal void Schedule(TcpConnection c)
        {
            if (!c.OnBatch)
            {
                c.OnBatch = true;
                c.BatchNext = null;
                if (_batchTail == null)
                {
                    _batchHead = c;
                }
                else
                {
                    _batchTail.BatchNext = c;
                }
                _batchTail = c;
            }
        }

        internal void Unschedule(TcpConnection c)
        {
            if (!c.OnBatch)
            {
                return;
            }
            if (!Unlink(ref _batchHead, ref _batchTail, c))
            {
                Unlink(ref _flushHead, ref _flushTail, c);
            }
            c.BatchNext = null;
            c.OnBatch = false;
        }

        private static bool Unlink(ref TcpConnection head, ref TcpConnection tail, TcpConnection c)
        {
            TcpConnection previous = null;
            for (TcpConnection x = head; x != null; x = x.BatchNext)
            {
                if (x == c)
                {
                    if (previous == null)
                    {
                        head = x.BatchNext;
                    }
                    else
                    {
                        previous.BatchNext = x.BatchNext;
                    }
                    if (tail == x)
                    {
                        tail = previous;
                    }
                    return true;
                }
                previous = x;
            }
            return false;
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
            while (_flushHead != null)
            {
                TcpConnection c = _flushHead;
                _flushHead = c.BatchNext;
                if (_flushHead == null)
                {
                    _flushTail = null;
                }
                c.BatchNext = null;
                c.OnBatch = false;
                c.FlushBatch(now);
            }
        }

        internal void Poll(Instant now)
        {
            TcpConnection c = _active;
            while (c != null)
            {
                TcpConnection next = c.ActiveNext;
                c.OnTimers(now);
                c = next;
            }
            PollSynQueue(now);
        }

        internal Instant NextDeadline()
        {
            Instant best = _synQueue.NextDeadline();
            for (TcpConnection c = _active; c != null; c = c.ActiveNext)
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
