using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// A listener's children: connections made from its SYNs (RFC 9293 section 3.10.7.2, LISTEN) that the application
    /// has not accepted yet, oldest first, at most <see cref="Backlog"/> of them (the <c>listen</c> backlog, POSIX);
    /// and, on a child, the listener it belongs to. Every connection has one, made with it at start-up; the list is
    /// threaded through the children's own queues, so adding and removing never allocate.
    /// </summary>
    internal sealed class AcceptQueue
    {
        private readonly TcpConnection _owner;
        private TcpConnection _parent;  // as a child: the listener, until accepted or closed
        private TcpConnection _head;    // as a listener: the oldest child
        private TcpConnection _next;    // as a child: the next younger sibling
        private int _count;
        private int _backlog;
        private int _admitted;          // as a listener: connections it made that hold a socket (not in TIME_WAIT)
        private int _epoch;             // as a listener: changes with every use of the pooled connection
        private TcpConnection _origin;  // as a child: the listener that made it, after accept too
        private int _originEpoch;       // as a child: the listener's epoch when it made it

        internal AcceptQueue(TcpConnection owner)
        {
            _owner = owner;
        }

        /// <summary>The listener this connection was made by, while it waits to be accepted; null otherwise.</summary>
        internal TcpConnection Parent => _parent;

        /// <summary>Children waiting (still in the handshake or established).</summary>
        internal int Count => _count;

        /// <summary>The most children the listener keeps (at least 1).</summary>
        internal int Backlog
        {
            get => _backlog;
            set => _backlog = value < 1 ? 1 : value;
        }

        /// <summary>No room for another child: a new handshake is dropped (the client retries it).</summary>
        internal bool IsFull => _count >= _backlog;

        /// <summary>The oldest child, or null.</summary>
        internal TcpConnection Oldest => _head;

        /// <summary>Nothing queued, no parent, backlog 0: a fresh use of the pooled connection.</summary>
        internal void Reset()
        {
            _epoch++;
            _admitted = 0;
            _origin = null;
            _parent = null;
            _head = null;
            _next = null;
            _count = 0;
            _backlog = 0;
        }

        /// <summary>As a listener: connections it made that still hold a socket and are not in TIME_WAIT.</summary>
        internal int Admitted => _admitted;

        /// <summary>As a listener: counts <paramref name="child"/> in <see cref="Admitted"/> until it <see cref="Leaves"/>.</summary>
        internal void Admit(TcpConnection child)
        {
            AcceptQueue c = child.Children;
            c._origin = _owner;
            c._originEpoch = _epoch;
            _admitted++;
        }

        /// <summary>
        /// As a child: stops counting against the listener that made it (entering TIME_WAIT, or released). Does
        /// nothing the second time, or when that listener has since closed.
        /// </summary>
        internal void Leaves()
        {
            if (_origin != null && _origin.Children._epoch == _originEpoch)
            {
                _origin.Children._admitted--;
            }
            _origin = null;
        }

        /// <summary>Appends <paramref name="child"/> (youngest) and makes this listener its parent.</summary>
        internal void Add(TcpConnection child)
        {
            AcceptQueue c = child.Children;
            c._next = null;
            c._parent = _owner;
            if (_head == null)
            {
                _head = child;
            }
            else
            {
                TcpConnection last = _head;
                while (last.Children._next != null)
                {
                    last = last.Children._next;
                }
                last.Children._next = child;
            }
            _count++;
        }

        /// <summary>Takes <paramref name="child"/> off the queue (accepted, or closed before); it has no parent after.</summary>
        internal void Remove(TcpConnection child)
        {
            TcpConnection previous = null;
            for (TcpConnection x = _head; x != null; x = x.Children._next)
            {
                if (x == child)
                {
                    if (previous == null)
                    {
                        _head = x.Children._next;
                    }
                    else
                    {
                        previous.Children._next = x.Children._next;
                    }
                    _count--;
                    break;
                }
                previous = x;
            }
            child.Children._next = null;
            child.Children._parent = null;
        }

        /// <summary>The oldest child past the handshake (not in SYN-RECEIVED), or null; it stays queued.</summary>
        internal TcpConnection OldestEstablished()
        {
            for (TcpConnection x = _head; x != null; x = x.Children._next)
            {
                if (x.State != TcpState.SynReceived)
                {
                    return x;
                }
            }
            return null;
        }
    }
}
