using System;
using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Tcp;
using Keel.Net.Udp;

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

        /// <summary>The connection of a stream socket (null for a datagram socket and while pooled).</summary>
        private TcpConnection _tcp;

        /// <summary>The endpoint of a datagram socket (null for a stream socket and while pooled).</summary>
        private UdpEndpoint _udp;

        /// <summary>
        /// An IPv6 socket (bound, connected or accepted through an IPv6 address, as Linux's AF_INET6): the IPv4 endpoints
        /// it reports are IPv4-mapped (::ffff:a.b.c.d). Inside the stack they stay IPv4.
        /// </summary>
        private bool _ipv6Api;

        // the socket table's port index (see SocketTable.IndexPort)
        internal Socket PortNext;
        internal Socket PortPrev;
        internal int IndexedPort;

        internal bool InPool = true;
        internal bool AppOwned;

        // callbacks
        internal SocketEvents PendingEvents;
        internal Socket EventNext;
        internal bool OnEventList;

        internal Socket(NetStack stack, int index)
        {
            _stack = stack;
            _index = index;
        }

        /// <summary>The TCP connection this socket refers to; null for UDP.</summary>
        internal TcpConnection Tcp => _tcp;

        /// <summary>
        /// Takes this pooled socket into use with a fresh connection (Tcp) or endpoint (Udp) from its layer's pool;
        /// false, with the socket still pooled, when that pool is empty.
        /// </summary>
        internal bool Open(ProtocolType protocolType, bool appOwned)
        {
            if (protocolType == ProtocolType.Tcp)
            {
                _tcp = _stack.Tcp.Open(this);
            }
            else
            {
                _udp = _stack.Udp.Open(this);
            }
            if (_tcp == null && _udp == null)
            {
                return false;
            }
            InPool = false;
            AppOwned = appOwned;
            PendingEvents = SocketEvents.None;
            Handler = null;
            UserData = null;
            ReuseAddress = false;
            V6Only = false;
            _ipv6Api = false;
            return true;
        }

        /// <summary>Gives the connection or endpoint back to its layer's pool; the socket is pooled again.</summary>
        internal void ResetForPool()
        {
            if (_udp != null)
            {
                _stack.Udp.Release(_udp);
                _udp = null;
            }
            if (_tcp != null)
            {
                _stack.Tcp.Release(_tcp);
                _tcp = null;
            }
            InPool = true;
            AppOwned = false;
            _ipv6Api = false;
            Handler = null;
            UserData = null;
            PendingEvents = SocketEvents.None;
        }

        private bool IsTcp => _tcp != null;

        private bool Usable => !InPool && AppOwned;

        /// <summary>The local port this socket holds (0 when unbound).</summary>
        internal int BoundPort => _tcp != null ? _tcp.Local.Port : _udp != null ? _udp.Local.Port : 0;

        private bool IsBound => BoundPort != 0;

        // --- creation and addresses ------------------------------------------------------------------

        /// <summary>Stream (TCP) or Dgram (UDP); Unknown once back in the pool.</summary>
        public SocketType SocketType => _tcp != null ? SocketType.Stream : _udp != null ? SocketType.Dgram : SocketType.Unknown;

        /// <summary>Tcp or Udp; Unknown once back in the pool.</summary>
        public ProtocolType ProtocolType => _tcp != null ? ProtocolType.Tcp : _udp != null ? ProtocolType.Udp : ProtocolType.Unknown;

        /// <summary>False once closed (the object is back in the stack's pool).</summary>
        public bool IsOpen => Usable;

        /// <summary>
        /// Local address and port (port 0 until bound or connected). An IPv6 socket (bound to an IPv6 address, or
        /// accepted from a listener bound to one) talking IPv4 reports an IPv4-mapped address (::ffff:a.b.c.d).
        /// </summary>
        public IPEndPoint LocalEndPoint => Reported(Local);

        /// <summary>Peer address and port (TCP: when connected; UDP: after Connect); IPv4-mapped as <see cref="LocalEndPoint"/>.</summary>
        public IPEndPoint RemoteEndPoint => Reported(_tcp != null ? _tcp.Remote : _udp != null ? _udp.Remote : default);

        /// <summary>The local endpoint as the stack holds it (IPv4 for IPv4 traffic, never mapped).</summary>
        internal IPEndPoint Local => _tcp != null ? _tcp.Local : _udp != null ? _udp.Local : default;

        /// <summary>An endpoint as this socket reports it: an IPv4 one IPv4-mapped when it is an IPv6 socket.</summary>
        private IPEndPoint Reported(IPEndPoint endPoint) =>
            _ipv6Api && endPoint.Address.IsIPv4 ? new IPEndPoint(endPoint.Address.MapToIPv6(), endPoint.Port) : endPoint;

        /// <summary>
        /// A peer given to Connect or SendTo as the stack takes it: an IPv4-mapped address becomes the IPv4 address
        /// (the traffic goes out as IPv4). Refused (AddressFamilyNotSupported) on a <see cref="V6Only"/> socket.
        /// </summary>
        private SocketError Unmapped(ref IPEndPoint remoteEP)
        {
            if (!remoteEP.Address.IsIPv4MappedToIPv6)
            {
                return SocketError.Success;
            }
            if (V6Only)
            {
                return SocketError.AddressFamilyNotSupported;
            }
            remoteEP = new IPEndPoint(remoteEP.Address.MapToIPv4(), remoteEP.Port);
            return SocketError.Success;
        }

        /// <summary>
        /// Binds to a local port: address 0.0.0.0 (IPv4 only), :: (IPv6, and IPv4 too unless <see cref="V6Only"/>),
        /// or one of this host's addresses (an IPv4 one also as IPv4-mapped, ::ffff:a.b.c.d, which makes an IPv6
        /// socket for IPv4 only; InvalidArgument with V6Only, as Linux). Port 0 picks an ephemeral port. An IPv6
        /// address on a stack without IPv6 is refused with AddressFamilyNotSupported.
        /// </summary>
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
            IPAddress address = localEP.Address;
            if (address.IsIPv4MappedToIPv6)
            {
                if (V6Only)
                {
                    return SocketError.InvalidArgument;
                }
                address = address.MapToIPv4();
            }
            if (!_stack.Carries(address.Family))
            {
                return SocketError.AddressFamilyNotSupported;
            }
            if (!address.IsAny && !_stack.IsLocalAddress(address))
            {
                return SocketError.AddressNotAvailable;
            }
            int port = localEP.Port;
            if (port < 0 || port > 65535)
            {
                return SocketError.InvalidArgument;
            }
            int protocol = (int)ProtocolType;
            if (port == 0)
            {
                port = _stack.AllocateEphemeralPort(protocol, address, V6Only);
                if (port == 0)
                {
                    return SocketError.AddressAlreadyInUse;
                }
            }
            else if (_stack.PortInUse(protocol, address, V6Only, port, ReuseAddress))
            {
                return SocketError.AddressAlreadyInUse;
            }
            IPEndPoint local = new IPEndPoint(address, port);
            _ipv6Api = localEP.Address.IsIPv6;
            if (IsTcp)
            {
                _tcp.Bind(local);
            }
            else
            {
                _stack.Udp.Bind(_udp, local);
            }
            _stack.Sockets.IndexPort(this);
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
            return _tcp.Listen(backlog);
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
            if (_tcp.State != TcpState.Listen)
            {
                return SocketError.InvalidArgument;
            }
            TcpConnection child = _tcp.TakeEstablishedChild();
            if (child == null)
            {
                return SocketError.WouldBlock;
            }
            accepted = child.Socket;
            accepted.AppOwned = true;
            accepted._ipv6Api = _ipv6Api;
            return SocketError.Success;
        }

        // --- TCP client / UDP default peer -----------------------------------------------------------

        /// <summary>
        /// TCP: starts the handshake and returns InProgress; Poll(SelectWrite) turns true once connected, or
        /// Poll(SelectError) with <see cref="PendingError"/> = ConnectionRefused / TimedOut.
        /// UDP: sets the default destination used by Send and filters received datagrams to that peer.
        /// A peer of a family the socket's binding does not take (<see cref="V6Only"/>) is refused with
        /// AddressFamilyNotSupported; an unbound socket binds to the unspecified address of the peer's family (::
        /// for an IPv4-mapped peer, which is reached over IPv4).
        /// </summary>
        public SocketError Connect(IPEndPoint remoteEP)
        {
            if (!Usable)
            {
                return SocketError.NotSocket;
            }
            bool v6Api = remoteEP.Address.IsIPv6;
            SocketError invalid = Unmapped(ref remoteEP);
            if (invalid == SocketError.Success)
            {
                invalid = CheckPeer(remoteEP);
            }
            if (invalid != SocketError.Success)
            {
                return invalid;
            }
            if (!_stack.Routable(remoteEP.Address))
            {
                return SocketError.NetworkUnreachable;
            }
            if (!IsBound)
            {
                SocketError bound = Bind(new IPEndPoint(v6Api ? IPAddress.IPv6Any : IPAddress.Any, 0));
                if (bound != SocketError.Success)
                {
                    return bound;
                }
            }
            if (!IsTcp)
            {
                _udp.Connect(remoteEP);
                return SocketError.Success;
            }
            IPAddress source = _stack.SourceFor(remoteEP.Address);
            if (source.IsAny && source.IsIPv6)
            {
                return SocketError.AddressNotAvailable; // no usable IPv6 address yet
            }
            return _tcp.Connect(remoteEP, source, _stack.Now);
        }

        /// <summary>Success for a peer a datagram or a connection can go to from this socket; else why not.</summary>
        private SocketError CheckPeer(IPEndPoint remoteEP)
        {
            if (!_stack.Carries(remoteEP.Address.Family) ||
                (IsBound && !BoundTakes(Local.Address, V6Only, remoteEP.Address.Family)))
            {
                return SocketError.AddressFamilyNotSupported;
            }
            if (remoteEP.Address.IsAny || remoteEP.Port <= 0 || remoteEP.Port > 65535)
            {
                return SocketError.InvalidArgument;
            }
            return SocketError.Success;
        }

        /// <summary>TCP: true while data can flow (Established or CloseWait). UDP: true after Connect.</summary>
        public bool Connected =>
            IsTcp ? _tcp.State == TcpState.Established || _tcp.State == TcpState.CloseWait : _udp != null && _udp.Connected;

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
                return _tcp.Shutdown(receive, send, _stack.Now);
            }
            _udp.Shutdown(receive, send);
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
                _tcp.Close(_stack.Now);
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
                _tcp.AbortByApplication();
                return;
            }
            _stack.ReleaseSocket(this);
        }
    }
}
