using System;
using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Tcp;

namespace Keel.Net.Sockets
{
    /// <summary>A socket (see Socket.cs): readiness (Poll), TCP_INFO and the status line of the shell.</summary>
    public sealed unsafe partial class Socket
    {
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
                    return _udp.HasDatagram || _udp.Error != SocketError.Success;
                }
                if (mode == SelectMode.SelectWrite)
                {
                    return !_udp.SendShutdown;
                }
                return _udp.Error != SocketError.Success;
            }
            TcpConnection c = _tcp;
            TcpState state = c.State;
            if (mode == SelectMode.SelectRead)
            {
                if (state == TcpState.Listen)
                {
                    return c.HasEstablishedChild;
                }
                return !c.ReceiveQueue.IsEmpty || c.FinReceived || c.Error != SocketError.Success ||
                       c.ReceiveShutdown || (state == TcpState.Closed && c.Remote.Port != 0);
            }
            if (mode == SelectMode.SelectWrite)
            {
                if (c.Error != SocketError.Success)
                {
                    return true;
                }
                // (Shutdown(Send) leaves these two states, so no check for it is needed.)
                return (state == TcpState.Established || state == TcpState.CloseWait) && c.Send.Length < c.SendBufferSize;
            }
            return c.Error != SocketError.Success;
        }

        /// <summary>Callback for readiness changes; null for none. See <see cref="ISocketHandler"/>.</summary>
        public ISocketHandler Handler { get; set; }

        /// <summary>Free slot for the application (for example its per-connection object).</summary>
        public object UserData { get; set; }

        /// <summary>The error that ended the connection (SO_ERROR), Success while there is none.</summary>
        public SocketError PendingError => IsTcp ? _tcp.Error : _udp != null ? _udp.Error : SocketError.Success;

        // --- options ---------------------------------------------------------------------------------

        /// <summary>TCP_NODELAY: true disables Nagle's algorithm (small segments go out at once). Always false for UDP.</summary>
        public bool NoDelay
        {
            get => IsTcp && _tcp.NoDelay;
            set
            {
                if (IsTcp)
                {
                    _tcp.SetNoDelay(value, _stack.Now);
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
            get => IsTcp && _tcp.KeepAlive.Enabled;
            set
            {
                if (IsTcp)
                {
                    _tcp.SetKeepAlive(value, _stack.Now);
                }
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
            if (IsTcp)
            {
                _tcp.ConfigureKeepAlive(Duration.FromMilliseconds(idleMilliseconds > 0 ? idleMilliseconds : 1),
                    Duration.FromMilliseconds(intervalMilliseconds > 0 ? intervalMilliseconds : 1), probes > 0 ? probes : 1, _stack.Now);
            }
        }

        /// <summary>
        /// TCP_MAXSEG: the largest segment payload (without options) this connection announces and sends, 64..MTU − 40;
        /// 0 = the link's. Set before Connect/Listen (accepted sockets inherit it); on a connected socket it
        /// only lowers the send MSS.
        /// </summary>
        public int MaximumSegmentSize
        {
            get => IsTcp ? _tcp.UserMss : 0;
            set
            {
                if (IsTcp)
                {
                    _tcp.SetUserMss(value <= 0 ? 0 : value < 64 ? 64 : value);
                }
            }
        }

        /// <summary>SO_SNDBUF, bytes (TCP; 0 for UDP, which sends each datagram at once). Set before Connect/Listen for best effect.</summary>
        public int SendBufferSize
        {
            get => IsTcp ? _tcp.SendBufferSize : 0;
            set
            {
                if (IsTcp)
                {
                    _tcp.SetSendBufferSize(value);
                }
            }
        }

        /// <summary>
        /// SO_RCVBUF, bytes: TCP receive buffer (the window; it grows while auto-tuned) / UDP queue limit. TCP: set
        /// before Connect/Listen.
        /// </summary>
        public int ReceiveBufferSize
        {
            get => IsTcp ? _tcp.ReceiveBufferSize : _udp != null ? _udp.ReceiveBufferSize : 0;
            set
            {
                if (IsTcp)
                {
                    _tcp.SetReceiveBufferSize(value); // SO_RCVBUF set: no auto-tuning, as in Linux
                }
                else if (_udp != null)
                {
                    _udp.SetReceiveBufferSize(value);
                }
            }
        }

        /// <summary>
        /// TCP receive-buffer auto-tuning (default on, up to NetConfig.TcpReceiveBufferMax). Setting
        /// <see cref="ReceiveBufferSize"/> turns it off, as SO_RCVBUF does in Linux; set this back to true to grow
        /// from the current size again. Set before Connect/Listen. Always false for UDP.
        /// </summary>
        public bool ReceiveBufferAutoTune
        {
            get => IsTcp && _tcp.ReceiveTuning.Enabled;
            set
            {
                if (IsTcp)
                {
                    _tcp.SetReceiveAutoTune(value);
                }
            }
        }

        /// <summary>SO_REUSEADDR: lets Bind use a port another socket holds (UDP) or one in TIME_WAIT (TCP).</summary>
        public bool ReuseAddress { get; set; }

        /// <summary>
        /// IPV6_V6ONLY. False (the default, as Linux's): a socket bound to the IPv6 unspecified address (::) takes
        /// IPv4 as well (a listener accepts connections of both families; the accepted sockets, and the senders of
        /// IPv4 datagrams, have IPv4 endpoints) and may connect or send to IPv4 peers. True: IPv6 only. Set it before
        /// Bind; it matters only for a socket bound to ::.
        /// </summary>
        public bool V6Only { get; set; }

        /// <summary>
        /// True when a socket bound to <paramref name="bound"/> (with <paramref name="v6Only"/>) takes packets for
        /// <paramref name="address"/>: its own address, or any address of its family when bound to the unspecified
        /// one, and IPv4 too when bound to :: without V6Only.
        /// </summary>
        internal static bool BoundMatches(IPAddress bound, bool v6Only, IPAddress address) =>
            bound.IsAny ? BoundTakes(bound, v6Only, address.Family) : bound == address;

        /// <summary>
        /// True when bindings to <paramref name="a"/> and <paramref name="b"/> (each with its V6Only) on one port would
        /// share an address, so they conflict unless both allow reuse: two unspecified addresses of one family, or ::
        /// without V6Only and 0.0.0.0; an unspecified address and one of its family (or an IPv4 one for :: without
        /// V6Only); the same address twice. :: with V6Only and 0.0.0.0 do not conflict, as in Linux with IPV6_V6ONLY=1.
        /// </summary>
        internal static bool BindingsOverlap(IPAddress a, bool aV6Only, IPAddress b, bool bV6Only) =>
            a.IsAny
                ? b.IsAny ? BoundTakes(a, aV6Only, b.Family) || BoundTakes(b, bV6Only, a.Family) : BoundMatches(a, aV6Only, b)
                : BoundMatches(b, bV6Only, a);

        /// <summary>True when a socket bound to <paramref name="bound"/> can talk to peers of <paramref name="family"/>:
        /// its own family, and IPv4 too when bound to :: without V6Only.</summary>
        internal static bool BoundTakes(IPAddress bound, bool v6Only, AddressFamily family) =>
            bound.Family == family || (bound.IsIPv6 && bound.IsAny && !v6Only);

        // --- TCP details -----------------------------------------------------------------------------

        /// <summary>TCP state (Closed for UDP).</summary>
        public TcpState State => IsTcp ? _tcp.State : TcpState.Closed;

        /// <summary>Fills <paramref name="info"/> with the connection's numbers (TCP_INFO).</summary>
        public void GetTcpInfo(out TcpInfo info)
        {
            if (!IsTcp)
            {
                info = default;
                return;
            }
            _tcp.GetInfo(out info);
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
                output.Write((long)Tcp.Reassembly.Bytes);
                output.Write(" txq ");
                output.Write((long)Tcp.Send.Length);
                output.Write(" retrans ");
                output.Write(Tcp.Stats.Retransmits);
                output.Write(" rtt ");
                output.Write(Tcp.Rtt.Srtt.Microseconds);
                output.Write("us cwnd ");
                output.Write(Tcp.Cwnd);
                output.Write(" wnd ");
                output.Write(Tcp.Snd.Window);
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
                _udp.Print(output);
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
