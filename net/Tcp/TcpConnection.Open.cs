using Keel.Buffers;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>Opening: active open, the listener's children (passive open), SYN options, ESTABLISHED.</summary>
    internal sealed unsafe partial class TcpConnection
    {
        private void InitSendSide(long now)
        {
            Iss = Stack.Random.NextUInt();
            SndUna = Iss;
            SndNxt = Iss;
            SndMax = Iss;
            SendBufferSequence = Iss + 1;
            Recover = Iss;
            TsOffset = Layer.TsOffset;
            ReceiveMss = Stack.Mtu - NetStack.IPv4HeaderLength - TcpLayer.HeaderLength;
            if (UserMss > 0 && UserMss < ReceiveMss)
            {
                ReceiveMss = UserMss; // TCP_MAXSEG: announced and used both ways
            }
            Mss = TcpLayer.DefaultMss;
            RcvWindowScale = TcpLayer.WindowScaleFor(ReceiveWindowLimit);
        }

        private void InitCongestion()
        {
            Cwnd = (long)Layer.Config.TcpInitialWindowSegments * SendMss;
            Ssthresh = CongestionControl.MaxCongestionWindow;
            CaState = TcpCaState.Open;
            Board.Clear();
            Cc.Init(this);
        }

        private void ApplySynOptions(ref TcpSegment segment)
        {
            int peerMss = segment.Mss > 0 ? segment.Mss : TcpLayer.DefaultMss;
            Mss = peerMss < ReceiveMss ? peerMss : ReceiveMss;
            if (Mss < 64)
            {
                Mss = 64;
            }
            if (segment.WindowScale >= 0)
            {
                WindowScaleOk = true;
                SndWindowScale = segment.WindowScale;
            }
            else
            {
                WindowScaleOk = false;
                SndWindowScale = 0;
                RcvWindowScale = 0;
            }
            // SACK and timestamps are agreed when both SYNs carry them (we offer both on an active open).
            SackOk = Layer.Config.TcpSack && segment.SackPermitted;
            TsOk = Layer.Config.TcpTimestamps && segment.HasTimestamp;
            if (TsOk)
            {
                TsRecent = segment.TsVal;
            }
        }

        /// <summary>Active open (Connect).</summary>
        internal void Connect(long now)
        {
            InitSendSide(now);
            State = TcpState.SynSent;
            Layer.Hash(this);
            Layer.Activate(this);
            Counters[NetStatistics.TcpActiveOpens]++;
            SendSyn(now);
        }

        private void SendSyn(long now)
        {
            int flags = TcpLayer.FlagSyn;
            if (State == TcpState.SynReceived)
            {
                flags |= TcpLayer.FlagAck;
            }
            bool retransmission = SndMax != Iss;
            if (retransmission)
            {
                Retransmits++;
                Counters[NetStatistics.TcpRetransmits]++;
            }
            else
            {
                SynRttTiming = true;
                SynSentAt = now;
            }
            Layer.SendSegment(this, Iss, flags, 0, 0);
            SndNxt = Iss + 1;
            SndMax = Iss + 1;
            RtoDeadline = now + (RtoUs << Backoff) * 1000;
        }

        internal void RemoveChild(TcpConnection child)
        {
            TcpConnection previous = null;
            for (TcpConnection x = ChildHead; x != null; x = x.ChildNext)
            {
                if (x == child)
                {
                    if (previous == null)
                    {
                        ChildHead = x.ChildNext;
                    }
                    else
                    {
                        previous.ChildNext = x.ChildNext;
                    }
                    ChildCount--;
                    break;
                }
                previous = x;
            }
            child.ChildNext = null;
            child.Parent = null;
        }

        /// <summary>Takes the oldest child past the handshake; null when none.</summary>
        internal TcpConnection TakeEstablishedChild()
        {
            for (TcpConnection x = ChildHead; x != null; x = x.ChildNext)
            {
                if (x.State != TcpState.SynReceived)
                {
                    RemoveChild(x);
                    x.Orphan = false;
                    return x;
                }
            }
            return null;
        }

        internal bool HasEstablishedChild
        {
            get
            {
                for (TcpConnection x = ChildHead; x != null; x = x.ChildNext)
                {
                    if (x.State != TcpState.SynReceived)
                    {
                        return true;
                    }
                }
                return false;
            }
        }

        /// <summary>Our SYN was acknowledged (SYN-SENT or SYN-RECEIVED): RTT from the SYN unless it was resent (Karn), ESTABLISHED.</summary>
        /// <summary>The RTO data transmission starts with after a SYN retransmission without an RTT sample (RFC 6298 5.7).</summary>
        private const long SynLossRtoUs = 3_000_000;

        private void HandshakeAcked(uint ack, long now)
        {
            if (SynRttTiming && Backoff == 0)
            {
                SampleRtt((now - SynSentAt) / 1000, now);
            }
            else if (Backoff > 0 && !RttValid && RtoUs < SynLossRtoUs)
            {
                // RFC 6298 5.7: the SYN timed out and no RTT sample exists; data starts with a 3 s RTO.
                RtoUs = SynLossRtoUs;
            }
            SynRttTiming = false;
            SndUna = ack;
            RtoDeadline = 0;
            Backoff = 0;
            Retries = 0;
            Established(now);
        }

        private void Established(long now)
        {
            State = TcpState.Established;
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
