using System;
using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Tcp;

namespace Keel.Net.Sockets
{
    /// <summary>
    /// A non-blocking TCP or UDP socket, shaped like System.Net.Sockets.Socket for a kernel without threads or
    /// exceptions: every call returns at once with a <see cref="SocketError"/> (WouldBlock when nothing can be
    /// done yet). Sockets come from a fixed set made at start-up: create one with NetStack.CreateSocket, get
    /// connections from <see cref="Accept"/>, give them back with <see cref="Close"/>. After Close the object
    /// belongs to the stack again and must not be used (it may be handed out anew).
    /// </summary>
    public sealed unsafe partial class Socket
    {
        private readonly NetStack _stack;
        private readonly int _index;
        private SocketType _socketType = SocketType.Unknown;
        private ProtocolType _protocolType = ProtocolType.Unknown;
        private int _receiveBufferSize;
        private bool _receiveBufferSet;
        private int _sendBufferSize;
        private bool _noDelay;

        internal readonly TcpConnection Tcp;
        internal Socket PoolNext;
        internal bool InPool = true;
        internal bool AppOwned;
        internal bool IsBound;
        internal uint LocalAddress;
        internal int LocalPort;
        internal uint RemoteAddress;
        internal int RemotePort;
        internal uint LastDestination;
        internal SocketError Error;
        internal bool ShutdownSend;
        internal bool ShutdownReceive;

        // UDP
        internal PacketQueue UdpQueue;
        internal Socket UdpNext;
        internal bool OnUdpList;
        internal bool UdpConnected;

        // callbacks
        internal SocketEvents PendingEvents;
        internal Socket EventNext;
        internal bool OnEventList;

        internal Socket(NetStack stack, int index, SendBuffer sendBuffer)
        {
            _stack = stack;
            _index = index;
            Tcp = new TcpConnection(this, stack.Tcp, sendBuffer);
        }

        internal void Open(SocketType socketType, ProtocolType protocolType, bool appOwned)
        {
            InPool = false;
            AppOwned = appOwned;
            _socketType = socketType;
            _protocolType = protocolType;
            NetConfig config = _stack.Config;
            Tcp.Reset(config);
            _receiveBufferSize = protocolType == ProtocolType.Udp ? config.UdpReceiveBufferSize : config.TcpReceiveBufferSize;
            _receiveBufferSet = false;
            _sendBufferSize = config.TcpSendBufferSize;
            _noDelay = false;
            IsBound = false;
            LocalAddress = 0;
            LocalPort = 0;
            RemoteAddress = 0;
            RemotePort = 0;
            LastDestination = 0;
            Error = SocketError.Success;
            ShutdownSend = false;
            ShutdownReceive = false;
            UdpConnected = false;
            PendingEvents = SocketEvents.None;
            Handler = null;
            UserData = null;
            ReuseAddress = false;
        }

        /// <summary>Opens this pooled socket as a not-yet-accepted child of <paramref name="listener"/>.</summary>
        internal void OpenChild(Socket listener)
        {
            Open(SocketType.Stream, ProtocolType.Tcp, false);
            IsBound = true;
            _receiveBufferSize = listener._receiveBufferSize;
            _sendBufferSize = listener._sendBufferSize;
            _noDelay = listener._noDelay;
            Handler = listener.Handler;
        }

        internal void ResetForPool()
        {
            UdpQueue.FreeAll();
            InPool = true;
            AppOwned = false;
            Handler = null;
            UserData = null;
            PendingEvents = SocketEvents.None;
            _socketType = SocketType.Unknown;
            _protocolType = ProtocolType.Unknown;
            Tcp.SetState(TcpState.Closed);
        }

        private bool IsTcp => _protocolType == ProtocolType.Tcp;

        private bool Usable => !InPool && AppOwned;

        // --- creation and addresses ------------------------------------------------------------------

        /// <summary>Stream (TCP) or Dgram (UDP).</summary>
        public SocketType SocketType => _socketType;

        /// <summary>Tcp or Udp.</summary>
        public ProtocolType ProtocolType => _protocolType;

        /// <summary>False once closed (the object is back in the stack's pool).</summary>
        public bool IsOpen => Usable;

        /// <summary>Local address and port (port 0 until bound or connected).</summary>
        public IPEndPoint LocalEndPoint =>
            IsTcp && Tcp.LocalPort != 0
                ? new IPEndPoint(new IPv4Address(Tcp.LocalAddress), Tcp.LocalPort)
                : new IPEndPoint(new IPv4Address(LocalAddress), LocalPort);

        /// <summary>Peer address and port (TCP: when connected; UDP: after Connect).</summary>
        public IPEndPoint RemoteEndPoint =>
            IsTcp ? new IPEndPoint(new IPv4Address(Tcp.RemoteAddress), Tcp.RemotePort)
                  : new IPEndPoint(new IPv4Address(RemoteAddress), RemotePort);

        /// <summary>Binds to a local port (address Any or this host's address). Port 0 picks an ephemeral port.</summary>
        public SocketError Bind(IPEndPoint localEP)
        {
            if (!Usable)
            {
                return SocketError.NotSocket;
            }
            if (IsBound)
            {
                return SocketError.InvalidArgument;
            }
            uint address = localEP.Address.Value;
            if (address != 0 && address != _stack.Config.Address.Value)
            {
                return SocketError.AddressNotAvailable;
            }
            int port = localEP.Port;
            if (port < 0 || port > 65535)
            {
                return SocketError.InvalidArgument;
            }
            int protocol = (int)_protocolType;
            if (port == 0)
            {
                port = _stack.AllocateEphemeralPort(protocol);
                if (port == 0)
                {
                    return SocketError.AddressAlreadyInUse;
                }
            }
            else if (_stack.PortInUse(protocol, port, ReuseAddress))
            {
                return SocketError.AddressAlreadyInUse;
            }
            LocalAddress = address;
            LocalPort = port;
            IsBound = true;
            if (!IsTcp)
            {
                _stack.LinkUdp(this);
            }
            return SocketError.Success;
        }

        // --- TCP server ------------------------------------------------------------------------------

        /// <summary>TCP: starts listening; at most <paramref name="backlog"/> connections wait for Accept.</summary>
        public SocketError Listen(int backlog)
        {
            if (!Usable)
            {
                return SocketError.NotSocket;
            }
            if (!IsTcp)
            {
                return SocketError.OperationNotSupported;
            }
            if (!IsBound)
            {
                return SocketError.InvalidArgument;
            }
            if (Tcp.State == TcpState.Listen)
            {
                Tcp.Backlog = backlog < 1 ? 1 : backlog;
                return SocketError.Success;
            }
            if (Tcp.State != TcpState.Closed || Tcp.RemotePort != 0)
            {
                return SocketError.IsConnected;
            }
            Tcp.LocalAddress = LocalAddress;
            Tcp.LocalPort = LocalPort;
            Tcp.Backlog = backlog < 1 ? 1 : backlog;
            Tcp.NoDelay = _noDelay;
            Tcp.SendBufferSize = _sendBufferSize;
            Tcp.ReceiveBufferSize = _receiveBufferSize;
            Tcp.ReceiveTuning.Enabled &= !_receiveBufferSet;
            Tcp.Listen();
            return SocketError.Success;
        }

        /// <summary>
        /// TCP: takes one established connection. WouldBlock when none is waiting. The new socket inherits
        /// <see cref="NoDelay"/>, buffer sizes and <see cref="Handler"/> from the listener.
        /// </summary>
        public SocketError Accept(out Socket accepted)
        {
            accepted = null;
            if (!Usable)
            {
                return SocketError.NotSocket;
            }
            if (!IsTcp)
            {
                return SocketError.OperationNotSupported;
            }
            if (Tcp.State != TcpState.Listen)
            {
                return SocketError.InvalidArgument;
            }
            TcpConnection child = Tcp.TakeEstablishedChild();
            if (child == null)
            {
                return SocketError.WouldBlock;
            }
            Socket socket = child.Socket;
            socket.AppOwned = true;
            socket.LocalAddress = child.LocalAddress;
            socket.LocalPort = child.LocalPort;
            accepted = socket;
            return SocketError.Success;
        }

        // --- TCP client / UDP default peer -----------------------------------------------------------

        /// <summary>
        /// TCP: starts the handshake and returns InProgress; Poll(SelectWrite) turns true once connected, or
        /// Poll(SelectError) with <see cref="PendingError"/> = ConnectionRefused / TimedOut.
        /// UDP: sets the default destination used by Send and filters received datagrams to that peer.
        /// </summary>
        public SocketError Connect(IPEndPoint remoteEP)
        {
            if (!Usable)
            {
                return SocketError.NotSocket;
            }
            uint address = remoteEP.Address.Value;
            if (address == 0 || remoteEP.Port <= 0 || remoteEP.Port > 65535)
            {
                return SocketError.InvalidArgument;
            }
            if (!_stack.Routable(address))
            {
                return SocketError.NetworkUnreachable;
            }
            if (!IsBound)
            {
                SocketError bound = Bind(new IPEndPoint(IPv4Address.Any, 0));
                if (bound != SocketError.Success)
                {
                    return bound;
                }
            }
            if (!IsTcp)
            {
                RemoteAddress = address;
                RemotePort = remoteEP.Port;
                UdpConnected = true;
                return SocketError.Success;
            }
            if (Tcp.State == TcpState.SynSent)
            {
                return SocketError.AlreadyInProgress;
            }
            if (Tcp.State != TcpState.Closed || Tcp.RemotePort != 0)
            {
                return SocketError.IsConnected;
            }
            uint local = LocalAddress != 0 ? LocalAddress : _stack.Config.Address.Value;
            if (_stack.Tcp.Lookup(local, LocalPort, address, remoteEP.Port) != null)
            {
                return SocketError.AddressAlreadyInUse;
            }
            Tcp.LocalAddress = local;
            Tcp.LocalPort = LocalPort;
            Tcp.RemoteAddress = address;
            Tcp.RemotePort = remoteEP.Port;
            Tcp.NoDelay = _noDelay;
            Tcp.SendBufferSize = _sendBufferSize;
            Tcp.ReceiveBufferSize = _receiveBufferSize;
            Tcp.ReceiveTuning.Enabled &= !_receiveBufferSet;
            Tcp.Connect(_stack.Now);
            return SocketError.InProgress;
        }

        /// <summary>TCP: true while data can flow (Established or CloseWait). UDP: true after Connect.</summary>
        public bool Connected =>
            IsTcp ? Tcp.State == TcpState.Established || Tcp.State == TcpState.CloseWait : UdpConnected;

        // --- closing ---------------------------------------------------------------------------------

        /// <summary>TCP: Send queues a FIN after the buffered data; Receive discards further data. UDP: flags only.</summary>
        public SocketError Shutdown(SocketShutdown how)
        {
            if (!Usable)
            {
                return SocketError.NotSocket;
            }
            bool send = how == SocketShutdown.Send || how == SocketShutdown.Both;
            bool receive = how == SocketShutdown.Receive || how == SocketShutdown.Both;
            if (IsTcp)
            {
                TcpState state = Tcp.State;
                if (state == TcpState.Closed || state == TcpState.Listen || state == TcpState.SynSent)
                {
                    return SocketError.NotConnected;
                }
                if (receive)
                {
                    ShutdownReceive = true;
                    Tcp.ReceiveShutdown = true;
                    Tcp.FreeReceiveQueues(false);
                }
                if (send)
                {
                    ShutdownSend = true;
                    Tcp.QueueFin(_stack.Now);
                }
                return SocketError.Success;
            }
            if (send)
            {
                ShutdownSend = true;
            }
            if (receive)
            {
                ShutdownReceive = true;
                UdpQueue.FreeAll();
            }
            return SocketError.Success;
        }

        /// <summary>
        /// Graceful close: TCP sends what is buffered then FIN and finishes the close in the background (the
        /// object returns to the pool after TIME_WAIT or LAST_ACK); unread received data makes it a reset, as in
        /// Linux. The caller must not touch the socket afterwards.
        /// </summary>
        public void Close()
        {
            if (!Usable)
            {
                return;
            }
            AppOwned = false;
            Handler = null;
            if (IsTcp)
            {
                Tcp.Close(_stack.Now);
                return;
            }
            _stack.ReleaseSocket(this);
        }

        /// <summary>Abortive close: TCP sends RST at once (SO_LINGER 0). The caller must not touch the socket afterwards.</summary>
        public void Abort()
        {
            if (InPool)
            {
                return;
            }
            AppOwned = false;
            Handler = null;
            if (IsTcp)
            {
                Tcp.Orphan = true;
                Tcp.Abort();
                return;
            }
            _stack.ReleaseSocket(this);
        }
    }
}
