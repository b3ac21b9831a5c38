using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Timers: retransmission (RFC 6298 with backoff; F-RTO armed), tail loss probe, RACK reordering, zero-window
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
            if (Timers.Expire(TcpTimer.DelayedAck, now) && AckPendingSegments > 0)
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

        private Duration BackedOffRto() => Duration.Min(Rtt.Rto << Backoff, Layer.MaxRto);

        private void OnRetransmitTimeout(Instant now)
        {
            _tlp.Reset(); // the timeout's own response covers a probe's loss
            Retries++;
            if (Retries > RetryLimit)
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
            if (Backoff < 10)
            {
                Backoff++;
            }
            SynRttTiming = false;
            if (State == TcpState.SynSent || State == TcpState.SynReceived)
            {
                SndMax = Iss + 1;
                SendSyn(now);
                Timers.Arm(TcpTimer.Retransmit, now + BackedOffRto());
                return;
            }
            if (Board.IsEmpty)
            {
                return;
            }
            Stats.TimeoutIn(CaState);
            // RFC 5681 / 6298 section 5: ssthresh from the flight, cwnd one segment, everything not SACKed is lost.
            bool firstTimeout = CaState != TcpCaState.Loss || PmtuLossState; // see TcpConnection.PathMtu.cs
            PmtuLossState = false;
            if (CaState == TcpCaState.Open)
            {
                PriorCwnd = Cwnd;
                PriorSsthresh = Ssthresh;
            }
            if (firstTimeout)
            {
                Ssthresh = Cc.SsthreshOnLoss(this, now);
            }
            Frto = Layer.Config.TcpFrto && CaState == TcpCaState.Open && Backoff == 1 ? 1 : 0;
            Cwnd = SendMss;
            CaState = TcpCaState.Loss;
            Recover = SndMax;
            DupAcks = 0;
            Timers.Stop(TcpTimer.LossProbe);
            Timers.Stop(TcpTimer.Reorder);
            TlpOutstanding = false;
            Board.MarkAllLost();
            FrtoTsVal = TsNow(now);
            RetransmitRecord(0, now);
            Timers.Arm(TcpTimer.Retransmit, now + BackedOffRto());
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
            if (SndWnd == 0 && Gt(DataEnd, SndMax) || SndWnd == 0 && FinQueued && SndMax == DataEnd)
            {
                // Zero-window probe: an old sequence number makes the peer answer with its window.
                if (++ProbesOut > RetryLimit)
                {
                    Counters[Orphan ? NetStatistics.TcpOrphanTimeouts : NetStatistics.TcpConnTimeouts]++;
                    SendResetSegment();
                    EnterClosed(SocketError.TimedOut);
                    return;
                }
                Counters[NetStatistics.TcpZeroWindowProbes]++;
                Layer.SendSegment(this, SndUna - 1, TcpLayer.FlagAck, 0, 0);
                if (Backoff < 10)
                {
                    Backoff++;
                }
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
                    Layer.SendSegment(this, SndUna - 1, TcpLayer.FlagAck, 0, 0);
                    break;
            }
            Timers.Arm(TcpTimer.KeepAlive, next);
        }
    }
}
