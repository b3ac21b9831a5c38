namespace Keel.Net.Tcp
{
    /// <summary>
    /// A connection's places in <see cref="TcpLayer"/>'s tables, which keep only the heads: the 4-tuple hash chain,
    /// the listener list, the list of connections with timers (doubly linked, so a connection leaves it at once), the
    /// TIME_WAIT list in order of expiry (doubly linked, with a tail) and the end-of-batch output list (first in,
    /// first out). The links are threaded through the connections
    /// themselves, so the tables never allocate; each operation here keeps one list and its flag consistent.
    /// </summary>
    internal struct TableLinks
    {
        private const int HashList = 0;     // the singly linked lists, for Next/SetNext/Remove
        private const int ListenList = 1;
        private const int BatchList = 2;

        private TcpConnection _hashNext;
        private bool _hashed;
        private TcpConnection _listenNext;
        private TcpConnection _activeNext;
        private TcpConnection _activePrev;
        private bool _active;
        private TcpConnection _batchNext;
        private bool _onBatch;
        private TcpConnection _timeWaitNext;
        private TcpConnection _timeWaitPrev;
        private bool _inTimeWait;

        /// <summary>The next connection in the same hash bucket.</summary>
        internal TcpConnection HashNext => _hashNext;

        internal bool Hashed => _hashed;

        /// <summary>The next listener.</summary>
        internal TcpConnection ListenNext => _listenNext;

        /// <summary>The next connection whose timers are polled.</summary>
        internal TcpConnection ActiveNext => _activeNext;

        internal bool Active => _active;

        /// <summary>The next connection waiting for the end-of-batch flush.</summary>
        internal TcpConnection BatchNext => _batchNext;

        internal bool OnBatch => _onBatch;

        /// <summary>The next connection of the TIME_WAIT list (the next to expire).</summary>
        internal TcpConnection TimeWaitNext => _timeWaitNext;

        internal bool InTimeWaitList => _inTimeWait;

        // ------------------------------------------------------------ hash chain

        /// <summary>Puts <paramref name="c"/> at the front of <paramref name="bucket"/>'s chain unless it is hashed already.</summary>
        internal static void Hash(ref TcpConnection bucket, TcpConnection c)
        {
            if (c.Links._hashed)
            {
                return;
            }
            c.Links._hashNext = bucket;
            bucket = c;
            c.Links._hashed = true;
        }

        /// <summary>Takes <paramref name="c"/> off <paramref name="bucket"/>'s chain (nothing when it is not hashed).</summary>
        internal static void Unhash(ref TcpConnection bucket, TcpConnection c)
        {
            if (!c.Links._hashed)
            {
                return;
            }
            Remove(ref bucket, c, HashList, out _);
            c.Links._hashNext = null;
            c.Links._hashed = false;
        }

        // ------------------------------------------------------------ listeners

        internal static void AddListener(ref TcpConnection head, TcpConnection c)
        {
            c.Links._listenNext = head;
            head = c;
        }

        internal static void RemoveListener(ref TcpConnection head, TcpConnection c)
        {
            Remove(ref head, c, ListenList, out _);
            c.Links._listenNext = null;
        }

        // ------------------------------------------------------------ connections with timers

        /// <summary>Puts <paramref name="c"/> at the front of the list unless it is on it already.</summary>
        internal static void Activate(ref TcpConnection head, TcpConnection c)
        {
            if (c.Links._active)
            {
                return;
            }
            c.Links._activePrev = null;
            c.Links._activeNext = head;
            if (head != null)
            {
                head.Links._activePrev = c;
            }
            head = c;
            c.Links._active = true;
        }

        /// <summary>Takes <paramref name="c"/> off the list in constant time (nothing when it is not on it).</summary>
        internal static void Deactivate(ref TcpConnection head, TcpConnection c)
        {
            if (!c.Links._active)
            {
                return;
            }
            if (c.Links._activePrev == null)
            {
                head = c.Links._activeNext;
            }
            else
            {
                c.Links._activePrev.Links._activeNext = c.Links._activeNext;
            }
            if (c.Links._activeNext != null)
            {
                c.Links._activeNext.Links._activePrev = c.Links._activePrev;
            }
            c.Links._activeNext = null;
            c.Links._activePrev = null;
            c.Links._active = false;
        }

        // ------------------------------------------------------------ TIME_WAIT list

        /// <summary>
        /// Puts <paramref name="c"/> on the TIME_WAIT list, at the back (<paramref name="first"/> false: it expires last,
        /// as every TIME_WAIT lasts as long) or at the front (it expires at once); moves it when it is on the list already.
        /// </summary>
        internal static void AddTimeWait(ref TcpConnection head, ref TcpConnection tail, TcpConnection c, bool first)
        {
            RemoveTimeWait(ref head, ref tail, c);
            c.Links._inTimeWait = true;
            if (first)
            {
                c.Links._timeWaitPrev = null;
                c.Links._timeWaitNext = head;
                if (head != null)
                {
                    head.Links._timeWaitPrev = c;
                }
                head = c;
                if (tail == null)
                {
                    tail = c;
                }
                return;
            }
            c.Links._timeWaitNext = null;
            c.Links._timeWaitPrev = tail;
            if (tail != null)
            {
                tail.Links._timeWaitNext = c;
            }
            tail = c;
            if (head == null)
            {
                head = c;
            }
        }

        /// <summary>Takes <paramref name="c"/> off the TIME_WAIT list in constant time (nothing when it is not on it).</summary>
        internal static void RemoveTimeWait(ref TcpConnection head, ref TcpConnection tail, TcpConnection c)
        {
            if (!c.Links._inTimeWait)
            {
                return;
            }
            TcpConnection prev = c.Links._timeWaitPrev;
            TcpConnection next = c.Links._timeWaitNext;
            if (prev == null)
            {
                head = next;
            }
            else
            {
                prev.Links._timeWaitNext = next;
            }
            if (next == null)
            {
                tail = prev;
            }
            else
            {
                next.Links._timeWaitPrev = prev;
            }
            c.Links._timeWaitNext = null;
            c.Links._timeWaitPrev = null;
            c.Links._inTimeWait = false;
        }

        // ------------------------------------------------------------ end-of-batch list

        /// <summary>Appends <paramref name="c"/> to the list unless it is on one already.</summary>
        internal static void Schedule(ref TcpConnection head, ref TcpConnection tail, TcpConnection c)
        {
            if (c.Links._onBatch)
            {
                return;
            }
            c.Links._onBatch = true;
            c.Links._batchNext = null;
            if (tail == null)
            {
                head = c;
            }
            else
            {
                tail.Links._batchNext = c;
            }
            tail = c;
        }

        /// <summary>
        /// Takes <paramref name="c"/> off the list [<paramref name="head"/>, <paramref name="tail"/>]; false when it is
        /// not there. Its flag is left for the caller (it may be on another list of the same kind).
        /// </summary>
        internal static bool Unlink(ref TcpConnection head, ref TcpConnection tail, TcpConnection c)
        {
            if (!Remove(ref head, c, BatchList, out TcpConnection previous))
            {
                return false;
            }
            if (tail == c)
            {
                tail = previous;
            }
            return true;
        }

        /// <summary>The connection is off every end-of-batch list.</summary>
        internal static void Unscheduled(TcpConnection c)
        {
            c.Links._batchNext = null;
            c.Links._onBatch = false;
        }

        /// <summary>Takes the first connection off the list [<paramref name="head"/>, <paramref name="tail"/>]; null when empty.</summary>
        internal static TcpConnection TakeFirst(ref TcpConnection head, ref TcpConnection tail)
        {
            TcpConnection c = head;
            if (c == null)
            {
                return null;
            }
            head = c.Links._batchNext;
            if (head == null)
            {
                tail = null;
            }
            Unscheduled(c);
            return c;
        }

        // ------------------------------------------------------------ the singly linked lists

        private static TcpConnection Next(TcpConnection c, int list)
        {
            return list == HashList ? c.Links._hashNext : list == ListenList ? c.Links._listenNext : c.Links._batchNext;
        }

        private static void SetNext(TcpConnection c, int list, TcpConnection next)
        {
            if (list == HashList)
            {
                c.Links._hashNext = next;
            }
            else if (list == ListenList)
            {
                c.Links._listenNext = next;
            }
            else
            {
                c.Links._batchNext = next;
            }
        }

        /// <summary>
        /// Takes <paramref name="c"/> off the singly linked <paramref name="list"/> starting at <paramref name="head"/>;
        /// false when it is not there. <paramref name="previous"/>: the connection before it (null at the head).
        /// </summary>
        private static bool Remove(ref TcpConnection head, TcpConnection c, int list, out TcpConnection previous)
        {
            previous = null;
            for (TcpConnection x = head; x != null; x = Next(x, list))
            {
                if (x == c)
                {
                    if (previous == null)
                    {
                        head = Next(x, list);
                    }
                    else
                    {
                        SetNext(previous, list, Next(x, list));
                    }
                    return true;
                }
                previous = x;
            }
            return false;
        }
    }
}
