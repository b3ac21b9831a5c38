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
    internal sealed class SocketTable : IPoolMaker<Socket>
    {
        internal const int EphemeralPortFirst = 49152;
        internal const int EphemeralPortCount = 16384;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;
        /// <summary>The sockets: some made at start-up, the rest when first needed.</summary>
        private readonly LazyPool<Socket> _sockets;

        /// <summary>Port index: bound sockets chained by <c>port &amp; _portMask</c> (see <see cref="IndexPort"/>).</summary>
        private readonly Socket[] _ports;
        private readonly int _portMask;
        private Socket _eventHead;
        private Socket _eventTail;
        private int _nextEphemeral;

        public SocketTable(NetStack stack, NetConfig config, uint ephemeralSeed)
        {
            Stack = stack;
            Counters = stack.Counters;
            _sockets = new LazyPool<Socket>(config.MaxSockets, config.PreallocatedSockets, this);
            int buckets = 64;
            while (buckets < config.MaxSockets && buckets < 65536)
            {
                buckets <<= 1;
            }
            _ports = new Socket[buckets];
            _portMask = buckets - 1;
            _nextEphemeral = (int)(ephemeralSeed % EphemeralPortCount);
            Counters[NetStatistics.SocketsMax] = config.MaxSockets;
        }

        /// <summary>Number of sockets (free or in use).</summary>
        internal int Capacity => _sockets.Limit;

        /// <summary>Sockets made so far (the table's first ones; the rest are made when first needed).</summary>
        internal int Made => _sockets.Made;

        /// <summary>The socket at <paramref name="index"/> (0 to <see cref="Made"/> − 1), in use or not.</summary>
        internal Socket At(int index) => _sockets.At(index);

        /// <summary>Sockets not in use.</summary>
        internal int FreeCount => _sockets.Limit - (int)Counters[NetStatistics.SocketsInUse];

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
                _sockets.Give(socket);
                Counters[NetStatistics.SocketsInUse]--;
                socket = null;
            }
            return socket;
        }

        /// <summary>
        /// The next socket of the table. The table's memory was set aside when it was sized
        /// (<see cref="NetConfig.SocketsForMemory"/>); making the sockets when first needed keeps start-up short.
        /// </summary>
        Socket IPoolMaker<Socket>.Make(int index) => new Socket(Stack, index);

        /// <summary>A socket from the pool (made now if the table is not all made yet), or the TIME_WAIT connection closest to expiry; null when none.</summary>
        private Socket Allocate()
        {
            Socket socket = _sockets.Take();
            if (socket == null)
            {
                // Recycle the TIME_WAIT connection closest to expiry (RFC 1122 allows reusing TIME_WAIT state).
                TcpConnection oldest = Stack.Tcp.OldestOrphanInTimeWait();
                if (oldest == null)
                {
                    Counters[NetStatistics.TcpSocketExhausted]++;
                    return null;
                }
                Counters[NetStatistics.TcpTimewaitRecycled]++;
                oldest.EnterClosed(SocketError.Success);
                socket = _sockets.Take();
                if (socket == null)
                {
                    return null;
                }
            }
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
            UnindexPort(socket);
            socket.ResetForPool();
            _sockets.Give(socket);
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
        /// Puts <paramref name="socket"/> in the port index under its local port (after a bind, or when a listener's
        /// child takes its port), so <see cref="PortInUse"/> looks only at the sockets whose port shares its bucket.
        /// A socket stays indexed until it goes back to the pool.
        /// </summary>
        internal void IndexPort(Socket socket)
        {
            int port = socket.BoundPort;
            if (port == socket.IndexedPort)
            {
                return;
            }
            UnindexPort(socket);
            if (port == 0)
            {
                return;
            }
            int bucket = port & _portMask;
            Socket head = _ports[bucket];
            socket.IndexedPort = port;
            socket.PortPrev = null;
            socket.PortNext = head;
            if (head != null)
            {
                head.PortPrev = socket;
            }
            _ports[bucket] = socket;
        }

        /// <summary>Takes <paramref name="socket"/> out of the port index (nothing when it is not in it).</summary>
        private void UnindexPort(Socket socket)
        {
            if (socket.IndexedPort == 0)
            {
                return;
            }
            if (socket.PortPrev == null)
            {
                _ports[socket.IndexedPort & _portMask] = socket.PortNext;
            }
            else
            {
                socket.PortPrev.PortNext = socket.PortNext;
            }
            if (socket.PortNext != null)
            {
                socket.PortNext.PortPrev = socket.PortPrev;
            }
            socket.PortNext = null;
            socket.PortPrev = null;
            socket.IndexedPort = 0;
        }

        /// <summary>
        /// True when another bound socket of <paramref name="protocol"/> holds <paramref name="port"/> on an address a
        /// binding to <paramref name="address"/> (with <paramref name="v6Only"/>) would share (Socket.BindingsOverlap).
        /// </summary>
        internal bool PortInUse(int protocol, IPAddress address, bool v6Only, int port, bool reuse)
        {
            for (Socket s = _ports[port & _portMask]; s != null; s = s.PortNext)
            {
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
            int budget = _sockets.Limit * 4;
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
            for (int i = 0; i < _sockets.Made; i++)
            {
                Socket s = _sockets.At(i);
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
            output.Write((long)_sockets.Limit);
            output.Write("):");
            output.WriteLine();
            for (int i = 0; i < _sockets.Made; i++)
            {
                if (!_sockets.At(i).InPool)
                {
                    _sockets.At(i).PrintLine(output);
                }
            }
        }
    }
}
