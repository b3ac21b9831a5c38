using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Ip;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>Opening: active open, a passive open's child made from its handshake, SYN options, ESTABLISHED.</summary>
    internal sealed unsafe partial class TcpConnection
    {
        private void InitSendSide(Instant now)
        {
            Snd.Start(Stack.Random.NextUInt());
            Recovery.Start(Snd.Iss);
            // MTU less the IP and TCP headers: MTU - 40 over IPv4, MTU - 60 over IPv6.
            int receiveMss = Stack.MtuFor(Remote.Address) - NetStack.IpHeaderLength(Remote.Address) - TcpLayer.HeaderLength;
            if (UserMss > 0 && UserMss < receiveMss)
            {
                receiveMss = UserMss; // TCP_MAXSEG: announced and used both ways
            }
            Mss = TcpLayer.DefaultMss;
            Options.Offer(receiveMss, TcpLayer.WindowScaleFor(ReceiveWindowLimit), Layer.TsOffset);
        }

        private void InitCongestion()
        {
            Cwnd = (long)Layer.Config.TcpInitialWindowSegments * SendMss;
            Ssthresh = CongestionControl.MaxCongestionWindow;
            Board.Clear();
            Cc.Init(this);
        }

        private void ApplySynOptions(ref TcpSegment segment)
        {
            Mss = Options.AgreeFromSyn(ref segment, Layer.Config.TcpSack, Layer.Config.TcpTimestamps);
        }

        /// <summary>
        /// A passive open whose handshake has completed (a SYN queue entry or a valid SYN cookie, see
        /// TcpLayer.Listen.cs): the connection as it was in SYN-RECEIVED right after our SYN-ACK with ISN
        /// <paramref name="iss"/>, so that the completing ACK fed to <see cref="Input"/> establishes it.
        /// <paramref name="synOptions"/> holds the SYN's MSS, window scale, SACK-permitted and timestamps (for a SYN
        /// cookie: the MSS from the cookie, the rest decoded from the completing ACK's TSecr, its TSval as TS.Recent).
        /// <paramref name="synAckSent"/>: when the one SYN-ACK was sent, for the first RTT sample (0: unknown,
        /// a cookie or a retransmitted SYN-ACK, Karn's rule).
        /// </summary>
        internal void OpenFromRequest(TcpConnection listener, IPEndPoint local, IPEndPoint remote,
            uint iss, uint irs, ref TcpSegment synOptions, int window, Instant synAckSent, Instant now)
        {
            NoDelay = listener.NoDelay;
            UserMss = listener.UserMss;
            KeepAlive.CopySettings(listener.KeepAlive);
            SendBufferSize = listener.SendBufferSize;
            ReceiveBufferSize = listener.ReceiveBufferSize;
            ReceiveTuning.Enabled = listener.ReceiveTuning.Enabled;
            Local = local;
            Remote = remote;
            Orphan = true;
            InitSendSide(now);
            Snd.Start(iss);
            Snd.SynSent(); // the SYN-ACK
            Recovery.Start(iss);
            Rcv.Start(irs, ReceiveBufferSize < 65535 ? ReceiveBufferSize : 65535);
            ApplySynOptions(ref synOptions);
            InitCongestion();
            Snd.InitWindow(window, irs, 0);
            Options.AckSent(Rcv.Nxt); // the SYN-ACK acknowledged the SYN: the completing ACK's TSval becomes TS.Recent
            if (synAckSent.IsSet)
            {
                Backoff.SynSent(synAckSent);
            }
            SetState(TcpState.SynReceived);
        }

        /// <summary>
        /// Passive open: CLOSED to LISTEN, on the layer's listener list; on a listener only the backlog changes.
        /// IsConnected when the connection is in use or was.
        /// </summary>
        internal SocketError Listen(int backlog)
        {
            if (State != TcpState.Listen && (State != TcpState.Closed || Remote.Port != 0))
            {
                return SocketError.IsConnected;
            }
            Backlog = backlog < 1 ? 1 : backlog;
            if (State == TcpState.Closed)
            {
                SetState(TcpState.Listen);
                Layer.AddListener(this);
            }
            return SocketError.Success;
        }

        /// <summary>
        /// Active open to <paramref name="remote"/> from the bound port, from <paramref name="hostAddress"/> when bound
        /// to the unspecified address: the SYN goes out and the result is InProgress.
        /// </summary>
        internal SocketError Connect(IPEndPoint remote, IPAddress hostAddress, Instant now)
        {
            if (State == TcpState.SynSent)
            {
                return SocketError.AlreadyInProgress;
            }
            if (State != TcpState.Closed || Remote.Port != 0)
            {
                return SocketError.IsConnected;
            }
            IPEndPoint local = new IPEndPoint(Local.Address.IsAny ? hostAddress : Local.Address, Local.Port);
            if (Layer.Lookup(local, remote) != null)
            {
                return SocketError.AddressAlreadyInUse;
            }
            Local = local;
            Remote = remote;
            InitSendSide(now);
            SetState(TcpState.SynSent);
            Layer.Hash(this);
            Layer.Activate(this);
            Counters[NetStatistics.TcpActiveOpens]++;
            SendSyn(now);
            return SocketError.InProgress;
        }

        private void SendSyn(Instant now)
        {
            int flags = TcpLayer.FlagSyn;
            if (State == TcpState.SynReceived)
            {
                flags |= TcpLayer.FlagAck;
            }
            bool retransmission = Snd.SynSentBefore;
            if (retransmission)
            {
                Stats.Retransmitted();
            }
            else
            {
                Backoff.SynSent(now);
            }
            Layer.SendSegment(this, Snd.Iss, flags, 0, 0);
            Snd.SynSent();
            Timers.Arm(TcpTimer.Retransmit, now + Backoff.Apply(Rtt.Rto));
        }

        /// <summary>Takes the oldest child past the handshake off the accept queue; null when none.</summary>
        internal TcpConnection TakeEstablishedChild()
        {
            TcpConnection child = Children.OldestEstablished();
            if (child != null)
            {
                Children.Remove(child);
                child.Orphan = false;
            }
            return child;
        }

        internal bool HasEstablishedChild => Children.OldestEstablished() != null;

        /// <summary>Our SYN was acknowledged (SYN-SENT or SYN-RECEIVED): RTT from the SYN unless it was resent (Karn), ESTABLISHED.</summary>
        private void HandshakeAcked(uint ack, Instant now)
        {
            if (Backoff.TrySynRtt(now, out Duration rtt))
            {
                SampleRtt(rtt, now);
            }
            else if (Backoff.Shift > 0)
            {
                Rtt.AfterSynTimeout(); // RFC 6298 section 5.7
            }
            Snd.Acknowledge(ack);
            Timers.Stop(TcpTimer.Retransmit);
            Backoff.Acknowledged();
            Established(now);
        }

        private void Established(Instant now)
        {
            SetState(TcpState.Established);
            LastReceive = now;
            ArmKeepAlive(now);
            Counters[NetStatistics.TcpEstablished]++;
            if (Parent != null)
            {
                Stack.Notify(Parent.Socket, SocketEvents.Readable);
            }
            else
            {
                Stack.Notify(Socket, SocketEvents.Writable);
            }
        }
    }
}
