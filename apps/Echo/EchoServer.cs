using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Echo
{
    /// <summary>
    /// TCP echo server (RFC 862) on port 7. Non-blocking: the kernel main loop calls <see cref="Poll"/>.
    /// A connection holds one of a few buffers made at start-up only while it has bytes to echo (idle
    /// connections hold none, and nothing is allocated after start-up); bytes that the send buffer could not
    /// take yet are kept and retried on the next poll, and no more is read until they are gone
    /// (back-pressure). With every buffer busy, reading waits for the next poll. Limits: it accepts as many connections as it has slots (the kernel
    /// gives it one per socket); a connection beyond that is accepted and reset at once (counted in
    /// <see cref="Refused"/>), never left waiting in the accept queue; a connection with no traffic for
    /// <see cref="IdleTimeoutNanoseconds"/> is reset (<see cref="IdleClosed"/>), so vanished peers do not
    /// keep slots and sockets.
    /// </summary>
    public sealed class EchoServer
    {
        public const int Port = 7;
        private const int BufferSize = 4096;

        /// <summary>Buffers shared by the connections (made at start-up).</summary>
        private const int SharedBuffers = 8;

        /// <summary>Default idle timeout: 120 s without a byte either way (long enough to hold idle clients a minute).</summary>
        public const long DefaultIdleTimeoutNanoseconds = 120_000_000_000L;

        private readonly NetStack _stack;
        private readonly Socket[] _connections;
        private readonly byte[][] _buffers;
        private readonly int[] _pendingStart;
        private readonly int[] _pendingEnd;
        private readonly bool[] _peerDone;
        private readonly long[] _lastActive;
        private readonly int[] _occupied;   // the slots holding a connection, in no order (Poll visits only these)
        private readonly int[] _position;   // each occupied slot's index in _occupied
        private int _occupiedCount;
        private readonly IClock _clock;
        private readonly byte[][] _free = new byte[SharedBuffers][];
        private int _freeCount;
        private int _nextSlot;
        private Socket _listener;

        /// <summary>An echo server without idle timeout.</summary>
        public EchoServer(NetStack stack, int maxConnections) : this(stack, maxConnections, null)
        {
        }

        /// <param name="clock">Time for the idle timeout; null: no idle timeout.</param>
        public EchoServer(NetStack stack, int maxConnections, IClock clock)
        {
            _stack = stack;
            _clock = clock;
            _connections = new Socket[maxConnections];
            _buffers = new byte[maxConnections][];
            _pendingStart = new int[maxConnections];
            _pendingEnd = new int[maxConnections];
            _peerDone = new bool[maxConnections];
            _lastActive = new long[maxConnections];
            _occupied = new int[maxConnections];
            _position = new int[maxConnections];
            for (int i = 0; i < SharedBuffers; i++)
            {
                _free[_freeCount++] = new byte[BufferSize];
            }
        }

        /// <summary>Connections with no traffic for this long are reset (0: never).</summary>
        public long IdleTimeoutNanoseconds { get; set; } = DefaultIdleTimeoutNanoseconds;

        /// <summary>Connections reset because every slot was taken.</summary>
        public long Refused { get; private set; }

        /// <summary>Connections reset after the idle timeout.</summary>
        public long IdleClosed { get; private set; }

        /// <summary>Connections accepted so far.</summary>
        public long Accepted { get; private set; }

        /// <summary>Bytes echoed so far.</summary>
        public long BytesEchoed { get; private set; }

        /// <summary>Connections currently open.</summary>
        public int Open => _occupiedCount;

        /// <summary>Creates the listening socket (backlog: twice the slots, so that the accept queue, which Linux-like
        /// drops a completing handshake when full, is never what turns a client away). False when no socket or the
        /// port is taken.</summary>
        public bool Start()
        {
            _listener = _stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            if (_listener == null)
            {
                return false;
            }
            // Keepalive (inherited by accepted connections): a vanished peer is reset after about 2 minutes of silence.
            _listener.SetKeepAlive(60000, 10000, 6);
            if (_listener.Bind(new IPEndPoint(_stack.AnyAddress, Port)) != SocketError.Success ||
                _listener.Listen(_connections.Length * 2) != SocketError.Success)
            {
                _listener.Close();
                _listener = null;
                return false;
            }
            return true;
        }

        /// <summary>Closes the listener and every connection.</summary>
        public void Stop()
        {
            for (int i = 0; i < _connections.Length; i++)
            {
                if (_connections[i] != null)
                {
                    ReleaseBuffer(i);
                    _connections[i].Close();
                    _connections[i] = null;
                }
            }
            _occupiedCount = 0;
            if (_listener != null)
            {
                _listener.Close();
                _listener = null;
            }
        }

        /// <summary>One round of work: accept, echo, close finished connections.</summary>
        public void Poll()
        {
            if (_listener == null)
            {
                return;
            }
            AcceptAll();
            long now = (object)_clock == null ? 0 : _clock.NowNanoseconds;
            // Only the occupied slots, backwards: a slot that closes is replaced by the last one, already visited.
            // (A scan of every slot cost a pass about a tenth of the guest's time with a table of 13,000 sockets.)
            for (int k = _occupiedCount - 1; k >= 0; k--)
            {
                int i = _occupied[k];
                if (Service(i) && (object)_clock != null)
                {
                    _lastActive[i] = now;
                }
                else if (_connections[i] != null && (object)_clock != null && IdleTimeoutNanoseconds > 0 &&
                         now - _lastActive[i] > IdleTimeoutNanoseconds)
                {
                    IdleClosed++;
                    Drop(i);
                }
            }
        }

        private void AcceptAll()
        {
            while (true)
            {
                Socket accepted;
                if (_listener.Accept(out accepted) != SocketError.Success)
                {
                    return;
                }
                // From where the last free slot was found, so accepting thousands of clients stays linear.
                int slot = -1;
                for (int n = 0; n < _connections.Length; n++)
                {
                    int i = _nextSlot + n < _connections.Length ? _nextSlot + n : _nextSlot + n - _connections.Length;
                    if (_connections[i] == null)
                    {
                        slot = i;
                        _nextSlot = i;
                        break;
                    }
                }
                if (slot < 0)
                {
                    // Every slot taken: a reset now rather than a connection nobody will serve.
                    accepted.Abort();
                    Refused++;
                    continue;
                }
                accepted.NoDelay = true;
                _lastActive[slot] = (object)_clock == null ? 0 : _clock.NowNanoseconds;
                _connections[slot] = accepted;
                _position[slot] = _occupiedCount;
                _occupied[_occupiedCount++] = slot;
                _pendingStart[slot] = 0;
                _pendingEnd[slot] = 0;
                _peerDone[slot] = false;
                Accepted++;
            }
        }

        /// <summary>Echoes what it can; true when bytes moved or the connection changed (activity).</summary>
        private bool Service(int i)
        {
            Socket socket = _connections[i];
            SocketError error;
            bool active = false;
            while (true)
            {
                if (_pendingStart[i] < _pendingEnd[i])
                {
                    int sent = socket.Send(new System.ReadOnlySpan<byte>(_buffers[i], _pendingStart[i], _pendingEnd[i] - _pendingStart[i]), out error);
                    if (sent > 0)
                    {
                        _pendingStart[i] += sent;
                        BytesEchoed += sent;
                        active = true;
                        continue;
                    }
                    if (error != SocketError.WouldBlock)
                    {
                        Drop(i);
                        return true;
                    }
                    return active; // send buffer full: try again next poll
                }
                if (_peerDone[i])
                {
                    // Everything echoed and the peer finished: close (FIN follows the buffered data).
                    ReleaseBuffer(i);
                    socket.Close();
                    Vacate(i);
                    return true;
                }
                if (_buffers[i] == null)
                {
                    if (_freeCount == 0)
                    {
                        return active; // every buffer busy: read on a later poll
                    }
                    _buffers[i] = _free[--_freeCount];
                    _free[_freeCount] = null;
                }
                int received = socket.Receive(_buffers[i], out error);
                if (received > 0)
                {
                    _pendingStart[i] = 0;
                    _pendingEnd[i] = received;
                    active = true;
                    continue;
                }
                ReleaseBuffer(i);
                if (error == SocketError.Success)
                {
                    _peerDone[i] = true; // end of stream
                    active = true;
                    continue;
                }
                if (error != SocketError.WouldBlock)
                {
                    Drop(i);
                    return true;
                }
                return active;
            }
        }

        /// <summary>Gives the slot's buffer back to the shared ones (nothing to echo any more).</summary>
        private void ReleaseBuffer(int i)
        {
            if (_buffers[i] != null)
            {
                _free[_freeCount++] = _buffers[i];
                _buffers[i] = null;
                _pendingStart[i] = 0;
                _pendingEnd[i] = 0;
            }
        }

        private void Drop(int i)
        {
            ReleaseBuffer(i);
            _connections[i].Abort();
            Vacate(i);
        }

        /// <summary>Slot <paramref name="i"/> no longer holds a connection.</summary>
        private void Vacate(int i)
        {
            _connections[i] = null;
            int k = _position[i];
            int last = _occupied[--_occupiedCount];
            _occupied[k] = last;
            _position[last] = k;
        }

        /// <summary>Prints a one-line status (for a shell command).</summary>
        public void PrintStatus(ITextOutput output)
        {
            output.Write("echo: port 7, ");
            output.Write((long)Open);
            output.Write(" open, ");
            output.Write(Accepted);
            output.Write(" accepted, ");
            output.Write(BytesEchoed);
            output.Write(" bytes echoed, ");
            output.Write(Refused);
            output.Write(" refused (all slots taken), ");
            output.Write(IdleClosed);
            output.Write(" reset idle");
            output.WriteLine();
        }
    }
}
