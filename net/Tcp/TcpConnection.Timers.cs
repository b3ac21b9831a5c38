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
        /// <summary>Disarms every timer of the connection (CLOSED, TIME_WAIT before its own, a reused socket).</summary>
        private void StopTimers()
        {
            RtoDeadline = 0;
            PersistDeadline = 0;
            DelayedAckDeadline = 0;
            TimeWaitDeadline = 0;
            TlpDeadline = 0;
            RackDeadline = 0;
            KeepAliveDeadline = 0;
        }

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
            if (TlpDeadline != 0 && TlpDeadline < best)
            {
                best = TlpDeadline;
            }
            if (RackDeadline != 0 && RackDeadline < best)
            {
                best = RackDeadline;
            }
            if (KeepAliveDeadline != 0 && KeepAliveDeadline < best)
            {
                best = KeepAliveDeadline;
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
                    if (State == TcpState.FinWait2)
                    {
                        Counters[NetStatistics.TcpFinWait2Timeouts]++;
                    }
                    EnterClosed(SocketError.Success);
                    return;
                }
            }
            if (RackDeadline != 0 && now >= RackDeadline)
            {
                RackDeadline = 0;
                OnReorderTimer(now);
            }
            if (TlpDeadline != 0 && now >= TlpDeadline)
            {
                TlpDeadline = 0;
                OnLossProbe(now);
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
                OnPersist(now);
                if (State == TcpState.Closed)
                {
                    return;
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
            if (KeepAliveDeadline != 0 && now >= KeepAliveDeadline)
            {
                KeepAliveDeadline = 0;
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

        private long BackedOffRto()
        {
            long rto = RtoUs << Backoff;
            return rto > Layer.MaxRtoUs ? Layer.MaxRtoUs : rto;
        }

        private void OnRetransmitTimeout(long now)
        {
            _tlpRetransPending = false; // the timeout's own response covers a probe's loss
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
            Timeouts++;
            Counters[NetStatistics.TcpTimeouts]++;
            if (Backoff < 10)
            {
                Backoff++;
            }
            SynRttTiming = false;
            if (State == TcpState.SynSent || State == TcpState.SynReceived)
            {
                SndMax = Iss + 1;
                SendSyn(now);
                RtoDeadline = now + BackedOffRto() * 1000;
                return;
            }
            if (Board.IsEmpty)
            {
                return;
            }
            RtoByState[(int)CaState]++;
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
            TlpDeadline = 0;
            RackDeadline = 0;
            TlpOutstanding = false;
            Board.MarkAllLost();
            FrtoTsVal = TsNow(now);
            RetransmitRecord(0, now);
            RtoDeadline = now + BackedOffRto() * 1000;
        }

        private void ArmPersist(long now)
        {
            if (PersistDeadline == 0 && RtoDeadline == 0)
            {
                PersistDeadline = now + BackedOffRto() * 1000;
            }
        }

        private void OnPersist(long now)
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
                PersistDeadline = now + BackedOffRto() * 1000;
            }
            else
            {
                Output(now);
            }
        }

        /// <summary>Starts the keepalive timer when the option is on and the connection is synchronized.</summary>
        internal void ArmKeepAlive(long now)
        {
            if (!KeepAlive || KeepAliveIdleMs <= 0)
            {
                KeepAliveDeadline = 0;
                return;
            }
            if (State == TcpState.Established || State == TcpState.CloseWait || State == TcpState.FinWait2)
            {
                long from = LastReceive > 0 ? LastReceive : now;
                KeepAliveDeadline = from + KeepAliveIdleMs * 1000000L;
                if (KeepAliveDeadline <= now)
                {
                    KeepAliveDeadline = now + 1;
                }
            }
        }

        /// <summary>
        /// Keepalive (RFC 9293 section 3.8.4, Linux's timing): after <see cref="KeepAliveIdleMs"/> without a segment from
        /// the peer, a probe (an ACK one below snd.una) every <see cref="KeepAliveIntervalMs"/>; after
        /// <see cref="KeepAliveCount"/> unanswered probes the connection is reset with TimedOut. Data outstanding
        /// is left to the retransmission timer.
        /// </summary>
        private void OnKeepAlive(long now)
        {
            if (!KeepAlive || !(State == TcpState.Established || State == TcpState.CloseWait || State == TcpState.FinWait2))
            {
                return;
            }
            if (LastReceive > LastKeepAliveProbe)
            {
                KeepAliveProbes = 0; // the peer spoke since the last probe
            }
            long idle = KeepAliveIdleMs * 1000000L;
            if (KeepAliveProbes == 0 && now - LastReceive < idle)
            {
                KeepAliveDeadline = LastReceive + idle;
                return;
            }
            if (!Board.IsEmpty || PersistDeadline != 0)
            {
                KeepAliveDeadline = now + idle;
                return;
            }
            if (KeepAliveProbes >= KeepAliveCount)
            {
                Counters[NetStatistics.TcpKeepAliveTimeouts]++;
                SendResetSegment();
                EnterClosed(SocketError.TimedOut);
                return;
            }
            KeepAliveProbes++;
            LastKeepAliveProbe = now;
            Counters[NetStatistics.TcpKeepAliveProbes]++;
            Layer.SendSegment(this, SndUna - 1, TcpLayer.FlagAck, 0, 0);
            KeepAliveDeadline = now + KeepAliveIntervalMs * 1000000L;
        }
    }
}
