using System;

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
        // --- creation and addresses ------------------------------------------------------------------

        /// <summary>Stream (TCP) or Dgram (UDP).</summary>
        public SocketType SocketType => StubType;

        /// <summary>Tcp or Udp.</summary>
        public ProtocolType ProtocolType => StubProtocol;

        /// <summary>False once closed (the object is back in the stack's pool).</summary>
        public bool IsOpen => false;

        /// <summary>Local address and port (port 0 until bound or connected).</summary>
        public IPEndPoint LocalEndPoint => default;

        /// <summary>Peer address and port (TCP: when connected; UDP: after Connect).</summary>
        public IPEndPoint RemoteEndPoint => default;

        /// <summary>Binds to a local port (address Any or this host's address). Port 0 picks an ephemeral port.</summary>
        public SocketError Bind(IPEndPoint localEP) => SocketError.OperationNotSupported;

        // --- TCP server ------------------------------------------------------------------------------

        /// <summary>TCP: starts listening; at most <paramref name="backlog"/> connections wait for Accept.</summary>
        public SocketError Listen(int backlog) => SocketError.OperationNotSupported;

        /// <summary>
        /// TCP: takes one established connection. WouldBlock when none is waiting. The new socket inherits
        /// <see cref="NoDelay"/>, buffer sizes and <see cref="Handler"/> from the listener.
        /// </summary>
        public SocketError Accept(out Socket accepted)
        {
            accepted = null;
            return SocketError.OperationNotSupported;
        }

        // --- TCP client / UDP default peer -----------------------------------------------------------

        /// <summary>
        /// TCP: starts the handshake and returns InProgress; Poll(SelectWrite) turns true once connected, or
        /// Poll(SelectError) with <see cref="PendingError"/> = ConnectionRefused / TimedOut.
        /// UDP: sets the default destination used by Send and filters received datagrams to that peer.
        /// </summary>
        public SocketError Connect(IPEndPoint remoteEP) => SocketError.OperationNotSupported;

        /// <summary>TCP: true while data can flow (Established or CloseWait). UDP: true after Connect.</summary>
        public bool Connected => false;

        // --- data ------------------------------------------------------------------------------------

        /// <summary>
        /// TCP: copies as much as fits into the send buffer and returns the count (may be less than asked);
        /// WouldBlock when the buffer is full. UDP: sends one datagram to the connected peer.
        /// </summary>
        public int Send(ReadOnlySpan<byte> buffer, out SocketError error)
        {
            error = SocketError.OperationNotSupported;
            return 0;
        }

        /// <summary>Pointer form of <see cref="Send(ReadOnlySpan{byte}, out SocketError)"/>.</summary>
        public int Send(byte* buffer, int size, out SocketError error)
        {
            error = SocketError.OperationNotSupported;
            return 0;
        }

        /// <summary>
        /// TCP: copies received bytes (one copy, out of the driver's pages) and returns the count; returns 0 with
        /// Success at end of stream (peer sent FIN); WouldBlock when nothing is buffered.
        /// UDP: one datagram (truncated with MessageSize if the buffer is smaller).
        /// </summary>
        public int Receive(Span<byte> buffer, out SocketError error)
        {
            error = SocketError.OperationNotSupported;
            return 0;
        }

        /// <summary>Pointer form of <see cref="Receive(Span{byte}, out SocketError)"/>.</summary>
        public int Receive(byte* buffer, int size, out SocketError error)
        {
            error = SocketError.OperationNotSupported;
            return 0;
        }

        /// <summary>
        /// TCP: consumes up to <paramref name="size"/> received bytes without copying them anywhere (a sink such
        /// as an iperf3 receiver). Same results as Receive.
        /// </summary>
        public int Discard(int size, out SocketError error)
        {
            error = SocketError.OperationNotSupported;
            return 0;
        }

        /// <summary>UDP: sends one datagram to <paramref name="remoteEP"/>. MessageSize when it exceeds the MTU.</summary>
        public int SendTo(ReadOnlySpan<byte> buffer, IPEndPoint remoteEP, out SocketError error)
        {
            error = SocketError.OperationNotSupported;
            return 0;
        }

        /// <summary>UDP: takes one datagram and its sender. WouldBlock when none is queued.</summary>
        public int ReceiveFrom(Span<byte> buffer, out IPEndPoint remoteEP, out SocketError error)
        {
            remoteEP = default;
            error = SocketError.OperationNotSupported;
            return 0;
        }

        /// <summary>Bytes (TCP) or bytes of the next datagram (UDP) ready to read.</summary>
        public int Available => 0;

        // --- closing ---------------------------------------------------------------------------------

        /// <summary>TCP: Send queues a FIN after the buffered data; Receive discards further data. UDP: flags only.</summary>
        public SocketError Shutdown(SocketShutdown how) => SocketError.OperationNotSupported;

        /// <summary>
        /// Graceful close: TCP sends what is buffered then FIN and finishes the close in the background (the
        /// object returns to the pool after TIME_WAIT or LAST_ACK); unread received data makes it a reset, as in
        /// Linux. The caller must not touch the socket afterwards.
        /// </summary>
        public void Close()
        {
        }

        /// <summary>Abortive close: TCP sends RST at once (SO_LINGER 0). The caller must not touch the socket afterwards.</summary>
        public void Abort()
        {
        }

        // --- readiness -------------------------------------------------------------------------------

        /// <summary>Non-blocking readiness query (System.Net Socket.Poll with a zero timeout).</summary>
        public bool Poll(SelectMode mode) => false;

        /// <summary>Callback for readiness changes; null for none. See <see cref="ISocketHandler"/>.</summary>
        public ISocketHandler Handler { get; set; }

        /// <summary>Free slot for the application (for example its per-connection object).</summary>
        public object UserData { get; set; }

        /// <summary>The error that ended the connection (SO_ERROR), Success while there is none.</summary>
        public SocketError PendingError => SocketError.Success;

        // --- options ---------------------------------------------------------------------------------

        /// <summary>TCP_NODELAY: true disables Nagle's algorithm (small segments go out at once).</summary>
        public bool NoDelay { get; set; }

        /// <summary>SO_SNDBUF, bytes. Set before Connect/Listen for best effect.</summary>
        public int SendBufferSize { get; set; }

        /// <summary>SO_RCVBUF, bytes: TCP receive window / UDP queue limit. Set before Connect/Listen.</summary>
        public int ReceiveBufferSize { get; set; }

        /// <summary>SO_REUSEADDR: lets Bind use a port another socket holds (UDP) or one in TIME_WAIT (TCP).</summary>
        public bool ReuseAddress { get; set; }

        // --- TCP details -----------------------------------------------------------------------------

        /// <summary>TCP state (Closed for UDP).</summary>
        public TcpState State => TcpState.Closed;

        /// <summary>Fills <paramref name="info"/> with the connection's numbers (TCP_INFO).</summary>
        public void GetTcpInfo(out TcpInfo info)
        {
            info = default;
        }

        private const SocketType StubType = SocketType.Unknown;
        private const ProtocolType StubProtocol = ProtocolType.Unknown;
    }
}
