using Keel.Buffers;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// One TCP control block (RFC 9293): the state machine, NewReno congestion control (RFC 5681/6582) with
    /// limited transmit (RFC 3042), RFC 6298 retransmission timer with backoff, delayed and batched ACKs,
    /// an out-of-order queue, zero-window probing, window scaling and the MSS option. Each pooled
    /// <see cref="Socket"/> owns one, made at start-up.
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        private const int InlineAckSegments = 16;
        private const long MaxCongestionWindow = 16L * 1024 * 1024;
        private const long ClockGranularityUs = 1000;
        private const int DuplicateAckThreshold = 3;
        private const int MinQueuedUnderPressure = 4;

        internal readonly Socket Socket;
        internal readonly TcpLayer Layer;
        internal readonly SendBuffer Send;

        internal TcpState State = TcpState.Closed;
        internal uint LocalAddress;
        internal int LocalPort;
        internal uint RemoteAddress;
        internal int RemotePort;

        // tables
        internal TcpConnection HashNext;
        internal bool Hashed;
        internal TcpConnection ActiveNext;
        internal TcpConnection ActivePrev;
        internal bool Active;
        internal TcpConnection BatchNext;
        internal bool OnBatch;
        internal TcpConnection ListenNext;

        // listener and children
        internal TcpConnection Parent;
        internal TcpConnection ChildHead;
        internal TcpConnection ChildNext;
        internal int ChildCount;
        internal int Backlog;

        /// <summary>No application holds the socket (closed by it, or a child not yet accepted).</summary>
        internal bool Orphan;

        // send sequence space
        internal uint Iss;
        internal uint SndUna;
        internal uint SndNxt;
        internal uint SndMax;
        internal uint SndWl1;
        internal uint SndWl2;
        internal uint SendBufferSequence; // sequence number of Send's first byte
        internal long SndWnd;
        internal long MaxSndWnd;
        internal int SndWindowScale;
        internal int RcvWindowScale;
        internal bool WindowScaleOk;
        internal bool SackOk;
        internal int Mss;
        internal int ReceiveMss;
        internal bool FinQueued;

        // receive sequence space
        internal uint Irs;
        internal uint RcvNxt;
        internal uint RcvAdv;
        internal PacketQueue ReceiveQueue;
        internal Packet OooHead;
        internal int OooBytes;
        internal int OooCount;
        internal int OooTrueSize;
        internal bool FinReceived;
        internal bool ReceiveShutdown;

        // congestion control
        internal long Cwnd;
        internal long Ssthresh;
        internal long BytesAckedInCa;
        internal int DupAcks;
        internal uint Recover;
        internal bool InRecovery;

        // RTT and timers (deadlines in clock nanoseconds, 0 = off)
        internal long SrttUs;
        internal long RttVarUs;
        internal long RtoUs;
        internal bool RttValid;
        internal bool RttTiming;
        internal uint RttSequence;
        internal long RttStart;
        internal int Backoff;
        internal int Retries;
        internal long RtoDeadline;
        internal long PersistDeadline;
        internal long DelayedAckDeadline;
        internal long TimeWaitDeadline;

        // ACK bookkeeping
        internal int AckPendingSegments;
        internal bool AckNow;
        internal bool OutputPending;
        internal bool SendBlocked;

        // options and limits
        internal bool NoDelay;
        internal int SendBufferSize;
        internal int ReceiveBufferSize;
        internal SocketError Error;

        // statistics
        internal long Retransmits;
        internal long FastRetransmits;
        internal long Timeouts;
        internal long OutOfOrderSegments;
        internal long BytesAcked;
        internal long BytesReceived;
        internal long SegmentsIn;
        internal long SegmentsOut;

        public TcpConnection(Socket socket, TcpLayer layer, SendBuffer send)
        {
            Socket = socket;
            Layer = layer;
            Send = send;
        }

        private NetStack Stack => Layer.Stack;

        private long[] Counters => Layer.Counters;

        private static bool Lt(uint a, uint b) => TcpSequence.Lt(a, b);

        private static bool Leq(uint a, uint b) => TcpSequence.Leq(a, b);

        private static bool Gt(uint a, uint b) => TcpSequence.Gt(a, b);

        private static bool Geq(uint a, uint b) => TcpSequence.Geq(a, b);

        /// <summary>Sequence number just after the last byte in the send buffer (where a FIN goes).</summary>
        private uint DataEnd => SendBufferSequence + (uint)Send.Length;

        /// <summary>Resets everything for a fresh use of the pooled socket.</summary>
        internal void Reset(NetConfig config)
        {
            State = TcpState.Closed;
            LocalAddress = 0;
            LocalPort = 0;
            RemoteAddress = 0;
            RemotePort = 0;
            Parent = null;
            ChildHead = null;
            ChildNext = null;
            ChildCount = 0;
            Backlog = 0;
            Orphan = false;
            FinQueued = false;
            FinReceived = false;
            ReceiveShutdown = false;
            WindowScaleOk = false;
            SackOk = false;
            SndWindowScale = 0;
            RcvWindowScale = 0;
            SndWnd = 0;
            MaxSndWnd = 0;
            DupAcks = 0;
            InRecovery = false;
            BytesAckedInCa = 0;
            SrttUs = 0;
            RttVarUs = 0;
            RtoUs = config.TcpInitialRtoMilliseconds * 1000L;
            RttValid = false;
            RttTiming = false;
            Backoff = 0;
            Retries = 0;
            RtoDeadline = 0;
            PersistDeadline = 0;
            DelayedAckDeadline = 0;
            TimeWaitDeadline = 0;
            AckPendingSegments = 0;
            AckNow = false;
            OutputPending = false;
            SendBlocked = false;
            NoDelay = false;
            SendBufferSize = config.TcpSendBufferSize;
            ReceiveBufferSize = config.TcpReceiveBufferSize;
            Error = SocketError.Success;
            Retransmits = 0;
            FastRetransmits = 0;
            Timeouts = 0;
            OutOfOrderSegments = 0;
            BytesAcked = 0;
            BytesReceived = 0;
            SegmentsIn = 0;
            SegmentsOut = 0;
        }

        // ============================================================ opening

        private void InitSendSide(long now)
        {
            Iss = Stack.Random.NextUInt();
            SndUna = Iss;
            SndNxt = Iss;
            SndMax = Iss;
            SendBufferSequence = Iss + 1;
            Recover = Iss;
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
            Cwnd = (long)Layer.Config.TcpInitialWindowSegments * Mss;
            Ssthresh = MaxCongestionWindow;
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
            SackOk = segment.SackPermitted;
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
                RttTiming = true;
                RttSequence = Iss;
                RttStart = now;
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

        // ============================================================ input

        internal void Input(Packet packet, ref TcpSegment segment, long now)
        {
            SegmentsIn++;
            if (State == TcpState.SynSent)
            {
                SynSentInput(packet, ref segment, now);
                return;
            }
            if (State == TcpState.Closed || State == TcpState.Listen)
            {
                packet.Free();
                if (!segment.Has(TcpLayer.FlagRst))
                {
                    Layer.SendResetFor(ref segment);
                }
                return;
            }
            int flags = segment.Flags;
            uint sequence = segment.Sequence;
            int dataLength = segment.DataLength;
            if (State == TcpState.SynReceived && (flags & TcpLayer.FlagSyn) != 0 && sequence == Irs &&
                (flags & TcpLayer.FlagAck) != 0)
            {
                // Simultaneous open: the peer's SYN-ACK repeats its SYN; keep only the ACK part.
                flags &= ~TcpLayer.FlagSyn;
                sequence++;
            }
            int segmentLength = dataLength + ((flags & TcpLayer.FlagSyn) != 0 ? 1 : 0) + ((flags & TcpLayer.FlagFin) != 0 ? 1 : 0);

            // 1. Sequence acceptability (RFC 9293 3.10.7.4, in Linux's more forgiving form).
            uint window = Gt(RcvAdv, RcvNxt) ? RcvAdv - RcvNxt : 0;
            bool acceptable = segmentLength == 0
                ? Geq(sequence, RcvNxt) && Leq(sequence, RcvNxt + window)
                : Gt(sequence + (uint)segmentLength, RcvNxt) && Leq(sequence, RcvNxt + window);
            if (!acceptable)
            {
                packet.Free();
                if ((flags & TcpLayer.FlagRst) == 0)
                {
                    Counters[NetStatistics.TcpUnacceptable]++;
                    if (State == TcpState.TimeWait && (flags & TcpLayer.FlagFin) != 0)
                    {
                        TimeWaitDeadline = now + Layer.Config.TcpTimeWaitMilliseconds * 1000000L;
                    }
                    SendAckNow();
                }
                return;
            }

            // 2. RST (RFC 5961: exact match resets, anything else in the window gets a challenge ACK).
            if ((flags & TcpLayer.FlagRst) != 0)
            {
                packet.Free();
                if (sequence != RcvNxt)
                {
                    Counters[NetStatistics.TcpChallengeAcks]++;
                    SendAckNow();
                    return;
                }
                Counters[NetStatistics.TcpResetsReceived]++;
                if (State == TcpState.SynReceived && Parent != null)
                {
                    EnterClosed(SocketError.Success); // passive open: back to LISTEN, child dropped
                }
                else if (State == TcpState.TimeWait || State == TcpState.Closing || State == TcpState.LastAck)
                {
                    EnterClosed(SocketError.Success);
                }
                else
                {
                    EnterClosed(State == TcpState.SynReceived ? SocketError.ConnectionRefused : SocketError.ConnectionReset);
                }
                return;
            }

            // 3. SYN in a synchronized state: challenge ACK (RFC 5961 section 4).
            if ((flags & TcpLayer.FlagSyn) != 0)
            {
                packet.Free();
                Counters[NetStatistics.TcpChallengeAcks]++;
                SendAckNow();
                return;
            }

            // 4. No ACK: drop.
            if ((flags & TcpLayer.FlagAck) == 0)
            {
                packet.Free();
                return;
            }

            // Trim to the window: the front to RcvNxt, the tail to the advertised right edge.
            if (Lt(sequence, RcvNxt))
            {
                uint cut = RcvNxt - sequence;
                if (cut >= (uint)dataLength)
                {
                    if (cut > (uint)dataLength)
                    {
                        flags &= ~TcpLayer.FlagFin; // FIN already seen
                    }
                    packet.Pull(dataLength);
                    sequence += (uint)dataLength;
                    dataLength = 0;
                }
                else
                {
                    packet.Pull((int)cut);
                    dataLength -= (int)cut;
                    sequence = RcvNxt;
                }
            }
            uint right = RcvNxt + window;
            if (Gt(sequence + (uint)dataLength, right))
            {
                int keep = (int)(right - sequence);
                packet.TrimTo(keep);
                dataLength = keep;
                flags &= ~TcpLayer.FlagFin;
            }

            // 5. ACK.
            uint ack = segment.Acknowledgment;
            if (State == TcpState.SynReceived)
            {
                if (Gt(ack, SndUna) && Leq(ack, SndMax))
                {
                    SndWnd = (long)segment.Window << SndWindowScale;
                    MaxSndWnd = SndWnd;
                    SndWl1 = sequence;
                    SndWl2 = ack;
                    Established(now);
                }
                else
                {
                    packet.Free();
                    Layer.SendResetFor(ref segment);
                    return;
                }
            }
            if (Gt(ack, SndMax))
            {
                packet.Free();
                SendAckNow();
                return;
            }
            bool windowChanged = false;
            if (Lt(SndWl1, sequence) || (SndWl1 == sequence && Leq(SndWl2, ack)))
            {
                long newWindow = (long)segment.Window << SndWindowScale;
                windowChanged = newWindow != SndWnd;
                SndWnd = newWindow;
                SndWl1 = sequence;
                SndWl2 = ack;
                if (SndWnd > MaxSndWnd)
                {
                    MaxSndWnd = SndWnd;
                }
                if (SndWnd > 0 && PersistDeadline != 0)
                {
                    PersistDeadline = 0;
                    Backoff = 0;
                    OutputPending = true;
                }
                if (windowChanged)
                {
                    OutputPending = true;
                }
            }
            if (ack == SndUna)
            {
                if (dataLength == 0 && (flags & TcpLayer.FlagFin) == 0 && !windowChanged && SndMax != SndUna)
                {
                    DuplicateAck(now);
                }
            }
            else if (Gt(ack, SndUna))
            {
                NewAck(ack, now);
                if (State == TcpState.Closed)
                {
                    packet.Free();
                    return;
                }
            }

            // 6. Data and FIN.
            bool queued = false;
            if (dataLength > 0)
            {
                if (State == TcpState.Established || State == TcpState.FinWait1 || State == TcpState.FinWait2)
                {
                    queued = DataInput(packet, sequence, dataLength);
                    if (!queued)
                    {
                        flags &= ~TcpLayer.FlagFin;
                    }
                }
                else
                {
                    flags &= ~TcpLayer.FlagFin;
                }
            }
            if (!queued)
            {
                packet.Free();
            }
            if ((flags & TcpLayer.FlagFin) != 0 && sequence + (uint)dataLength == RcvNxt)
            {
                FinInput(now);
            }
            if (AckNow)
            {
                SendAckNow();
            }
            else if (AckPendingSegments >= InlineAckSegments)
            {
                SendAckNow();
            }
            if (AckPendingSegments > 0 || OutputPending)
            {
                Layer.Schedule(this);
            }
        }

        private void SynSentInput(Packet packet, ref TcpSegment segment, long now)
        {
            packet.Free();
            int flags = segment.Flags;
            uint ack = segment.Acknowledgment;
            bool hasAck = (flags & TcpLayer.FlagAck) != 0;
            if (hasAck && (Leq(ack, Iss) || Gt(ack, SndMax)))
            {
                if ((flags & TcpLayer.FlagRst) == 0)
                {
                    Layer.SendResetFor(ref segment);
                }
                return;
            }
            if ((flags & TcpLayer.FlagRst) != 0)
            {
                if (hasAck)
                {
                    Counters[NetStatistics.TcpResetsReceived]++;
                    EnterClosed(SocketError.ConnectionRefused);
                }
                return;
            }
            if ((flags & TcpLayer.FlagSyn) == 0)
            {
                return;
            }
            Irs = segment.Sequence;
            RcvNxt = segment.Sequence + 1;
            RcvAdv = RcvNxt + (uint)(ReceiveBufferSize < 65535 ? ReceiveBufferSize : 65535);
            ApplySynOptions(ref segment);
            InitCongestion();
            SndWnd = segment.Window; // never scaled in a SYN
            MaxSndWnd = SndWnd;
            SndWl1 = segment.Sequence;
            SndWl2 = ack;
            if (hasAck)
            {
                if (RttTiming && Backoff == 0)
                {
                    SampleRtt(now);
                }
                RttTiming = false;
                SndUna = ack;
                RtoDeadline = 0;
                Backoff = 0;
                Retries = 0;
                Established(now);
                SendAckNow();
                OutputPending = true;
                Layer.Schedule(this);
            }
            else
            {
                // Simultaneous open: answer with SYN-ACK, same ISS.
                State = TcpState.SynReceived;
                SndMax = Iss;
                SendSyn(now);
            }
        }

        /// <summary>In-window payload. True when the packet was queued (ownership taken).</summary>
        private bool DataInput(Packet packet, uint sequence, int length)
        {
            if (ReceiveShutdown)
            {
                if (sequence == RcvNxt)
                {
                    RcvNxt += (uint)length;
                    AckPendingSegments++;
                }
                return false;
            }
            if (ReceiveQueue.TrueSize + OooTrueSize + packet.TrueSize > ReceiveBufferSize * 4 + 65536)
            {
                Counters[NetStatistics.TcpRcvPruned]++;
                AckNow = true;
                return false;
            }
            if (DriverMemoryLow(packet, sequence == RcvNxt ? ReceiveQueue.Count : ReceiveQueue.Count + OooCount))
            {
                // The driver's receive buffers are nearly all queued on sockets and this connection holds a
                // large share: take no more from it (the peer retransmits), so ACKs, ARP and the other
                // connections still find buffers. Without this, an application that stops reading makes the
                // whole host deaf. The segment at RcvNxt is judged by the in-order queue alone, since it may
                // release the out-of-order queue.
                Counters[NetStatistics.TcpRcvMemoryPressure]++;
                return false;
            }
            if (sequence == RcvNxt)
            {
                ReceiveQueue.Enqueue(packet);
                RcvNxt += (uint)length;
                BytesReceived += length;
                // A segment coalesced by the device (GRO/LRO, up to 64 KiB) counts as the full-sized segments
                // it carries, so ACKs still go out at least every two segments' worth (RFC 5681 4.2).
                if (length > ReceiveMss)
                {
                    AckPendingSegments += (length + ReceiveMss - 1) / ReceiveMss;
                    Counters[NetStatistics.TcpLargeSegmentsRx]++;
                }
                else
                {
                    AckPendingSegments++;
                }
                if (OooHead != null)
                {
                    DrainOutOfOrder();
                    AckNow = true;
                }
                Stack.Notify(Socket, SocketEvents.Readable);
                return true;
            }
            // Out of order: insert sorted by sequence, dropping exact duplicates.
            OutOfOrderSegments++;
            Counters[NetStatistics.TcpOutOfOrder]++;
            AckNow = true;
            Packet previous = null;
            Packet next = OooHead;
            while (next != null && Lt(next.Tag, sequence))
            {
                previous = next;
                next = next.Next;
            }
            if (next != null && next.Tag == sequence && next.Length >= length)
            {
                return false;
            }
            if (previous != null && Geq(previous.Tag + (uint)previous.Length, sequence + (uint)length))
            {
                return false;
            }
            packet.Tag = sequence;
            packet.Next = next;
            if (previous == null)
            {
                OooHead = packet;
            }
            else
            {
                previous.Next = packet;
            }
            OooBytes += length;
            OooCount++;
            OooTrueSize += packet.TrueSize;
            return true;
        }

        /// <summary>
        /// Receive memory pressure, judged on the pools <paramref name="packet"/> came from (the driver's): true when
        /// the connection, holding <paramref name="held"/> packets, is a large consumer (a quarter of the driver's
        /// packets) and less than a quarter are left, or holds a few (<see cref="MinQueuedUnderPressure"/>) and
        /// less than a sixteenth are left (or an eighth of the pages). Connections whose applications keep
        /// reading stay below both, so a busy host loses nothing; every drop here costs the peer a
        /// retransmission and half its congestion window.
        /// </summary>
        private static bool DriverMemoryLow(Packet packet, int held)
        {
            if (held < MinQueuedUnderPressure)
            {
                return false;
            }
            PacketPool pool = packet.Pool;
            if (pool == null)
            {
                return false;
            }
            int available = pool.Available;
            int capacity = pool.Capacity;
            if (available < capacity / 16 || (held >= capacity / 4 && available < capacity / 4))
            {
                return true;
            }
            if (packet.FragmentCount > 0)
            {
                PagePool pages = packet.Fragment(0).Pool;
                if (pages != null && pages.InFlight > pages.Capacity - pages.Capacity / 8)
                {
                    return true;
                }
            }
            return false;
        }

        private void DrainOutOfOrder()
        {
            while (OooHead != null && Leq(OooHead.Tag, RcvNxt))
            {
                Packet p = OooHead;
                OooHead = p.Next;
                p.Next = null;
                OooBytes -= p.Length;
                OooCount--;
                OooTrueSize -= p.TrueSize;
                uint end = p.Tag + (uint)p.Length;
                if (Leq(end, RcvNxt))
                {
                    p.Free();
                    continue;
                }
                p.Pull((int)(RcvNxt - p.Tag));
                ReceiveQueue.Enqueue(p);
                BytesReceived += p.Length;
                RcvNxt = end;
            }
        }

        private void FinInput(long now)
        {
            RcvNxt++;
            FinReceived = true;
            AckNow = true;
            switch (State)
            {
                case TcpState.SynReceived:
                case TcpState.Established:
                    State = TcpState.CloseWait;
                    break;
                case TcpState.FinWait1:
                    if (FinQueued && SndUna == DataEnd + 1)
                    {
                        EnterTimeWait(now);
                    }
                    else
                    {
                        State = TcpState.Closing;
                    }
                    break;
                case TcpState.FinWait2:
                    EnterTimeWait(now);
                    break;
                case TcpState.TimeWait:
                    EnterTimeWait(now);
                    break;
            }
            Stack.Notify(Socket, SocketEvents.Readable);
        }

        private void EnterTimeWait(long now)
        {
            State = TcpState.TimeWait;
            RtoDeadline = 0;
            PersistDeadline = 0;
            DelayedAckDeadline = 0;
            TimeWaitDeadline = now + Layer.Config.TcpTimeWaitMilliseconds * 1000000L;
            FreeReceiveQueues(!Orphan); // the application may still read what arrived before the FIN
            Send.Clear();
            SendBufferSequence = SndMax;
            Stack.Notify(Socket, SocketEvents.Closed);
        }

        // ============================================================ ACK processing

        private void DuplicateAck(long now)
        {
            DupAcks++;
            Counters[NetStatistics.TcpDupAcksRx]++;
            if (InRecovery)
            {
                Cwnd += Mss;
                OutputPending = true;
            }
            else if (DupAcks == DuplicateAckThreshold)
            {
                if (Geq(SndUna, Recover) || Recover == Iss)
                {
                    long flight = SndMax - SndUna;
                    Ssthresh = flight / 2 > 2 * Mss ? flight / 2 : 2 * Mss;
                    Recover = SndMax;
                    InRecovery = true;
                    FastRetransmits++;
                    Counters[NetStatistics.TcpFastRetransmits]++;
                    RetransmitFirst(now);
                    Cwnd = Ssthresh + DuplicateAckThreshold * Mss;
                }
            }
            else if (DupAcks < DuplicateAckThreshold)
            {
                OutputPending = true; // limited transmit (RFC 3042)
            }
        }

        private void NewAck(uint ack, long now)
        {
            long acked = ack - SndUna;
            if (Gt(ack, SendBufferSequence))
            {
                uint top = Lt(ack, DataEnd) ? ack : DataEnd;
                int released = (int)(top - SendBufferSequence);
                if (released > 0)
                {
                    Send.Release(released);
                    SendBufferSequence = top;
                    BytesAcked += released;
                }
            }
            if (RttTiming && Gt(ack, RttSequence))
            {
                SampleRtt(now);
                RttTiming = false;
            }
            if (InRecovery)
            {
                if (Geq(ack, Recover))
                {
                    InRecovery = false;
                    long flight = SndMax - ack;
                    Cwnd = Ssthresh < flight + Mss ? Ssthresh : flight + Mss;
                    DupAcks = 0;
                }
                else
                {
                    // Partial ACK (RFC 6582): retransmit the next hole, deflate.
                    SndUna = ack;
                    RetransmitFirst(now);
                    Cwnd = Cwnd > acked ? Cwnd - acked + Mss : Mss;
                }
            }
            else
            {
                DupAcks = 0;
                if (Cwnd < Ssthresh)
                {
                    Cwnd += acked;
                }
                else
                {
                    BytesAckedInCa += acked;
                    if (BytesAckedInCa >= Cwnd)
                    {
                        BytesAckedInCa -= Cwnd;
                        Cwnd += Mss;
                    }
                }
                if (Cwnd > MaxCongestionWindow)
                {
                    Cwnd = MaxCongestionWindow;
                }
            }
            SndUna = ack;
            if (Lt(SndNxt, SndUna))
            {
                SndNxt = SndUna;
            }
            Backoff = 0;
            Retries = 0;
            RtoDeadline = SndUna == SndMax ? 0 : now + RtoUs * 1000;
            OutputPending = true;
            if (SendBlocked && Send.Length < SendBufferSize)
            {
                SendBlocked = false;
                Stack.Notify(Socket, SocketEvents.Writable);
            }
            if (FinQueued && SndUna == DataEnd + 1)
            {
                OurFinAcked(now);
            }
        }

        private void OurFinAcked(long now)
        {
            switch (State)
            {
                case TcpState.FinWait1:
                    State = TcpState.FinWait2;
                    if (Orphan)
                    {
                        TimeWaitDeadline = now + Layer.Config.TcpTimeWaitMilliseconds * 1000000L;
                    }
                    break;
                case TcpState.Closing:
                    EnterTimeWait(now);
                    break;
                case TcpState.LastAck:
                    EnterClosed(SocketError.Success);
                    break;
            }
        }

        private void SampleRtt(long now)
        {
            long rtt = (now - RttStart) / 1000;
            if (rtt < 1)
            {
                rtt = 1;
            }
            if (!RttValid)
            {
                SrttUs = rtt;
                RttVarUs = rtt / 2;
                RttValid = true;
            }
            else
            {
                long delta = SrttUs - rtt;
                if (delta < 0)
                {
                    delta = -delta;
                }
                RttVarUs = (3 * RttVarUs + delta) / 4;
                SrttUs = (7 * SrttUs + rtt) / 8;
            }
            long variance = 4 * RttVarUs;
            RtoUs = SrttUs + (variance > ClockGranularityUs ? variance : ClockGranularityUs);
            if (RtoUs < Layer.MinRtoUs)
            {
                RtoUs = Layer.MinRtoUs;
            }
            if (RtoUs > Layer.MaxRtoUs)
            {
                RtoUs = Layer.MaxRtoUs;
            }
        }

        // ============================================================ output

        internal bool CanSendData => State == TcpState.Established || State == TcpState.CloseWait ||
                                     State == TcpState.FinWait1 || State == TcpState.Closing || State == TcpState.LastAck;

        /// <summary>Sends whatever the windows, Nagle and the device allow.</summary>
        internal void Output(long now)
        {
            OutputPending = false;
            if (!CanSendData)
            {
                return;
            }
            bool sentAny = false;
            while (true)
            {
                if (!Stack.CanTransmit)
                {
                    // The device's ring is full (or frames it refused are waiting): building more segments now
                    // would only fill the backlog. Only the driver's next poll can free the ring, so go back to
                    // the main loop; the batch flush at the next poll or receive batch resumes here.
                    OutputPending = true;
                    Layer.Schedule(this);
                    break;
                }
                uint dataEnd = DataEnd;
                int unsent = Gt(dataEnd, SndNxt) ? (int)(dataEnd - SndNxt) : 0;
                long inFlight = SndNxt - SndUna;
                long window = SndWnd < Cwnd + (InRecovery ? 0 : DupAcks * (long)Mss) ? SndWnd : Cwnd + (InRecovery ? 0 : DupAcks * (long)Mss);
                long usable = window - inFlight;
                bool finNext = FinQueued && SndNxt == dataEnd;
                if (unsent == 0)
                {
                    if (finNext)
                    {
                        if (SendData(SndNxt, 0, true, now))
                        {
                            sentAny = true;
                        }
                        else
                        {
                            OutputPending = true; // no packet for the FIN: retry at the next flush
                            Layer.Schedule(this);
                        }
                    }
                    break;
                }
                if (usable <= 0)
                {
                    if (SndWnd - inFlight <= 0 && inFlight == 0)
                    {
                        ArmPersist(now);
                    }
                    break;
                }
                // With TSO one segment carries up to TsoMaxPayload (whole MSS multiples) for the device to cut.
                int maxSegment = Stack.TsoMaxPayload > Mss ? Stack.TsoMaxPayload / Mss * Mss : Mss;
                int length = unsent < maxSegment ? unsent : maxSegment;
                if (length > usable)
                {
                    if (usable >= Mss)
                    {
                        // TSO: as many full segments as the window allows.
                        length = (int)(usable / Mss) * Mss;
                    }
                    else
                    {
                        // Window-limited: send a partial segment only when nothing is in flight (avoids SWS).
                        if (inFlight > 0)
                        {
                            break;
                        }
                        length = (int)usable;
                    }
                }
                if (length < Mss && !NoDelay && inFlight > 0 && !FinQueued)
                {
                    break; // Nagle
                }
                bool fin = FinQueued && SndNxt + (uint)length == dataEnd;
                if (!SendData(SndNxt, length, fin, now))
                {
                    OutputPending = true;
                    Layer.Schedule(this);
                    break;
                }
                sentAny = true;
            }
            if (sentAny && RtoDeadline == 0 && SndMax != SndUna)
            {
                RtoDeadline = now + (RtoUs << Backoff) * 1000;
            }
        }

        /// <summary>Sends [sequence, sequence+length) (+FIN) and advances SndNxt/SndMax.</summary>
        private bool SendData(uint sequence, int length, bool fin, long now)
        {
            int flags = TcpLayer.FlagAck;
            if (length > 0 && sequence + (uint)length == DataEnd)
            {
                flags |= TcpLayer.FlagPsh;
            }
            if (fin)
            {
                flags |= TcpLayer.FlagFin;
            }
            if (!Layer.SendSegment(this, sequence, flags, (int)(sequence - SendBufferSequence), length))
            {
                return false;
            }
            uint end = sequence + (uint)length + (fin ? 1u : 0u);
            if (Lt(sequence, SndMax))
            {
                Retransmits++;
                Counters[NetStatistics.TcpRetransmits]++;
            }
            else if (!RttTiming && length > 0)
            {
                RttTiming = true;
                RttSequence = sequence;
                RttStart = now;
            }
            SndNxt = end;
            if (Gt(end, SndMax))
            {
                SndMax = end;
            }
            return true;
        }

        /// <summary>Retransmits the first unacknowledged segment (fast retransmit, partial ACK).</summary>
        private void RetransmitFirst(long now)
        {
            uint dataEnd = DataEnd;
            int available = Gt(dataEnd, SndUna) ? (int)(dataEnd - SndUna) : 0;
            int length = available < Mss ? available : Mss;
            bool fin = FinQueued && SndUna + (uint)length == dataEnd;
            if (length == 0 && !fin)
            {
                return;
            }
            uint savedNext = SndNxt;
            RttTiming = false;
            SendData(SndUna, length, fin, now);
            if (Gt(savedNext, SndNxt))
            {
                SndNxt = savedNext;
            }
            RtoDeadline = now + RtoUs * 1000;
        }

        private void ArmPersist(long now)
        {
            if (PersistDeadline == 0 && RtoDeadline == 0)
            {
                PersistDeadline = now + (RtoUs << Backoff) * 1000;
            }
        }

        /// <summary>Window to advertise (scaled field value); moves RcvAdv, never shrinks it.</summary>
        internal int AdvertiseWindow()
        {
            long free = ReceiveBufferSize - ReceiveQueue.Bytes - OooBytes;
            if (free < 0)
            {
                free = 0;
            }
            uint right = RcvNxt + (uint)free;
            // Receiver SWS avoidance: grow the right edge only by useful amounts.
            if (Gt(right, RcvAdv))
            {
                uint growth = right - RcvAdv;
                if (growth >= (uint)ReceiveMss || growth >= (uint)(ReceiveBufferSize / 2) || !Gt(RcvAdv, RcvNxt))
                {
                    RcvAdv = right;
                }
            }
            long window = Gt(RcvAdv, RcvNxt) ? RcvAdv - RcvNxt : 0;
            long field = window >> RcvWindowScale;
            if (field > 65535)
            {
                field = 65535;
            }
            return (int)field;
        }

        internal void AckSent()
        {
            AckPendingSegments = 0;
            AckNow = false;
            DelayedAckDeadline = 0;
            Counters[NetStatistics.TcpAcksSent]++;
        }

        internal void SendAckNow()
        {
            if (State == TcpState.SynReceived)
            {
                Layer.SendSegment(this, Iss, TcpLayer.FlagSyn | TcpLayer.FlagAck, 0, 0);
                return;
            }
            if (State == TcpState.Closed || State == TcpState.SynSent || State == TcpState.Listen)
            {
                return;
            }
            Layer.SendSegment(this, SndNxt, TcpLayer.FlagAck, 0, 0);
        }

        /// <summary>End of the receive batch for this connection.</summary>
        internal void FlushBatch(long now)
        {
            if (State == TcpState.Closed)
            {
                return;
            }
            if (OutputPending)
            {
                Output(now);
            }
            if (AckNow || AckPendingSegments >= 2)
            {
                SendAckNow();
            }
            else if (AckPendingSegments == 1 && DelayedAckDeadline == 0)
            {
                DelayedAckDeadline = now + Layer.Config.TcpDelayedAckMilliseconds * 1000000L;
            }
        }

        // ============================================================ timers

        internal long NextDeadline()
        {
            long best = long.MaxValue;
            if (RtoDeadline != 0 && RtoDeadline < best)
            {
                best = RtoDeadline;
            }
            if (PersistDeadline != 0 && PersistDeadline < best)
            {
                best = PersistDeadline;
            }
            if (DelayedAckDeadline != 0 && DelayedAckDeadline < best)
            {
                best = DelayedAckDeadline;
            }
            if (TimeWaitDeadline != 0 && TimeWaitDeadline < best)
            {
                best = TimeWaitDeadline;
            }
            return best;
        }

        internal void OnTimers(long now)
        {
            if (TimeWaitDeadline != 0 && now >= TimeWaitDeadline)
            {
                TimeWaitDeadline = 0;
                if (State == TcpState.TimeWait || State == TcpState.FinWait2)
                {
                    EnterClosed(SocketError.Success);
                    return;
                }
            }
            if (RtoDeadline != 0 && now >= RtoDeadline)
            {
                RtoDeadline = 0;
                OnRetransmitTimeout(now);
                if (State == TcpState.Closed)
                {
                    return;
                }
            }
            if (PersistDeadline != 0 && now >= PersistDeadline)
            {
                PersistDeadline = 0;
                if (SndWnd == 0 && Gt(DataEnd, SndNxt))
                {
                    // Zero-window probe: an old sequence number makes the peer answer with its window.
                    Counters[NetStatistics.TcpZeroWindowProbes]++;
                    Layer.SendSegment(this, SndUna - 1, TcpLayer.FlagAck, 0, 0);
                    if (Backoff < 10)
                    {
                        Backoff++;
                    }
                    long interval = RtoUs << Backoff;
                    if (interval > Layer.MaxRtoUs)
                    {
                        interval = Layer.MaxRtoUs;
                    }
                    PersistDeadline = now + interval * 1000;
                }
                else
                {
                    Output(now);
                }
            }
            if (DelayedAckDeadline != 0 && now >= DelayedAckDeadline)
            {
                DelayedAckDeadline = 0;
                if (AckPendingSegments > 0)
                {
                    Counters[NetStatistics.TcpDelayedAcks]++;
                    SendAckNow();
                }
            }
        }

        private void OnRetransmitTimeout(long now)
        {
            Retries++;
            if (Retries > Layer.Config.TcpMaxRetries)
            {
                Counters[NetStatistics.TcpConnTimeouts]++;
                if (State != TcpState.SynSent && State != TcpState.SynReceived)
                {
                    SendResetSegment();
                }
                EnterClosed(SocketError.TimedOut);
                return;
            }
            Timeouts++;
            Counters[NetStatistics.TcpTimeouts]++;
            if (Backoff < 10)
            {
                Backoff++;
            }
            RttTiming = false;
            if (State == TcpState.SynSent || State == TcpState.SynReceived)
            {
                SndMax = Iss + 1;
                SendSyn(now);
                long limited = RtoUs << Backoff;
                RtoDeadline = now + (limited > Layer.MaxRtoUs ? Layer.MaxRtoUs : limited) * 1000;
                return;
            }
            long flight = SndMax - SndUna;
            Ssthresh = flight / 2 > 2 * Mss ? flight / 2 : 2 * Mss;
            Cwnd = Mss;
            BytesAckedInCa = 0;
            InRecovery = false;
            DupAcks = 0;
            Recover = SndMax;
            SndNxt = SndUna;
            Output(now);
            long rto = RtoUs << Backoff;
            if (rto > Layer.MaxRtoUs)
            {
                rto = Layer.MaxRtoUs;
            }
            RtoDeadline = now + rto * 1000;
        }

        // ============================================================ closing

        internal void SendResetSegment()
        {
            Layer.SendBare(LocalAddress, LocalPort, RemoteAddress, RemotePort, SndNxt, RcvNxt, TcpLayer.FlagRst | TcpLayer.FlagAck, 0);
        }

        /// <summary>Queues our FIN (Shutdown(Send) / Close).</summary>
        internal void QueueFin(long now)
        {
            if (FinQueued)
            {
                return;
            }
            switch (State)
            {
                case TcpState.SynReceived:
                case TcpState.Established:
                    FinQueued = true;
                    State = TcpState.FinWait1;
                    break;
                case TcpState.CloseWait:
                    FinQueued = true;
                    State = TcpState.LastAck;
                    break;
                default:
                    return;
            }
            Output(now);
        }

        /// <summary>Frees the receive queue and the out-of-order queue.</summary>
        internal void FreeReceiveQueues(bool keepInOrder)
        {
            if (!keepInOrder)
            {
                ReceiveQueue.FreeAll();
            }
            Packet p = OooHead;
            while (p != null)
            {
                Packet next = p.Next;
                p.Next = null;
                p.Free();
                p = next;
            }
            OooHead = null;
            OooBytes = 0;
            OooCount = 0;
            OooTrueSize = 0;
        }

        /// <summary>
        /// The connection is over: leave the tables, free queued packets and pages, record the error. The socket
        /// goes back to the pool if no application holds it.
        /// </summary>
        internal void EnterClosed(SocketError error)
        {
            Layer.Unhash(this);
            Layer.Deactivate(this);
            Layer.Unschedule(this);
            if (State == TcpState.Listen)
            {
                Layer.RemoveListener(this);
            }
            TcpState previous = State;
            State = TcpState.Closed;
            RtoDeadline = 0;
            PersistDeadline = 0;
            DelayedAckDeadline = 0;
            TimeWaitDeadline = 0;
            if (error != SocketError.Success)
            {
                Error = error;
            }
            // Keep in-order data an application can still read (a reset connection loses it, as in Linux).
            FreeReceiveQueues(error == SocketError.Success && !Orphan);
            Send.Clear();
            SendBufferSequence = SndMax;
            if (Parent != null)
            {
                Parent.RemoveChild(this);
            }
            if (Orphan)
            {
                ReceiveQueue.FreeAll();
                Stack.ReleaseSocket(Socket);
                return;
            }
            SocketEvents events = SocketEvents.Closed | SocketEvents.Readable;
            if (error != SocketError.Success)
            {
                events |= SocketEvents.Error | SocketEvents.Writable;
            }
            if (previous != TcpState.Closed)
            {
                Stack.Notify(Socket, events);
            }
        }

        /// <summary>Application Close: graceful when possible, RST when unread data would be lost.</summary>
        internal void Close(long now)
        {
            Orphan = true;
            switch (State)
            {
                case TcpState.Closed:
                    EnterClosed(SocketError.Success);
                    return;
                case TcpState.Listen:
                    while (ChildHead != null)
                    {
                        TcpConnection child = ChildHead;
                        RemoveChild(child);
                        child.Orphan = true;
                        child.Abort();
                    }
                    EnterClosed(SocketError.Success);
                    return;
                case TcpState.SynSent:
                    EnterClosed(SocketError.Success);
                    return;
            }
            if (!ReceiveQueue.IsEmpty || OooHead != null)
            {
                Abort();
                return;
            }
            // Nobody will read any more: data still in flight is acknowledged and dropped rather than queued on
            // the orphan, where it would hold the driver's receive buffers until the connection ends.
            ReceiveShutdown = true;
            if (State == TcpState.Established || State == TcpState.CloseWait || State == TcpState.SynReceived)
            {
                QueueFin(now);
            }
            else if (State == TcpState.FinWait2)
            {
                TimeWaitDeadline = now + Layer.Config.TcpTimeWaitMilliseconds * 1000000L;
            }
        }

        /// <summary>Abortive close: RST (when synchronized) and straight to CLOSED.</summary>
        internal void Abort()
        {
            if (State != TcpState.Closed && State != TcpState.Listen && State != TcpState.SynSent && State != TcpState.TimeWait)
            {
                SendResetSegment();
            }
            if (State == TcpState.Listen)
            {
                while (ChildHead != null)
                {
                    TcpConnection child = ChildHead;
                    RemoveChild(child);
                    child.Orphan = true;
                    child.Abort();
                }
            }
            EnterClosed(SocketError.Success);
        }

        // ============================================================ application data

        /// <summary>Copies (or, with a null destination, drops) received bytes. See Socket.Receive.</summary>
        internal int Read(byte* destination, int size, out SocketError error)
        {
            if (ReceiveQueue.IsEmpty)
            {
                if (Error != SocketError.Success)
                {
                    error = Error;
                    return 0;
                }
                if (FinReceived || State == TcpState.Closed || ReceiveShutdown)
                {
                    error = SocketError.Success;
                    return 0;
                }
                if (State == TcpState.Listen)
                {
                    error = SocketError.NotConnected;
                    return 0;
                }
                error = SocketError.WouldBlock;
                return 0;
            }
            int copied = 0;
            while (copied < size)
            {
                Packet p = ReceiveQueue.Peek();
                if (p == null)
                {
                    break;
                }
                int take = p.Length < size - copied ? p.Length : size - copied;
                if (destination != null)
                {
                    p.CopyTo(0, destination + copied, take);
                }
                copied += take;
                if (take == p.Length)
                {
                    ReceiveQueue.Dequeue();
                    p.Free();
                }
                else
                {
                    p.Pull(take);
                    ReceiveQueue.AdjustBytes(-take);
                }
            }
            error = SocketError.Success;
            MaybeWindowUpdate();
            return copied;
        }

        /// <summary>After the application read: tell the peer when the window has opened a lot.</summary>
        private void MaybeWindowUpdate()
        {
            if (State != TcpState.Established && State != TcpState.FinWait1 && State != TcpState.FinWait2)
            {
                return;
            }
            long free = ReceiveBufferSize - ReceiveQueue.Bytes - OooBytes;
            long current = Gt(RcvAdv, RcvNxt) ? RcvAdv - RcvNxt : 0;
            if (free >= 2 * current && free - current >= 2 * ReceiveMss)
            {
                SendAckNow();
            }
        }

        internal int Write(byte* source, int size, out SocketError error)
        {
            if (Error != SocketError.Success)
            {
                error = Error;
                return 0;
            }
            if (FinQueued)
            {
                error = SocketError.Shutdown;
                return 0;
            }
            if (State == TcpState.SynSent || State == TcpState.SynReceived)
            {
                error = SocketError.WouldBlock;
                return 0;
            }
            if (State != TcpState.Established && State != TcpState.CloseWait)
            {
                error = SocketError.NotConnected;
                return 0;
            }
            if (size <= 0)
            {
                error = SocketError.Success;
                return 0;
            }
            bool poolEmpty;
            int taken = Send.Append(source, size, SendBufferSize, out poolEmpty);
            if (poolEmpty)
            {
                Counters[NetStatistics.TxPageAllocFailures]++;
            }
            if (taken == 0)
            {
                SendBlocked = true;
                error = SocketError.WouldBlock;
                return 0;
            }
            error = SocketError.Success;
            Output(Stack.Now);
            return taken;
        }

        internal void GetInfo(out TcpInfo info)
        {
            info = default;
            info.State = State;
            info.TotalRetransmits = Retransmits;
            info.RttMicroseconds = SrttUs;
            info.RttVarMicroseconds = RttVarUs;
            info.RtoMicroseconds = RtoUs;
            info.CongestionWindow = Cwnd;
            info.SlowStartThreshold = Ssthresh;
            info.SendWindow = SndWnd;
            info.SendMss = Mss;
            info.ReceiveMss = ReceiveMss;
            info.ReceiveWindowScale = WindowScaleOk ? RcvWindowScale : -1;
            info.SendWindowScale = WindowScaleOk ? SndWindowScale : -1;
            info.SackPermitted = SackOk;
            info.BytesInFlight = SndMax - SndUna;
            info.BytesAcked = BytesAcked;
            info.BytesReceived = BytesReceived;
            info.SegmentsIn = SegmentsIn;
            info.SegmentsOut = SegmentsOut;
            info.OutOfOrderSegments = OutOfOrderSegments;
            info.Timeouts = Timeouts;
            info.FastRetransmits = FastRetransmits;
        }
    }
}
