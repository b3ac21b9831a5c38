using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>What the socket asks of its connection besides opening and data: binding, shutdown, abort and the options.</summary>
    internal sealed unsafe partial class TcpConnection
    {
        /// <summary>Starts a fresh use of this pooled connection for <paramref name="socket"/>: CLOSED, unbound, defaults from the configuration.</summary>
        internal void Open(Socket socket, NetConfig config)
        {
            Socket = socket;
            Reset(config);
        }

        /// <summary>Sets the local endpoint (the socket has checked that the port is free).</summary>
        internal void Bind(IPEndPoint local) => Local = local;

        /// <summary>Shutdown: Receive drops what is queued and what arrives later; Send queues our FIN after the buffered data.</summary>
        internal SocketError Shutdown(bool receive, bool send, Instant now)
        {
            if (State == TcpState.Closed || State == TcpState.Listen || State == TcpState.SynSent)
            {
                return SocketError.NotConnected;
            }
            if (receive)
            {
                ReceiveShutdown = true;
                FreeReceiveQueues(false);
            }
            if (send)
            {
                QueueFin(now);
            }
            return SocketError.Success;
        }

        /// <summary>The application aborts (SO_LINGER 0) and lets go: RST when synchronized, CLOSED, back to the pool.</summary>
        internal void AbortByApplication()
        {
            Orphan = true;
            Abort();
        }

        /// <summary>TCP_NODELAY; turning it on sends what Nagle held back.</summary>
        internal void SetNoDelay(bool value, Instant now)
        {
            NoDelay = value;
            if (value && CanSendData)
            {
                Output(now);
            }
        }

        /// <summary>SO_KEEPALIVE on or off (timing unchanged).</summary>
        internal void SetKeepAlive(bool enabled, Instant now)
        {
            KeepAlive.Enabled = enabled;
            ArmKeepAlive(now);
        }

        /// <summary>TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT, and keepalive on.</summary>
        internal void ConfigureKeepAlive(Duration idle, Duration interval, int probes, Instant now)
        {
            KeepAlive.Configure(idle, interval, probes);
            SetKeepAlive(true, now);
        }

        /// <summary>TCP_MAXSEG (0: the link's); on a synchronized connection it can only lower the send MSS.</summary>
        internal void SetUserMss(int mss)
        {
            UserMss = mss;
            if (mss > 0 && Mss > mss && State != TcpState.Closed && State != TcpState.Listen && State != TcpState.SynSent)
            {
                Mss = mss;
            }
        }

        /// <summary>SO_SNDBUF: bytes the send buffer may hold, 4 KiB up to its capacity.</summary>
        internal void SetSendBufferSize(int bytes)
        {
            int limit = Send.Capacity;
            SendBufferSize = bytes < 4096 ? 4096 : bytes > limit ? limit : bytes;
        }

        /// <summary>
        /// SO_RCVBUF before Connect/Listen (later it is ignored): the receive buffer, 4 KiB to 16 MiB, and no
        /// auto-tuning, as in Linux.
        /// </summary>
        internal void SetReceiveBufferSize(int bytes)
        {
            if (State == TcpState.Closed || State == TcpState.Listen)
            {
                ReceiveBufferSize = bytes < 4096 ? 4096 : bytes > (1 << 24) ? 1 << 24 : bytes;
                ReceiveTuning.Enabled = false;
            }
        }

        /// <summary>Receive-buffer auto-tuning on or off before Connect/Listen (on only grows when the maximum is larger).</summary>
        internal void SetReceiveAutoTune(bool enabled)
        {
            if (State == TcpState.Closed || State == TcpState.Listen)
            {
                ReceiveTuning.Enabled = enabled && Layer.Config.TcpReceiveBufferMax > ReceiveBufferSize;
            }
        }
    }
}
