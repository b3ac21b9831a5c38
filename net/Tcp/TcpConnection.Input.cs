using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>Segment input by state (RFC 9293 section 3.10.7): SYN-SENT, then the synchronized states.</summary>
    internal sealed unsafe partial class TcpConnection
    {
        internal void Input(Packet packet, ref TcpSegment segment, Instant now)
        {
            Stats.SegmentIn();
            LastReceive = now;
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
            if (State == TcpState.SynReceived && (flags & TcpLayer.FlagSyn) != 0 && sequence == Rcv.Irs &&
                (flags & TcpLayer.FlagAck) != 0)
            {
                // Simultaneous open: the peer's SYN-ACK repeats its SYN; keep only the ACK part.
                flags &= ~TcpLayer.FlagSyn;
                sequence++;
            }
            int segmentLength = dataLength + ((flags & TcpLayer.FlagSyn) != 0 ? 1 : 0) + ((flags & TcpLayer.FlagFin) != 0 ? 1 : 0);

            // 0. PAWS (RFC 7323 section 5.3): a timestamp older than TS.Recent is an old duplicate.
            if (Options.IsOldDuplicate(ref segment, (flags & TcpLayer.FlagRst) != 0))
            {
                packet.Free();
                Stats.PawsReject();
                if (dataLength > 0 && Leq(sequence + (uint)dataLength, Rcv.Nxt))
                {
                    SetDsack(sequence, sequence + (uint)dataLength);
                }
                SendAckNow();
                return;
            }

            // 1. Sequence acceptability (RFC 9293 3.10.7.4, in Linux's more forgiving form).
            uint window = Rcv.Window;
            if (!Rcv.IsAcceptable(sequence, segmentLength))
            {
                packet.Free();
                if ((flags & TcpLayer.FlagRst) == 0)
                {
                    Counters[NetStatistics.TcpUnacceptable]++;
                    if (State == TcpState.TimeWait && (flags & TcpLayer.FlagFin) != 0)
                    {
                        Timers.Arm(TcpTimer.TimeWait, now + Layer.TimeWaitTimeout);
                        Layer.TimeWaitStarted(this, false);
                    }
                    if (dataLength > 0 && Leq(sequence + (uint)dataLength, Rcv.Nxt))
                    {
                        SetDsack(sequence, sequence + (uint)dataLength); // a duplicate (RFC 2883)
                    }
                    SendAckNow();
                }
                return;
            }
            Options.SegmentAccepted(ref segment, sequence); // TS.Recent (RFC 7323 section 4.3)

            // 2. RST (RFC 5961: exact match resets, anything else in the window gets a challenge ACK).
            if ((flags & TcpLayer.FlagRst) != 0)
            {
                packet.Free();
                if (sequence != Rcv.Nxt)
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

            // Trim to the window: the front to Rcv.Nxt, the tail to the advertised right edge.
            if (Lt(sequence, Rcv.Nxt))
            {
                uint cut = Rcv.Nxt - sequence;
                SetDsack(sequence, cut >= (uint)dataLength ? sequence + (uint)dataLength : Rcv.Nxt);
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
                    sequence = Rcv.Nxt;
                }
            }
            uint right = Rcv.Nxt + window;
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
                if (Gt(ack, Snd.Una) && Leq(ack, Snd.Max))
                {
                    Snd.InitWindow(Options.SendWindow(segment.Window), sequence, ack);
                    HandshakeAcked(ack, now);
                }
                else
                {
                    packet.Free();
                    Layer.SendResetFor(ref segment);
                    return;
                }
            }
            if (Gt(ack, Snd.Max))
            {
                packet.Free();
                SendAckNow();
                return;
            }
            if (Snd.AckTooOld(ack))
            {
                // RFC 5961 section 5.2: an ACK below SND.UNA - MAX.SND.WND is a blind injection; drop and ACK.
                packet.Free();
                Counters[NetStatistics.TcpChallengeAcks]++;
                SendAckNow();
                return;
            }
            if (Snd.UpdateWindow(sequence, ack, Options.SendWindow(segment.Window), out bool windowChanged))
            {
                if (Snd.Window > 0 && Timers.IsArmed(TcpTimer.Persist))
                {
                    Timers.Stop(TcpTimer.Persist);
                    Backoff.WindowOpened();
                    OutputPending = true;
                }
                if (windowChanged)
                {
                    OutputPending = true;
                }
            }
            if (Geq(ack, Snd.Una) && (Gt(ack, Snd.Una) || Snd.Max != Snd.Una))
            {
                bool duplicate = ack == Snd.Una && dataLength == 0 && (flags & TcpLayer.FlagFin) == 0 && !windowChanged;
                AckInput(ref segment, ack, duplicate, now);
                if (State == TcpState.Closed)
                {
                    packet.Free();
                    return;
                }
            }
            else if (ack == Snd.Una)
            {
                // Nothing outstanding: a duplicate ACK (with the probe's D-SACK or without) can still end a tail
                // loss probe's episode (RFC 8985 7.4): both copies arrived.
                TlpRepairAck(ack, false, now);
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
            if ((flags & TcpLayer.FlagFin) != 0 && sequence + (uint)dataLength == Rcv.Nxt)
            {
                FinInput(now);
            }
            // The ACK waits for the end of the receive batch, even one owed at once (out-of-order data, a filled
            // hole, a duplicate): one ACK with current SACK blocks per driver poll, as Linux sends one per
            // GRO-merged packet, instead of one per segment (at 1 % loss nearly every segment is out of order,
            // and an ACK per segment cost the guest a transmit per receive). A long batch still ACKs inline
            // every DelayedAck.InlineSegments segments so the sender's clock keeps ticking.
            if (DelayedAck.InlineDue)
            {
                SendAckNow();
            }
            if (DelayedAck.Owed || OutputPending)
            {
                Layer.Schedule(this);
            }
        }

        private void SynSentInput(Packet packet, ref TcpSegment segment, Instant now)
        {
            packet.Free();
            int flags = segment.Flags;
            uint ack = segment.Acknowledgment;
            bool hasAck = (flags & TcpLayer.FlagAck) != 0;
            if (hasAck && (Leq(ack, Snd.Iss) || Gt(ack, Snd.Max)))
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
            Rcv.Start(segment.Sequence, ReceiveBufferSize < 65535 ? ReceiveBufferSize : 65535);
            ApplySynOptions(ref segment);
            InitCongestion();
            Snd.InitWindow(segment.Window, segment.Sequence, ack); // never scaled in a SYN
            if (hasAck)
            {
                HandshakeAcked(ack, now);
                SendAckNow();
                OutputPending = true;
                Layer.Schedule(this);
            }
            else
            {
                // Simultaneous open: answer with SYN-ACK, same ISS.
                SetState(TcpState.SynReceived);
                Snd.ForgetSyn();
                SendSyn(now);
            }
        }
    }
}
