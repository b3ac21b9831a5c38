using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Loss detection and recovery. With SACK: RACK (RFC 8985, time-based marking with a reordering window) and
    /// RFC 6675's DupThresh rule mark scoreboard records lost; recovery sends them first (pipe-limited, RFC 6675
    /// NextSeg) with Proportional Rate Reduction (RFC 6937) setting cwnd on every ACK; a tail loss probe
    /// (RFC 8985 section 7) replaces most timeouts at the end of a flight. Without SACK: NewReno (RFC 6582) — three
    /// duplicate ACKs or a partial ACK mark the first unacknowledged segment lost. After a timeout every record is
    /// lost and F-RTO (RFC 5682) tells a spurious timeout by sending new data and undoes it.
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        /// <summary>RFC 8985 section 7.2: PTO = 2 SRTT + 2 ms when more than one segment is in flight.</summary>
        private static Duration TlpExtra => Duration.FromMilliseconds(2);

        /// <summary>The peer's delayed ACK, added to the PTO when one segment is in flight.</summary>
        private static Duration TlpDelayedAck => Duration.FromMilliseconds(40);
        private const int TlpProbeSegments = 2;              // new segments in one probe (see OnLossProbe)

        private void OnAckForRecovery(long acked, int delivered, bool duplicate, uint priorUna, Instant now)
        {
            if (acked > 0 && CaState != TcpCaState.Recovery)
            {
                DupAcks = 0;
            }
            if (Frto != 0 && CaState == TcpCaState.Loss && FrtoAck(acked, duplicate, now))
            {
                return;
            }
            // Loss marking.
            if (SackOk)
            {
                if (Board.SackedCount > 0 || Board.RetransBytes > 0)
                {
                    DetectLoss(now);
                }
            }
            else if (CaState == TcpCaState.Open && duplicate && DupAcks == DuplicateAckThreshold && !Board.IsEmpty)
            {
                Board.MarkLost(0); // fast retransmit (RFC 5681 section 3.2)
            }
            else if (CaState == TcpCaState.Recovery && acked > 0 && Lt(SndUna, Recover) && !Board.IsEmpty)
            {
                Board.MarkLost(0); // partial ACK: the next hole (RFC 6582)
            }

            switch (CaState)
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
                    else if (!SackOk && duplicate && DupAcks < DuplicateAckThreshold)
                    {
                        OutputPending = true; // limited transmit (RFC 3042), see Output
                    }
                    break;
                case TcpCaState.Recovery:
                    if (Geq(SndUna, Recover))
                    {
                        // Recovery ends (RFC 6937: cwnd = ssthresh).
                        CaState = TcpCaState.Open;
                        Cwnd = Ssthresh;
                        DupAcks = 0;
                    }
                    else
                    {
                        PrrUpdate(delivered, false);
                    }
                    break;
                case TcpCaState.Loss:
                    if (Geq(SndUna, Recover))
                    {
                        CaState = TcpCaState.Open;
                        Frto = 0;
                    }
                    if (acked > 0)
                    {
                        Cc.OnAck(this, acked, now); // slow start back towards ssthresh
                    }
                    break;
            }
        }

        private void EnterRecovery(Instant now)
        {
            TlpOutstanding = false;
            PriorCwnd = Cwnd;
            PriorSsthresh = Ssthresh;
            Ssthresh = Cc.SsthreshOnLoss(this, now);
            Recover = SndMax;
            CaState = TcpCaState.Recovery;
            RecoverFs = SndMax - SndUna;
            PrrDelivered = 0;
            PrrOut = 0;
            Stats.FastRetransmit();
            Timers.Stop(TcpTimer.LossProbe);
        }

        /// <summary>Proportional Rate Reduction (RFC 6937 section 3.1, with PRR-SSRB): cwnd for this ACK.</summary>
        private void PrrUpdate(long delivered, bool entering)
        {
            PrrDelivered += delivered;
            long pipe = Pipe;
            long mss = SendMss;
            long sendCount;
            if (pipe > Ssthresh)
            {
                long fs = RecoverFs > 0 ? RecoverFs : 1;
                sendCount = (PrrDelivered * Ssthresh + fs - 1) / fs - PrrOut;
            }
            else
            {
                long limit = PrrDelivered - PrrOut > delivered ? PrrDelivered - PrrOut : delivered;
                limit += mss;
                sendCount = Ssthresh - pipe < limit ? Ssthresh - pipe : limit;
            }
            if (sendCount < 0)
            {
                sendCount = 0;
            }
            if (entering && sendCount < mss)
            {
                sendCount = mss; // the fast retransmit itself
            }
            Cwnd = pipe + sendCount;
            OutputPending = true;
        }

        /// <summary>RACK's reordering window (RFC 8985 section 6.2 step 4).</summary>
        private Duration ReorderWindow()
        {
            if (!Board.ReorderingSeen && (CaState == TcpCaState.Recovery || Board.SackedCount >= TcpScoreboard.DupThresh))
            {
                return Duration.Zero;
            }
            if (Board.MinRtt == Duration.MaxValue)
            {
                return Duration.Zero;
            }
            return Duration.Min(Board.MinRtt / 4 * ReoWndMultiplier, Rtt.Srtt);
        }

        private void DetectLoss(Instant now)
        {
            Duration timeout;
            int marked = Board.DetectLoss(now, ReorderWindow(), true, out timeout);
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

        /// <summary>The RACK reordering timer fired (RFC 8985 section 6.3).</summary>
        private void OnReorderTimer(Instant now)
        {
            DetectLoss(now);
            if (Board.LostBytes > 0 && CaState == TcpCaState.Open)
            {
                EnterRecovery(now);
                PrrUpdate(0, true);
            }
            if (OutputPending)
            {
                Output(now);
            }
        }

        /// <summary>
        /// F-RTO (RFC 5682 section 2) for the ACKs after a timeout. True when the ACK was fully handled here.
        /// </summary>
        private bool FrtoAck(long acked, bool duplicate, Instant now)
        {
            if (acked > 0 && FrtoOriginalAcked)
            {
                // With timestamps the first ACK already tells: it echoes an original transmission (RFC 3522).
                Frto = 2;
            }
            if (Frto == 1)
            {
                if (acked > 0 && Lt(SndUna, Recover))
                {
                    // Step 2b: the retransmission (or an original) was acknowledged; send new data instead of
                    // retransmitting, and see what the next ACK says.
                    uint dataEnd = DataEnd;
                    bool canSendNew = Gt(dataEnd, SndMax) && SndWnd - (long)(SndMax - SndUna) >= SendMss;
                    if (canSendNew)
                    {
                        Frto = 2;
                        Cwnd = Pipe + 2L * SendMss;
                        OutputPending = true;
                        return true;
                    }
                }
                Frto = 0; // a duplicate ACK, everything acknowledged, or nothing new to send: conventional recovery
                return false;
            }
            Frto = 0;
            if (acked > 0)
            {
                // Step 3b: new data acknowledged after only one retransmission: the timeout was spurious.
                Stats.SpuriousTimeout();
                Board.UnmarkLost();
                Cwnd = PriorCwnd;
                Ssthresh = PriorSsthresh;
                Cc.Undo(this);
                CaState = TcpCaState.Open;
                OutputPending = true;
                return true;
            }
            Cwnd = 3L * SendMss; // step 3a: the timeout was genuine; retransmit in slow start
            return false;
        }

        /// <summary>
        /// Arms the tail loss probe (RFC 8985 section 7.2) while data is in flight and no timeout recovery runs. Unlike
        /// the RFC it is also armed in fast recovery: when the last retransmissions are lost and nothing sent after
        /// them can be SACKed, the probe (sent later than all of them) lets RACK mark them lost instead of a timeout.
        /// </summary>
        private void ScheduleLossProbe(Instant now)
        {
            if (!SackOk || CaState == TcpCaState.Loss || TlpOutstanding || Board.IsEmpty || !Rtt.HasSample)
            {
                Timers.Stop(TcpTimer.LossProbe);
                return;
            }
            Duration pto = 2 * Rtt.Srtt + (Board.Count == 1 ? TlpDelayedAck : TlpExtra);
            Instant deadline = now + pto;
            if (Timers.IsArmed(TcpTimer.Retransmit) && deadline >= Timers.Deadline(TcpTimer.Retransmit))
            {
                Timers.Stop(TcpTimer.LossProbe);
            }
            else
            {
                Timers.Arm(TcpTimer.LossProbe, deadline);
            }
        }

        /// <summary>
        /// The probe timer fired: send new data, or the last segment again (RFC 8985 section 7.3). Unlike the RFC's
        /// one segment, the probe is two new segments when there are: the usual cause of the silence is that the ACK
        /// for the whole flight was lost, and a receiver that ACKs every second segment (RFC 5681 4.2; Linux) holds
        /// a single one for its delayed-ACK time, 40 ms, so a one-segment probe is answered only then. Measured
        /// through the lossy router at 5 % loss, guest sending: about 80 such stalls in 10 s.
        /// </summary>
        private void OnLossProbe(Instant now)
        {
            if (Board.IsEmpty || CaState == TcpCaState.Loss)
            {
                return;
            }
            Stats.LossProbe();
            TlpOutstanding = true;
            TlpHighSeq = SndMax;
            uint dataEnd = DataEnd;
            bool sent = false;
            if (Gt(dataEnd, SndMax) && SndWnd - (long)(SndMax - SndUna) >= SendMss && !Board.IsFull)
            {
                for (int i = 0; i < TlpProbeSegments; i++)
                {
                    int unsent = (int)(dataEnd - SndMax);
                    if (unsent <= 0 || (i > 0 && (SndWnd - (long)(SndMax - SndUna) < SendMss || Board.IsFull)))
                    {
                        break;
                    }
                    int length = unsent < SendMss ? unsent : SendMss;
                    if (!SendNew(SndMax, length, FinQueued && SndMax + (uint)length == dataEnd, now))
                    {
                        break;
                    }
                    sent = true;
                }
            }
            if (!sent)
            {
                int last = Board.Count - 1;
                if ((Board.Flags(last) & TcpScoreboard.FlagSacked) == 0 && RetransmitRecord(last, now))
                {
                    _tlp.Retransmitted(SndMax);
                }
            }
            TlpHighSeq = SndMax;
            Timers.Arm(TcpTimer.Retransmit, now + (Rtt.Rto << Backoff));
        }

        /// <summary>After an ACK: a tail loss probe that repaired a loss gets one congestion response (RFC 8985 7.4).</summary>
        private void TlpRepairAck(uint ack, bool advanced, Instant now)
        {
            if (!_tlp.Ack(ack, advanced))
            {
                return;
            }
            Stats.TlpRepair();
            if (CaState == TcpCaState.Open)
            {
                Ssthresh = Cc.SsthreshOnLoss(this, now);
                Cwnd = Ssthresh;
            }
        }
    }
}
