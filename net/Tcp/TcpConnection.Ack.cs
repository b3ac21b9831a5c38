using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// What an acceptable ACK does: SACK blocks onto the scoreboard (D-SACK recognised, RFC 2883 section 4),
    /// cumulative acknowledgement, RTT samples (RFC 6298 from the scoreboard's transmit times, or from the echoed
    /// timestamp when the segment was retransmitted, RFC 7323), then loss detection and the congestion response:
    /// RACK (RFC 8985) or NewReno (RFC 6582) marks, fast recovery with PRR (RFC 6937), F-RTO after a timeout
    /// (RFC 5682), a loss probe's repair (RFC 8985 7.4). <see cref="LossRecovery"/> holds that state and decides;
    /// this file applies its decisions to the scoreboard, cwnd, ssthresh and the timers.
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        /// <summary>
        /// An acceptable ACK at or above snd.una. <paramref name="duplicate"/>: it carried no data, no FIN and no
        /// window change (RFC 5681's duplicate ACK when data is outstanding).
        /// </summary>
        private void AckInput(ref TcpSegment segment, uint ack, bool duplicate, Instant now)
        {
            Backoff.PeerAnswered();
            int delivered = 0;
            if (SackOk && segment.SackCount > 0)
            {
                delivered = SackInput(ref segment, ack, now);
            }
            long acked = 0;
            if (Gt(ack, Snd.Una))
            {
                acked = ack - Snd.Una;
                Duration rtt;
                delivered += Board.AckTo(ack, now, out rtt);
                if (Gt(ack, Snd.BufferStart))
                {
                    uint top = Lt(ack, DataEnd) ? ack : DataEnd;
                    int released = (int)(top - Snd.BufferStart);
                    if (released > 0)
                    {
                        Send.Release(released);
                        Snd.BufferReleased(top);
                        Stats.BytesAcked(released);
                    }
                }
                if (rtt >= Duration.Zero)
                {
                    SampleRtt(rtt, now);
                }
                else if (Options.TryEcho(ref segment, out uint echo))
                {
                    // Retransmitted: the echoed timestamp still says which copy arrived (RFC 7323 section 4.1).
                    SampleRtt(Duration.FromMilliseconds(TsNow(now) - echo), now);
                }
                Snd.Acknowledge(ack);
                Backoff.Acknowledged();
                Recovery.Acknowledged(ack);
                if (SendBlocked && Send.Length < SendBufferSize)
                {
                    SendBlocked = false;
                    Stack.Notify(Socket, SocketEvents.Writable);
                }
            }
            else if (duplicate && Snd.Max != Snd.Una)
            {
                Recovery.DuplicateAck();
                Counters[NetStatistics.TcpDupAcksRx]++;
            }
            if (acked > 0 || delivered > 0 || duplicate)
            {
                Recovery.NoteEcho(Options.TryEcho(ref segment, out uint tsEcr), tsEcr);
                OnAckForRecovery(acked, delivered, duplicate && acked == 0, now);
            }
            TlpRepairAck(ack, acked > 0, now);
            if (Snd.Una == Snd.Max)
            {
                Timers.Stop(TcpTimer.Retransmit);
            }
            else if (acked > 0 || !Timers.IsArmed(TcpTimer.Retransmit))
            {
                Timers.Arm(TcpTimer.Retransmit, now + Rtt.Rto);
            }
            ScheduleLossProbe(now);
            OutputPending = true;
            if (FinQueued && Snd.Una == DataEnd + 1)
            {
                OurFinAcked(now);
            }
        }

        private void OnAckForRecovery(long acked, int delivered, bool duplicate, Instant now)
        {
            Recovery.NewAck(acked);
            bool canSendNew = Gt(DataEnd, Snd.Max) && Snd.WindowLeft >= SendMss;
            switch (Recovery.FrtoAck(acked, Snd.Una, canSendNew))
            {
                case FrtoVerdict.SendNewData:
                    Cwnd = Pipe + 2L * SendMss;
                    OutputPending = true;
                    return;
                case FrtoVerdict.Spurious:
                    Stats.SpuriousTimeout();
                    Board.UnmarkLost();
                    Cwnd = Recovery.PriorCwnd;
                    Ssthresh = Recovery.PriorSsthresh;
                    Cc.Undo(this);
                    OutputPending = true;
                    return;
                case FrtoVerdict.Genuine:
                    Cwnd = 3L * SendMss; // retransmit in slow start
                    break;
            }
            // Loss marking.
            if (SackOk)
            {
                if (Board.SackedCount > 0 || Board.RetransBytes > 0)
                {
                    DetectLoss(now);
                }
            }
            else if (Recovery.NewRenoMarksLoss(duplicate, acked, Snd.Una) && !Board.IsEmpty)
            {
                Board.MarkLost(0); // fast retransmit, or the next hole after a partial ACK
            }

            switch (Recovery.State)
            {
                case TcpCaState.Open:
                    if (Board.LostBytes > 0)
                    {
                        EnterRecovery(now);
                        PrrUpdate(delivered, true);
                    }
                    else if (acked > 0)
                    {
                        Cc.OnAck(this, acked, now);
                    }
                    else if (!SackOk && duplicate && Recovery.DuplicateAcks < LossRecovery.DuplicateAckThreshold)
                    {
                        OutputPending = true; // limited transmit (RFC 3042), see Output
                    }
                    break;
                case TcpCaState.Recovery:
                    if (Recovery.TryComplete(Snd.Una))
                    {
                        Cwnd = Ssthresh; // RFC 6937: recovery ends with cwnd = ssthresh
                    }
                    else
                    {
                        PrrUpdate(delivered, false);
                    }
                    break;
                case TcpCaState.Loss:
                    Recovery.TryComplete(Snd.Una);
                    if (acked > 0)
                    {
                        Cc.OnAck(this, acked, now); // slow start back towards ssthresh
                    }
                    break;
            }
        }

        private void EnterRecovery(Instant now)
        {
            Recovery.EnterRecovery(Cwnd, Ssthresh, Snd.Una, Snd.Max);
            Ssthresh = Cc.SsthreshOnLoss(this, now);
            Stats.FastRetransmit();
            Timers.Stop(TcpTimer.LossProbe);
        }

        /// <summary>cwnd for this ACK in fast recovery (<see cref="LossRecovery.PrrCwnd"/>).</summary>
        private void PrrUpdate(long delivered, bool entering)
        {
            Cwnd = Recovery.PrrCwnd(delivered, Pipe, Ssthresh, SendMss, entering);
            OutputPending = true;
        }

        /// <summary>RACK loss detection (RFC 8985 section 6.2) on the scoreboard; arms or stops the reordering timer.</summary>
        private void DetectLoss(Instant now)
        {
            Duration window = Recovery.ReorderWindow(Board.ReorderingSeen, Board.SackedCount, Board.MinRtt, Rtt.Srtt);
            int marked = Board.DetectLoss(now, window, true, out Duration timeout);
            if (marked > 0)
            {
                Stats.RackLosses(marked);
                OutputPending = true;
            }
            if (timeout > Duration.Zero)
            {
                Timers.Arm(TcpTimer.Reorder, now + timeout);
            }
            else
            {
                Timers.Stop(TcpTimer.Reorder);
            }
        }

        /// <summary>After an ACK: a tail loss probe that repaired a loss gets one congestion response (RFC 8985 7.4).</summary>
        private void TlpRepairAck(uint ack, bool advanced, Instant now)
        {
            if (!Recovery.ProbeRepairedLoss(ack, advanced))
            {
                return;
            }
            Stats.TlpRepair();
            if (Recovery.State == TcpCaState.Open)
            {
                Ssthresh = Cc.SsthreshOnLoss(this, now);
                Cwnd = Ssthresh;
            }
        }

        /// <summary>Marks the SACKed records; returns bytes newly SACKed. Counts a D-SACK (first block below the ACK or inside the second).</summary>
        private int SackInput(ref TcpSegment segment, uint ack, Instant now)
        {
            int newly = 0;
            for (int b = 0; b < segment.SackCount; b++)
            {
                uint left = segment.Sack[2 * b];
                uint right = segment.Sack[2 * b + 1];
                if (!Lt(left, right))
                {
                    continue;
                }
                if (b == 0)
                {
                    bool dsack = Leq(right, ack) ||
                                 (segment.SackCount > 1 && Geq(left, segment.Sack[2]) && Leq(right, segment.Sack[3]));
                    if (dsack)
                    {
                        Stats.DsackReceived();
                        Recovery.DsackReceived(right);
                        Board.ReorderingSeen = true;
                        continue;
                    }
                }
                if (Leq(right, ack) || Gt(right, Snd.Max))
                {
                    continue; // old or bogus
                }
                newly += Board.MarkSackBlock(left, right, now);
            }
            Board.RememberSackBlocks(ref segment);
            return newly;
        }

        private void OurFinAcked(Instant now)
        {
            switch (State)
            {
                case TcpState.FinWait1:
                    SetState(TcpState.FinWait2);
                    if (Orphan)
                    {
                        Timers.Arm(TcpTimer.FinWait2, now + Layer.FinWait2Timeout);
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

        /// <summary>One RTT sample (RFC 6298 section 2), also shown to congestion control.</summary>
        private void SampleRtt(Duration measured, Instant now)
        {
            Duration rtt = Rtt.Sample(measured, Layer.MinRto, Layer.MaxRto);
            Cc.OnRttSample(this, rtt, now);
        }
    }
}
