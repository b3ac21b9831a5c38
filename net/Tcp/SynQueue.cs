using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// One half-open passive connection (Linux: request_sock): what the SYN said and what our SYN-ACK said,
    /// without a socket. A socket is taken only when the handshake completes.
    /// </summary>
    internal sealed class SynRequest
    {
        internal bool InUse;
        internal TcpConnection Listener;
        internal IPEndPoint Local;
        internal IPEndPoint Remote;
        internal uint Iss;
        internal uint Irs;
        internal int PeerMss;
        internal int PeerWindowScale;
        internal bool PeerSackPermitted;
        internal bool PeerTimestamps;  // the SYN carried timestamps (and we use them)
        internal uint PeerTsVal;
        internal int PeerWindow;
        internal int Retransmits;
        internal Instant Deadline;

        /// <summary>When the first SYN-ACK was sent (for the connection's first RTT sample).</summary>
        internal Instant FirstSent;

        /// <summary>The final ACK came while the accept queue was full (Linux: inet_rsk(req)->acked).</summary>
        internal bool Acked;
    }

    /// <summary>
    /// The SYN queue (Linux: the listener's request_sock_queue, with its SYN-ACK timer): half-open connections,
    /// separate from the accept queue (the listener's established children). Entries are made at start-up.
    /// A listener may hold as many entries as its backlog; when it has that many, or the table is full, the
    /// listener answers with a SYN cookie instead (<see cref="SynCookies"/>). An entry's SYN-ACK is resent
    /// after 1, 2, 4, 8 and 16 s (Linux tcp_synack_retries = 5) and the entry dropped 32 s after the last,
    /// 63 s after the SYN.
    /// </summary>
    internal sealed class SynQueue
    {
        /// <summary>SYN-ACK retransmissions before a half-open connection is dropped (Linux tcp_synack_retries).</summary>
        public const int MaxSynAckRetries = 5;

        private readonly SynRequest[] _entries;
        private int _used;

        public SynQueue(int capacity)
        {
            _entries = new SynRequest[capacity];
            for (int i = 0; i < capacity; i++)
            {
                _entries[i] = new SynRequest();
            }
        }

        public int Capacity => _entries.Length;

        /// <summary>Entries in use.</summary>
        public int Count => _used;

        public SynRequest Find(IPEndPoint local, IPEndPoint remote)
        {
            if (_used == 0)
            {
                return null;
            }
            for (int i = 0; i < _entries.Length; i++)
            {
                SynRequest r = _entries[i];
                if (r.InUse && r.Remote == remote && r.Local == local)
                {
                    return r;
                }
            }
            return null;
        }

        /// <summary>Half-open connections of <paramref name="listener"/>.</summary>
        public int CountFor(TcpConnection listener)
        {
            int n = 0;
            for (int i = 0; i < _entries.Length && n < _used; i++)
            {
                if (_entries[i].InUse && _entries[i].Listener == listener)
                {
                    n++;
                }
            }
            return n;
        }

        /// <summary>A free entry marked in use, or null when the table is full.</summary>
        public SynRequest Add(TcpConnection listener)
        {
            for (int i = 0; i < _entries.Length; i++)
            {
                SynRequest r = _entries[i];
                if (!r.InUse)
                {
                    r.InUse = true;
                    r.Listener = listener;
                    r.Retransmits = 0;
                    r.Acked = false;
                    _used++;
                    return r;
                }
            }
            return null;
        }

        public void Remove(SynRequest r)
        {
            if (r.InUse)
            {
                r.InUse = false;
                r.Listener = null;
                _used--;
            }
        }

        /// <summary>Drops every entry of a listener that closes.</summary>
        public void RemoveAllFor(TcpConnection listener)
        {
            for (int i = 0; i < _entries.Length; i++)
            {
                if (_entries[i].InUse && _entries[i].Listener == listener)
                {
                    Remove(_entries[i]);
                }
            }
        }

        /// <summary>Entry <paramref name="i"/> (for the timer walk), in use or not.</summary>
        public SynRequest At(int i) => _entries[i];

        /// <summary>Earliest SYN-ACK deadline; <see cref="Instant.MaxValue"/> when the queue is empty.</summary>
        public Instant NextDeadline()
        {
            Instant best = Instant.MaxValue;
            if (_used == 0)
            {
                return best;
            }
            for (int i = 0; i < _entries.Length; i++)
            {
                if (_entries[i].InUse && _entries[i].Deadline < best)
                {
                    best = _entries[i].Deadline;
                }
            }
            return best;
        }
    }
}
