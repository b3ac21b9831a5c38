using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Timer handlers: retransmission (RFC 6298 with backoff; F-RTO armed), tail loss probe (RFC 8985 section 7),
    /// RACK reordering (RFC 8985 section 6.3), zero-window
    /// probe, delayed ACK, TIME_WAIT and FIN_WAIT_2, keepalive (RFC 9293 section 3.8.4). Orphans (closed by the
    /// application) in FIN_WAIT_1, CLOSING and LAST_ACK give up after <see cref="NetConfig.TcpOrphanRetries"/>
    /// retransmissions or unanswered window probes, like Linux's <c>tcp_orphan_retries</c>.
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        internal Instant NextDeadline() => Timers.NextDeadline();

        internal void OnTimers(Instant now)
        {
            if (Timers.Expire(TcpTimer.TimeWait, now) && State == TcpState.TimeWait)
            {
                EnterClosed(SocketError.Success);
                return;
            }
            if (Timers.Expire(TcpTimer.FinWait2, now) && State == TcpState.FinWait2)
            {
                Counters[NetStatistics.TcpFinWait2Timeouts]++;
                EnterClosed(SocketError.Success);
                return;
            }
            if (Timers.Expire(TcpTimer.Reorder, now))
            {
                OnReorderTimer(now);
            }
            if (Timers.Expire(TcpTimer.LossProbe, now))
            {
                OnLossProbe(now);
            }
            if (Timers.Expire(TcpTimer.Retransmit, now))
            {
                OnRetransmitTimeout(now);
                if (State == TcpState.Closed)
                {
                    return;
                }
            }
            if (Timers.Expire(TcpTimer.Persist, now))
            {
                OnPersist(now);
                if (State == TcpState.Closed)
                {
                    return;
                }
            }
            if (Timers.Expire(TcpTimer.DelayedAck, now) && DelayedAck.TimerFired())
            {
                Counters[NetStatistics.TcpDelayedAcks]++;
                SendAckNow();
            }
            if (Timers.Expire(TcpTimer.KeepAlive, now))
            {
                OnKeepAlive(now);
            }
        }

        /// <summary>Retransmissions (or unanswered probes) allowed before the connection is dropped.</summary>
        private int RetryLimit
        {
            get
            {
                if (Orphan && (State == TcpState.FinWait1 || State == TcpState.Closing || State == TcpState.LastAck))
                {
                    return Layer.Config.TcpOrphanRetries;
                }
                return Layer.Config.TcpMaxRetries;
            }
        }

        private Duration BackedOffRto() => Backoff.Apply(Rtt.Rto, Layer.MaxRto);

        private void OnRetransmitTimeout(Instant now)
        {
            Recovery.TimeoutFired();
            if (!Backoff.TimedOut(RetryLimit))
            {
                Counters[Orphan && State != TcpState.SynReceived ? NetStatistics.TcpOrphanTimeouts : NetStatistics.TcpConnTimeouts]++;
                if (State != TcpState.SynSent && State != TcpState.SynReceived)
                {
                    SendResetSegment();
                }
                EnterClosed(SocketError.TimedOut);
                return;
            }
            Stats.Timeout();
            if (State == TcpState.SynSent || State == TcpState.SynReceived)
            {
                Snd.SynSent(); // the next SYN is a retransmission
                SendSyn(now);
                Timers.Arm(TcpTimer.Retransmit, now + BackedOffRto());
                return;
            }
            if (Board.IsEmpty)
            {
                return;
            }
            Stats.TimeoutIn(Recovery.State);
            // RFC 5681 / 6298 section 5: ssthresh from the flight, cwnd one segment, everything not SACKed is lost.
            bool frtoAllowed = Layer.Config.TcpFrto && Backoff.Shift == 1;
            if (Recovery.EnterLoss(Cwnd, Ssthresh, Snd.Max, frtoAllowed, TsNow(now)))
            {
                Ssthresh = Cc.SsthreshOnLoss(this, now);
            }
            Cwnd = SendMss;
            Timers.Stop(TcpTimer.LossProbe);
            Timers.Stop(TcpTimer.Reorder);
            Board.MarkAllLost();
            RetransmitRecord(0, now);
            Timers.Arm(TcpTimer.Retransmit, now + BackedOffRto());
        }

        /// <summary>The peer's delayed ACK, added to the probe timeout when one segment is in flight.</summary>
        private static Duration TlpMaxAckDelay => Duration.FromMilliseconds(40);

        /// <summary>Added to the probe timeout when more than one segment is in flight.</summary>
        private static Duration TlpExtra => Duration.FromMilliseconds(2);

        private const int TlpProbeSegments = 2; // new segments in one probe (see OnLossProbe)

        /// <summary>The RACK reordering timer fired (RFC 8985 section 6.3).</summary>
        private void OnReorderTimer(Instant now)
        {
            DetectLoss(now);
            if (Board.LostBytes > 0 && Recovery.State == TcpCaState.Open)
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
        /// Arms the tail loss probe (RFC 8985 section 7.2) while data is in flight and no timeout recovery runs. Unlike
        /// the RFC it is also armed in fast recovery: when the last retransmissions are lost and nothing sent after
        /// them can be SACKed, the probe (sent later than all of them) lets RACK mark them lost instead of a timeout.
        /// </summary>
        private void ScheduleLossProbe(Instant now)
        {
            if (!SackOk || !Recovery.MayProbe || Board.IsEmpty || !Rtt.HasSample)
            {
                Timers.Stop(TcpTimer.LossProbe);
                return;
            }
            Instant deadline = now + LossRecovery.ProbeTimeout(Rtt.Srtt, Board.Count, TlpMaxAckDelay, TlpExtra);
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
            if (Board.IsEmpty || Recovery.State == TcpCaState.Loss)
            {
                return;
            }
            Stats.LossProbe();
            uint dataEnd = DataEnd;
            bool sent = false;
            if (Gt(dataEnd, Snd.Max) && Snd.WindowLeft >= SendMss && !Board.IsFull)
            {
                for (int i = 0; i < TlpProbeSegments; i++)
                {
                    int unsent = (int)(dataEnd - Snd.Max);
                    if (unsent <= 0 || (i > 0 && (Snd.WindowLeft < SendMss || Board.IsFull)))
                    {
                        break;
                    }
                    int length = unsent < SendMss ? unsent : SendMss;
                    if (!SendNew(Snd.Max, length, FinQueued && Snd.Max + (uint)length == dataEnd, now))
                    {
                        break;
                    }
                    sent = true;
                }
            }
            bool retransmitted = false;
            if (!sent)
            {
                int last = Board.Count - 1;
                retransmitted = (Board.Flags(last) & TcpScoreboard.FlagSacked) == 0 && RetransmitRecord(last, now);
            }
            Recovery.ProbeSent(Snd.Max, retransmitted);
            Timers.Arm(TcpTimer.Retransmit, now + Backoff.Apply(Rtt.Rto));
        }

        private void ArmPersist(Instant now)
        {
            if (!Timers.IsArmed(TcpTimer.Persist) && !Timers.IsArmed(TcpTimer.Retransmit))
            {
                Timers.Arm(TcpTimer.Persist, now + BackedOffRto());
            }
        }

        private void OnPersist(Instant now)
        {
            if (Snd.Window == 0 && Gt(DataEnd, Snd.Max) || Snd.Window == 0 && FinQueued && Snd.Max == DataEnd)
            {
                // Zero-window probe: an old sequence number makes the peer answer with its window.
                if (!Backoff.ProbeDue(RetryLimit))
                {
                    Counters[Orphan ? NetStatistics.TcpOrphanTimeouts : NetStatistics.TcpConnTimeouts]++;
                    SendResetSegment();
                    EnterClosed(SocketError.TimedOut);
                    return;
                }
                Counters[NetStatistics.TcpZeroWindowProbes]++;
                Layer.SendSegment(this, Snd.Una - 1, TcpLayer.FlagAck, 0, 0);
                Timers.Arm(TcpTimer.Persist, now + BackedOffRto());
            }
            else
            {
                Output(now);
            }
        }

        /// <summary>Starts the keepalive timer when the option is on and the connection is synchronized.</summary>
        internal void ArmKeepAlive(Instant now)
        {
            Instant first = KeepAlive.FirstDeadline(LastReceive, now);
            if (!first.IsSet)
            {
                Timers.Stop(TcpTimer.KeepAlive);
            }
            else if (State == TcpState.Established || State == TcpState.CloseWait || State == TcpState.FinWait2)
            {
                Timers.Arm(TcpTimer.KeepAlive, first);
            }
        }

        /// <summary>The keepalive timer (<see cref="TcpKeepAlive"/>): probe, wait, or reset with TimedOut.</summary>
        private void OnKeepAlive(Instant now)
        {
            if (!KeepAlive.Enabled || !(State == TcpState.Established || State == TcpState.CloseWait || State == TcpState.FinWait2))
            {
                return;
            }
            bool busy = !Board.IsEmpty || Timers.IsArmed(TcpTimer.Persist);
            switch (KeepAlive.OnTimer(now, LastReceive, busy, out Instant next))
            {
                case KeepAliveAction.GiveUp:
                    Counters[NetStatistics.TcpKeepAliveTimeouts]++;
                    SendResetSegment();
                    EnterClosed(SocketError.TimedOut);
                    return;
                case KeepAliveAction.Probe:
                    Counters[NetStatistics.TcpKeepAliveProbes]++;
                    Layer.SendSegment(this, Snd.Una - 1, TcpLayer.FlagAck, 0, 0);
                    break;
            }
            Timers.Arm(TcpTimer.KeepAlive, next);
        }
    }
}
