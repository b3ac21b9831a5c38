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
            TsOffset = Stack.Random.NextUInt();
            ReceiveMss = Stack.Mtu - NetStack.IPv4HeaderLength - TcpLayer.HeaderLength;
            Mss = TcpLayer.DefaultMss;
            int shift = 0;
            while (shift < TcpLayer.MaxWindowScale && (ReceiveBufferSize >> shift) > 65535)
            {
                shift++;
            }
            RcvWindowScale = shift;
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

        /// <summary>A segment for a listening socket (no connection matched the 4-tuple).</summary>
        internal void ListenInput(Packet packet, ref TcpSegment segment, long now)
        {
            packet.Free();
            int flags = segment.Flags;
            if ((flags & TcpLayer.FlagRst) != 0)
            {
                return;
            }
            if ((flags & TcpLayer.FlagAck) != 0)
            {
                Layer.SendResetFor(ref segment);
                return;
            }
            if ((flags & TcpLayer.FlagSyn) == 0)
            {
                return;
            }
            if (ChildCount >= Backlog)
            {
                Counters[NetStatistics.TcpListenOverflows]++;
                return;
            }
            Socket childSocket = Stack.AllocateSocket();
            if (childSocket == null)
            {
                Counters[NetStatistics.TcpListenOverflows]++;
                return;
            }
            childSocket.OpenChild(Socket);
            TcpConnection child = childSocket.Tcp;
            child.NoDelay = NoDelay;
            child.KeepAlive = KeepAlive;
            child.KeepAliveIdleMs = KeepAliveIdleMs;
            child.KeepAliveIntervalMs = KeepAliveIntervalMs;
            child.KeepAliveCount = KeepAliveCount;
            child.SendBufferSize = SendBufferSize;
            child.ReceiveBufferSize = ReceiveBufferSize;
            child.LocalAddress = segment.Destination;
            child.LocalPort = segment.DestinationPort;
            child.RemoteAddress = segment.Source;
            child.RemotePort = segment.SourcePort;
            child.Orphan = true;
            child.Parent = this;
            child.InitSendSide(now);
            child.Irs = segment.Sequence;
            child.RcvNxt = segment.Sequence + 1;
            child.ApplySynOptions(ref segment);
            child.InitCongestion();
            child.SndWnd = segment.Window;
            child.SndWl1 = segment.Sequence;
            child.SndWl2 = 0;
            child.State = TcpState.SynReceived;
            child.ChildNext = null;
            // Append to the children list (Accept takes the oldest established one).
            if (ChildHead == null)
            {
                ChildHead = child;
            }
            else
            {
                TcpConnection last = ChildHead;
                while (last.ChildNext != null)
                {
                    last = last.ChildNext;
                }
                last.ChildNext = child;
            }
            ChildCount++;
            Layer.Hash(child);
            Layer.Activate(child);
            Counters[NetStatistics.TcpPassiveOpens]++;
            child.SendSyn(now);
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
