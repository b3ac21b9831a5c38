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
            TableLinks.Hash(ref _buckets[Bucket(c.Remote, c.Local.Port)], c);
        }

        internal void Unhash(TcpConnection c)
        {
            if (c.Links.Hashed)
            {
                TableLinks.Unhash(ref _buckets[Bucket(c.Remote, c.Local.Port)], c);
            }
        }

        /// <summary>The connection with this 4-tuple; null when there is none.</summary>
        internal TcpConnection Lookup(IPEndPoint local, IPEndPoint remote)
        {
            for (TcpConnection x = _buckets[Bucket(remote, local.Port)]; x != null; x = x.Links.HashNext)
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
            TableLinks.AddListener(ref _listeners, c);
        }

        internal void RemoveListener(TcpConnection c)
        {
            TableLinks.RemoveListener(ref _listeners, c);
            _synQueue.RemoveAllFor(c);
        }

        /// <summary>
        /// The listener for <paramref name="local"/>: bound to its address, or to the unspecified address of its
        /// family, or to :: without V6Only for an IPv4 address (Socket.BoundMatches). A listener bound to the
        /// address itself wins over one bound to an unspecified address, and one of the same family over a
        /// dual-stack one.
        /// </summary>
        private TcpConnection FindListener(IPEndPoint local)
        {
            TcpConnection best = null;
            int bestRank = 0;
            for (TcpConnection x = _listeners; x != null; x = x.Links.ListenNext)
            {
                if (x.Local.Port != local.Port || !Socket.BoundMatches(x.Local.Address, x.Socket.V6Only, local.Address))
                {
                    continue;
                }
                int rank = !x.Local.Address.IsAny ? 3 : x.Local.Address.Family == local.Address.Family ? 2 : 1;
                if (rank > bestRank)
                {
                    best = x;
                    bestRank = rank;
                }
            }
            return best;
        }

        internal void Activate(TcpConnection c)
        {
            TableLinks.Activate(ref _active, c);
        }

        /// <summary>Takes <paramref name="c"/> off the timer list or the TIME_WAIT list, whichever it is on.</summary>
        internal void Deactivate(TcpConnection c)
        {
            TableLinks.Deactivate(ref _active, c);
            TableLinks.RemoveTimeWait(ref _timeWaitHead, ref _timeWaitTail, c);
        }

        /// <summary>
        /// <paramref name="c"/> (re)started its TIME_WAIT timer: it leaves the timer list, which every poll walks, for the
        /// TIME_WAIT list, whose order is the order of expiry because every TIME_WAIT lasts as long; at the front when
        /// it ends at once (<paramref name="now"/>: past the TIME_WAIT limit).
        /// </summary>
        internal void TimeWaitStarted(TcpConnection c, bool now)
        {
            TableLinks.Deactivate(ref _active, c);
            TableLinks.AddTimeWait(ref _timeWaitHead, ref _timeWaitTail, c, now);
        }

        /// <summary>The orphaned TIME_WAIT connection that expires first (the one to reuse when sockets run out); null for none.</summary>
        internal TcpConnection OldestOrphanInTimeWait()
        {
            for (TcpConnection c = _timeWaitHead; c != null; c = c.Links.TimeWaitNext)
            {
                if (c.Orphan)
                {
                    return c;
                }
            }
            return null;
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
            // The TIME_WAIT list is in order of expiry: only its expired front is looked at.
            while ((c = _timeWaitHead) != null && c.NextDeadline() <= now)
            {
                c.OnTimers(now);
                if (_timeWaitHead == c)
                {
                    break; // not ended (cannot happen while the list is in order): leave it for the next poll
                }
            }
            PollSynQueue(now);
        }

        internal Instant NextDeadline()
        {
            Instant best = _synQueue.NextDeadline();
            if (_timeWaitHead != null)
            {
                best = Instant.Min(best, _timeWaitHead.NextDeadline());
            }
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
