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
    public sealed unsafe class Socket
    {
        private readonly NetStack _stack;
        private readonly int _index;
        private SocketType _socketType = SocketType.Unknown;
        private ProtocolType _protocolType = ProtocolType.Unknown;
        private int _receiveBufferSize;
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
            Tcp.State = TcpState.Closed;
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
            Tcp.State = TcpState.Listen;
            _stack.Tcp.AddListener(Tcp);
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
            Tcp.Connect(_stack.Now);
            return SocketError.InProgress;
        }

        /// <summary>TCP: true while data can flow (Established or CloseWait). UDP: true after Connect.</summary>
        public bool Connected =>
            IsTcp ? Tcp.State == TcpState.Established || Tcp.State == TcpState.CloseWait : UdpConnected;

        // --- data ------------------------------------------------------------------------------------

        /// <summary>
        /// TCP: copies as much as fits into the send buffer and returns the count (may be less than asked);
        /// WouldBlock when the buffer is full. UDP: sends one datagram to the connected peer.
        /// </summary>
        public int Send(ReadOnlySpan<byte> buffer, out SocketError error)
        {
            fixed (byte* p = buffer)
            {
                return Send(p, buffer.Length, out error);
            }
        }

        /// <summary>Pointer form of <see cref="Send(ReadOnlySpan{byte}, out SocketError)"/>.</summary>
        public int Send(byte* buffer, int size, out SocketError error)
        {
            if (!Usable)
            {
                error = SocketError.NotSocket;
                return 0;
            }
            if (size < 0 || (buffer == null && size > 0))
            {
                error = SocketError.InvalidArgument;
                return 0;
            }
            if (IsTcp)
            {
                if (ShutdownSend)
                {
                    error = SocketError.Shutdown;
                    return 0;
                }
                return Tcp.Write(buffer, size, out error);
            }
            if (!UdpConnected)
            {
                error = SocketError.DestinationAddressRequired;
                return 0;
            }
            return UdpSend(buffer, size, RemoteAddress, RemotePort, out error);
        }

        /// <summary>
        /// TCP: copies received bytes (one copy, out of the driver's pages) and returns the count; returns 0 with
        /// Success at end of stream (peer sent FIN); WouldBlock when nothing is buffered.
        /// UDP: one datagram (truncated with MessageSize if the buffer is smaller).
        /// </summary>
        public int Receive(Span<byte> buffer, out SocketError error)
        {
            fixed (byte* p = buffer)
            {
                return Receive(p, buffer.Length, out error);
            }
        }

        /// <summary>Pointer form of <see cref="Receive(Span{byte}, out SocketError)"/>.</summary>
        public int Receive(byte* buffer, int size, out SocketError error)
        {
            if (size < 0 || (buffer == null && size > 0))
            {
                error = SocketError.InvalidArgument;
                return 0;
            }
            IPEndPoint ignored;
            return ReceiveCore(buffer, size, false, out ignored, out error);
        }

        /// <summary>
        /// TCP: consumes up to <paramref name="size"/> received bytes without copying them anywhere (a sink such
        /// as an iperf3 receiver). Same results as Receive.
        /// </summary>
        public int Discard(int size, out SocketError error)
        {
            IPEndPoint ignored;
            return ReceiveCore(null, size, true, out ignored, out error);
        }

        private int ReceiveCore(byte* buffer, int size, bool discard, out IPEndPoint from, out SocketError error)
        {
            from = default;
            if (!Usable)
            {
                error = SocketError.NotSocket;
                return 0;
            }
            if (IsTcp)
            {
                if (ShutdownReceive)
                {
                    error = SocketError.Success;
                    return 0;
                }
                if (size == 0)
                {
                    error = SocketError.Success;
                    return 0;
                }
                return Tcp.Read(discard ? null : buffer, size, out error);
            }
            Packet datagram = UdpQueue.Dequeue();
            if (datagram == null)
            {
                if (Error != SocketError.Success)
                {
                    error = Error;
                    Error = SocketError.Success;
                    return 0;
                }
                error = SocketError.WouldBlock;
                return 0;
            }
            from = new IPEndPoint(new IPv4Address(datagram.Tag), (int)datagram.Timestamp);
            int length = datagram.Length;
            int copied = length < size ? length : size;
            if (!discard && copied > 0)
            {
                datagram.CopyTo(0, buffer, copied);
            }
            datagram.Free();
            error = copied < length && !discard ? SocketError.MessageSize : SocketError.Success;
            return discard ? length : copied;
        }

        /// <summary>UDP: sends one datagram to <paramref name="remoteEP"/>. MessageSize when it exceeds the MTU.</summary>
        public int SendTo(ReadOnlySpan<byte> buffer, IPEndPoint remoteEP, out SocketError error)
        {
            if (!Usable)
            {
                error = SocketError.NotSocket;
                return 0;
            }
            if (IsTcp)
            {
                error = SocketError.OperationNotSupported;
                return 0;
            }
            if (remoteEP.Address.Value == 0 || remoteEP.Port <= 0 || remoteEP.Port > 65535)
            {
                error = SocketError.InvalidArgument;
                return 0;
            }
            fixed (byte* p = buffer)
            {
                return UdpSend(p, buffer.Length, remoteEP.Address.Value, remoteEP.Port, out error);
            }
        }

        private int UdpSend(byte* data, int size, uint address, int port, out SocketError error)
        {
            if (ShutdownSend)
            {
                error = SocketError.Shutdown;
                return 0;
            }
            if (Error != SocketError.Success)
            {
                error = Error;
                Error = SocketError.Success;
                return 0;
            }
            if (!IsBound)
            {
                SocketError bound = Bind(new IPEndPoint(IPv4Address.Any, 0));
                if (bound != SocketError.Success)
                {
                    error = bound;
                    return 0;
                }
            }
            error = _stack.UdpOutput(this, data, size, address, port);
            return error == SocketError.Success ? size : 0;
        }

        /// <summary>UDP: takes one datagram and its sender. WouldBlock when none is queued.</summary>
        public int ReceiveFrom(Span<byte> buffer, out IPEndPoint remoteEP, out SocketError error)
        {
            if (IsTcp)
            {
                remoteEP = default;
                error = Usable ? SocketError.OperationNotSupported : SocketError.NotSocket;
                return 0;
            }
            fixed (byte* p = buffer)
            {
                return ReceiveCore(p, buffer.Length, false, out remoteEP, out error);
            }
        }

        /// <summary>Bytes (TCP) or bytes of the next datagram (UDP) ready to read.</summary>
        public int Available
        {
            get
            {
                if (!Usable)
                {
                    return 0;
                }
                if (IsTcp)
                {
                    return Tcp.ReceiveQueue.Bytes;
                }
                Packet head = UdpQueue.Peek();
                return head == null ? 0 : head.Length;
            }
        }

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

        // --- readiness -------------------------------------------------------------------------------

        /// <summary>Non-blocking readiness query (System.Net Socket.Poll with a zero timeout).</summary>
        public bool Poll(SelectMode mode)
        {
            if (!Usable)
            {
                return mode == SelectMode.SelectError;
            }
            if (!IsTcp)
            {
                if (mode == SelectMode.SelectRead)
                {
                    return !UdpQueue.IsEmpty || Error != SocketError.Success;
                }
                if (mode == SelectMode.SelectWrite)
                {
                    return !ShutdownSend;
                }
                return Error != SocketError.Success;
            }
            TcpState state = Tcp.State;
            if (mode == SelectMode.SelectRead)
            {
                if (state == TcpState.Listen)
                {
                    return Tcp.HasEstablishedChild;
                }
                return !Tcp.ReceiveQueue.IsEmpty || Tcp.FinReceived || Tcp.Error != SocketError.Success ||
                       ShutdownReceive || (state == TcpState.Closed && Tcp.RemotePort != 0);
            }
            if (mode == SelectMode.SelectWrite)
            {
                if (Tcp.Error != SocketError.Success)
                {
                    return true;
                }
                return (state == TcpState.Established || state == TcpState.CloseWait) && !ShutdownSend &&
                       Tcp.Send.Length < Tcp.SendBufferSize;
            }
            return Tcp.Error != SocketError.Success;
        }

        /// <summary>Callback for readiness changes; null for none. See <see cref="ISocketHandler"/>.</summary>
        public ISocketHandler Handler { get; set; }

        /// <summary>Free slot for the application (for example its per-connection object).</summary>
        public object UserData { get; set; }

        /// <summary>The error that ended the connection (SO_ERROR), Success while there is none.</summary>
        public SocketError PendingError => IsTcp ? Tcp.Error : Error;

        // --- options ---------------------------------------------------------------------------------

        /// <summary>TCP_NODELAY: true disables Nagle's algorithm (small segments go out at once).</summary>
        public bool NoDelay
        {
            get => _noDelay;
            set
            {
                _noDelay = value;
                Tcp.NoDelay = value;
                if (value && IsTcp && Tcp.CanSendData)
                {
                    Tcp.Output(_stack.Now);
                }
            }
        }

        /// <summary>
        /// SO_KEEPALIVE (TCP): probe an idle peer and reset the connection when it stops answering (RFC 9293
        /// section 3.8.4). Timing from <see cref="SetKeepAlive"/> or the stack's defaults (Linux's: 7200 s idle,
        /// 75 s interval, 9 probes). Accepted connections inherit the listener's setting.
        /// </summary>
        public bool KeepAlive
        {
            get => Tcp.KeepAlive;
            set
            {
                Tcp.KeepAlive = value;
                Tcp.ArmKeepAlive(_stack.Now);
            }
        }

        /// <summary>
        /// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT together, and turns keepalive on: the first probe after
        /// <paramref name="idleMilliseconds"/> without a segment from the peer, then one every
        /// <paramref name="intervalMilliseconds"/>; after <paramref name="probes"/> unanswered ones the connection is
        /// reset and its error is TimedOut.
        /// </summary>
        public void SetKeepAlive(int idleMilliseconds, int intervalMilliseconds, int probes)
        {
            Tcp.KeepAliveIdleMs = idleMilliseconds > 0 ? idleMilliseconds : 1;
            Tcp.KeepAliveIntervalMs = intervalMilliseconds > 0 ? intervalMilliseconds : 1;
            Tcp.KeepAliveCount = probes > 0 ? probes : 1;
            KeepAlive = true;
        }

        /// <summary>SO_SNDBUF, bytes. Set before Connect/Listen for best effect.</summary>
        public int SendBufferSize
        {
            get => _sendBufferSize;
            set
            {
                int limit = Tcp.Send.Capacity;
                _sendBufferSize = value < 4096 ? 4096 : value > limit ? limit : value;
                Tcp.SendBufferSize = _sendBufferSize;
            }
        }

        /// <summary>SO_RCVBUF, bytes: TCP receive window / UDP queue limit. Set before Connect/Listen.</summary>
        public int ReceiveBufferSize
        {
            get => _receiveBufferSize;
            set
            {
                _receiveBufferSize = value < 4096 ? 4096 : value > (1 << 24) ? 1 << 24 : value;
                if (Tcp.State == TcpState.Closed || Tcp.State == TcpState.Listen)
                {
                    Tcp.ReceiveBufferSize = _receiveBufferSize;
                }
            }
        }

        /// <summary>SO_REUSEADDR: lets Bind use a port another socket holds (UDP) or one in TIME_WAIT (TCP).</summary>
        public bool ReuseAddress { get; set; }

        // --- TCP details -----------------------------------------------------------------------------

        /// <summary>TCP state (Closed for UDP).</summary>
        public TcpState State => IsTcp ? Tcp.State : TcpState.Closed;

        /// <summary>Fills <paramref name="info"/> with the connection's numbers (TCP_INFO).</summary>
        public void GetTcpInfo(out TcpInfo info)
        {
            if (!IsTcp)
            {
                info = default;
                return;
            }
            Tcp.GetInfo(out info);
        }

        /// <summary>Number of this socket in the stack's pool (stable for the stack's life).</summary>
        public int Index => _index;

        internal void PrintLine(ITextOutput output)
        {
            output.Write("  ");
            output.Write((long)_index);
            if (IsTcp)
            {
                output.Write(" tcp ");
                LocalEndPoint.WriteTo(output);
                output.Write(' ');
                RemoteEndPoint.WriteTo(output);
                output.Write(' ');
                output.Write(StateName(Tcp.State));
                if (!AppOwned)
                {
                    output.Write(Tcp.Parent != null ? " (not accepted)" : " (closed by app)");
                }
                output.Write(" rxq ");
                output.Write((long)Tcp.ReceiveQueue.Bytes);
                output.Write(" ooo ");
                output.Write((long)Tcp.OooBytes);
                output.Write(" txq ");
                output.Write((long)Tcp.Send.Length);
                output.Write(" retrans ");
                output.Write(Tcp.Retransmits);
                output.Write(" rtt ");
                output.Write(Tcp.SrttUs);
                output.Write("us cwnd ");
                output.Write(Tcp.Cwnd);
                output.Write(" wnd ");
                output.Write(Tcp.SndWnd);
                if (Tcp.Error != SocketError.Success)
                {
                    output.Write(" error ");
                    output.Write((long)Tcp.Error);
                }
                if (Tcp.State != TcpState.Listen && Tcp.State != TcpState.Closed)
                {
                    output.WriteLine();
                    Tcp.PrintDetails(output);
                    return;
                }
            }
            else
            {
                output.Write(" udp ");
                LocalEndPoint.WriteTo(output);
                output.Write(' ');
                RemoteEndPoint.WriteTo(output);
                output.Write(" rxq ");
                output.Write((long)UdpQueue.Count);
                output.Write(" datagrams");
            }
            output.WriteLine();
        }

        internal static string StateName(TcpState state)
        {
            switch (state)
            {
                case TcpState.Closed: return "CLOSED";
                case TcpState.Listen: return "LISTEN";
                case TcpState.SynSent: return "SYN_SENT";
                case TcpState.SynReceived: return "SYN_RECV";
                case TcpState.Established: return "ESTABLISHED";
                case TcpState.FinWait1: return "FIN_WAIT1";
                case TcpState.FinWait2: return "FIN_WAIT2";
                case TcpState.CloseWait: return "CLOSE_WAIT";
                case TcpState.Closing: return "CLOSING";
                case TcpState.LastAck: return "LAST_ACK";
                case TcpState.TimeWait: return "TIME_WAIT";
                default: return "?";
            }
        }
    }
}
