using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Ip;
using Keel.Net.Tcp;

namespace Keel.Net.Sockets
{
    /// <summary>
    /// Every socket of the stack: the free pool behind <see cref="NetStack.CreateSocket"/> and
    /// Accept (TIME_WAIT connections are recycled when it runs dry), local port bookkeeping (ephemeral ports,
    /// conflicts), and the queue of readiness events delivered to socket handlers at the end of each batch.
    /// </summary>
    internal sealed class SocketTable
    {
        internal const int EphemeralPortFirst = 49152;
        internal const int EphemeralPortCount = 16384;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;
        private readonly Socket[] _sockets;

        /// <summary>Sockets made so far (<c>_sockets[0.._made)</c>); the rest of the table is made on first need.</summary>
        private int _made;
        private Socket _free;
        private Socket _eventHead;
        private Socket _eventTail;
        private int _nextEphemeral;

        public SocketTable(NetStack stack, NetConfig config, uint ephemeralSeed)
        {
            Stack = stack;
            Counters = stack.Counters;
            _sockets = new Socket[config.MaxSockets];
            int early = config.PreallocatedSockets;
            for (int i = 0; i < early; i++)
            {
                Make();
            }
            _nextEphemeral = (int)(ephemeralSeed % EphemeralPortCount);
            Counters[NetStatistics.SocketsMax] = config.MaxSockets;
        }

        /// <summary>Number of sockets (free or in use).</summary>
        internal int Capacity => _sockets.Length;

        /// <summary>Sockets made so far (the table's first ones; the rest are made when first needed).</summary>
        internal int Made => _made;

        /// <summary>The socket at <paramref name="index"/> (0 to <see cref="Made"/> − 1), in use or not.</summary>
        internal Socket At(int index) => _sockets[index];

        /// <summary>Sockets not in use.</summary>
        internal int FreeCount => _sockets.Length - (int)Counters[NetStatistics.SocketsInUse];

        /// <summary>
        /// Sockets a new connection may take: the free ones and the orphaned TIME_WAIT ones (recycled when the
        /// pool runs dry).
        /// </summary>
        internal int AvailableCount => FreeCount + (int)Counters[NetStatistics.TcpTimewait];

        /// <summary>
        /// A socket in use for <paramref name="protocol"/> (with its connection or endpoint), owned by the application
        /// or not yet accepted; null when every socket is in use (after recycling TIME_WAIT) or its layer's pool is empty.
        /// </summary>
        internal Socket Open(ProtocolType protocol, bool appOwned)
        {
            Socket socket = Allocate();
            if (socket != null && !socket.Open(protocol, appOwned))
            {
                socket.PoolNext = _free;
                _free = socket;
                Counters[NetStatistics.SocketsInUse]--;
                socket = null;
            }
            return socket;
        }

        /// <summary>
        /// Makes the next socket of the table and puts it in the free pool. The table's memory was set aside when it was
        /// sized (<see cref="NetConfig.SocketsForMemory"/>); making the sockets when first needed keeps start-up short.
        /// </summary>
        private void Make()
        {
            Socket socket = new Socket(Stack, _made);
            _sockets[_made++] = socket;
            socket.PoolNext = _free;
            _free = socket;
        }

        /// <summary>A socket from the pool (made now if the table is not all made yet), or the TIME_WAIT connection closest to expiry; null when none.</summary>
        private Socket Allocate()
        {
            if (_free == null && _made < _sockets.Length)
            {
                Make();
            }
            Socket socket = _free;
            if (socket == null)
            {
                // Recycle the TIME_WAIT connection closest to expiry (RFC 1122 allows reusing TIME_WAIT state).
                TcpConnection oldest = null;
                for (int i = 0; i < _made; i++)
                {
                    TcpConnection c = _sockets[i].Tcp;
                    if (c != null && c.State == TcpState.TimeWait && c.Orphan &&
                        (oldest == null || c.Timers.Deadline(TcpTimer.TimeWait) < oldest.Timers.Deadline(TcpTimer.TimeWait)))
                    {
                        oldest = c;
                    }
                }
                if (oldest == null)
                {
                    Counters[NetStatistics.TcpSocketExhausted]++;
                    return null;
                }
                Counters[NetStatistics.TcpTimewaitRecycled]++;
                oldest.EnterClosed(SocketError.Success);
                socket = _free;
                if (socket == null)
                {
                    return null;
                }
            }
            _free = socket.PoolNext;
            socket.PoolNext = null;
            Counters[NetStatistics.SocketsInUse]++;
            return socket;
        }

        /// <summary>Gives a socket whose application and protocol are both done with it back to the pool.</summary>
        internal void Release(Socket socket)
        {
            if (socket.InPool)
            {
                return;
            }
            socket.ResetForPool();
            socket.PoolNext = _free;
            _free = socket;
            Counters[NetStatistics.SocketsInUse]--;
        }

        /// <summary>
        /// A local port from the ephemeral range (RFC 6335) that a binding to <paramref name="address"/> (with
        /// <paramref name="v6Only"/>) may take, or 0 when all are taken.
        /// </summary>
        internal int AllocateEphemeralPort(int protocol, IPAddress address, bool v6Only)
        {
            for (int attempt = 0; attempt < EphemeralPortCount; attempt++)
            {
                int port = EphemeralPortFirst + _nextEphemeral;
                _nextEphemeral = (_nextEphemeral + 1) % EphemeralPortCount;
                if (!PortInUse(protocol, address, v6Only, port, false))
                {
                    return port;
                }
            }
            return 0;
        }

        /// <summary>
        /// True when another bound socket of <paramref name="protocol"/> holds <paramref name="port"/> on an address a
        /// binding to <paramref name="address"/> (with <paramref name="v6Only"/>) would share (Socket.BindingsOverlap).
        /// </summary>
        internal bool PortInUse(int protocol, IPAddress address, bool v6Only, int port, bool reuse)
        {
            for (int i = 0; i < _made; i++)
            {
                Socket s = _sockets[i];
                if (s.InPool || s.BoundPort != port || (int)s.ProtocolType != protocol ||
                    !Socket.BindingsOverlap(s.Local.Address, s.V6Only, address, v6Only))
                {
                    continue;
                }
                if (protocol == Ipv4Layer.ProtocolUdp)
                {
                    if (!reuse || !s.ReuseAddress)
                    {
                        return true;
                    }
                }
                else
                {
                    TcpState state = s.Tcp.State;
                    if (state == TcpState.Listen || s.Tcp.Parent == null && state == TcpState.Closed)
                    {
                        return true;
                    }
                    if (state == TcpState.TimeWait && !reuse)
                    {
                        return true;
                    }
                }
            }
            return false;
        }

        /// <summary>Records readiness changes for the socket's handler (delivered by <see cref="DispatchEvents"/>).</summary>
        internal void Notify(Socket socket, SocketEvents events)
        {
            if (socket.Handler == null || socket.InPool)
            {
                return;
            }
            socket.PendingEvents |= events;
            if (!socket.OnEventList)
            {
                socket.OnEventList = true;
                socket.EventNext = null;
                if (_eventTail == null)
                {
                    _eventHead = socket;
                }
                else
                {
                    _eventTail.EventNext = socket;
                }
                _eventTail = socket;
            }
        }

        /// <summary>Calls the handlers of sockets with pending events, in the order the events came.</summary>
        internal void DispatchEvents()
        {
            // Handlers may cause new events; bound the work per call.
            int budget = _sockets.Length * 4;
            while (_eventHead != null && budget-- > 0)
            {
                Socket socket = _eventHead;
                _eventHead = socket.EventNext;
                if (_eventHead == null)
                {
                    _eventTail = null;
                }
                socket.EventNext = null;
                socket.OnEventList = false;
                SocketEvents events = socket.PendingEvents;
                socket.PendingEvents = SocketEvents.None;
                ISocketHandler handler = socket.Handler;
                if (handler != null && events != SocketEvents.None && !socket.InPool)
                {
                    handler.OnSocketEvent(socket, events);
                }
            }
        }

        /// <summary>Aborts every socket in use (RST for TCP) and returns it to the pool; drops pending events.</summary>
        internal void CloseAll()
        {
            for (int i = 0; i < _made; i++)
            {
                Socket s = _sockets[i];
                if (!s.InPool)
                {
                    s.Abort();
                    Release(s);
                }
            }
            _eventHead = null;
            _eventTail = null;
        }

        /// <summary>Prints one line per socket in use.</summary>
        internal void Print(ITextOutput output)
        {
            output.Write("sockets (");
            output.Write((long)FreeCount);
            output.Write(" free of ");
            output.Write((long)_sockets.Length);
            output.Write("):");
            output.WriteLine();
            for (int i = 0; i < _made; i++)
            {
                if (!_sockets[i].InPool)
                {
                    _sockets[i].PrintLine(output);
                }
            }
        }
    }
}
