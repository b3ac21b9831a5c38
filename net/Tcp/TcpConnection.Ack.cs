using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// ACK processing: SACK blocks onto the scoreboard (D-SACK recognised, RFC 2883 section 4), cumulative
    /// acknowledgement, RTT samples (RFC 6298 from the scoreboard's transmit times, or from the echoed timestamp
    /// when the segment was retransmitted, RFC 7323), then loss recovery (<c>TcpConnection.Recovery.cs</c>).
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        /// <summary>
        /// An acceptable ACK at or above snd.una. <paramref name="duplicate"/>: it carried no data, no FIN and no
        /// window change (RFC 5681's duplicate ACK when data is outstanding).
        /// </summary>
        private void AckInput(ref TcpSegment segment, uint ack, bool duplicate, Instant now)
        {
            ProbesOut = 0;
            uint priorUna = SndUna;
            int delivered = 0;
            if (SackOk && segment.SackCount > 0)
            {
                delivered = SackInput(ref segment, ack, now);
            }
            long acked = 0;
            if (Gt(ack, SndUna))
            {
                acked = ack - SndUna;
                Duration rtt;
                delivered += Board.AckTo(ack, now, out rtt);
                if (Gt(ack, SendBufferSequence))
                {
                    uint top = Lt(ack, DataEnd) ? ack : DataEnd;
                    int released = (int)(top - SendBufferSequence);
                    if (released > 0)
                    {
                        Send.Release(released);
                        SendBufferSequence = top;
                        Stats.BytesAcked(released);
                    }
                }
                if (rtt >= Duration.Zero)
                {
                    SampleRtt(rtt, now);
                }
                else if (TsOk && segment.HasTimestamp && segment.TsEcr != 0)
                {
                    // Retransmitted: the echoed timestamp still says which copy arrived (RFC 7323 section 4.1).
                    SampleRtt(Duration.FromMilliseconds(TsNow(now) - segment.TsEcr), now);
                }
                SndUna = ack;
                if (Lt(SndNxt, SndUna))
                {
                    SndNxt = SndUna;
                }
                Backoff = 0;
                Retries = 0;
                if (TlpOutstanding && Geq(ack, TlpHighSeq))
                {
                    TlpOutstanding = false;
                }
                if (SendBlocked && Send.Length < SendBufferSize)
                {
                    SendBlocked = false;
                    Stack.Notify(Socket, SocketEvents.Writable);
                }
            }
            else if (duplicate && SndMax != SndUna)
            {
                DupAcks++;
                Counters[NetStatistics.TcpDupAcksRx]++;
            }
            if (acked > 0 || delivered > 0 || duplicate)
            {
                // Eifel (RFC 3522) test for F-RTO: the echoed timestamp is older than the timeout's retransmission,
                // so an original transmission made this ACK.
                FrtoOriginalAcked = Frto != 0 && TsOk && segment.HasTimestamp && segment.TsEcr != 0 &&
                                    (int)(segment.TsEcr - FrtoTsVal) < 0;
                OnAckForRecovery(acked, delivered, duplicate && acked == 0, priorUna, now);
            }
            TlpRepairAck(ack, acked > 0, now);
            if (SndUna == SndMax)
            {
                Timers.Stop(TcpTimer.Retransmit);
            }
            else if (acked > 0 || !Timers.IsArmed(TcpTimer.Retransmit))
            {
                Timers.Arm(TcpTimer.Retransmit, now + Rtt.Rto);
            }
            ScheduleLossProbe(now);
            OutputPending = true;
            if (FinQueued && SndUna == DataEnd + 1)
            {
                OurFinAcked(now);
            }
        }

        /// <summary>Marks the SACKed records; returns bytes newly SACKed. Counts a D-SACK (first block below the ACK or inside the second).</summary>
        private readonly uint[] _sackCache = new uint[2 * TcpSegment.MaxSackBlocks];
        private int _sackCacheCount;

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
                        _tlp.DsackSeen(right);
                        Board.ReorderingSeen = true;
                        if (ReoWndMultiplier < 16)
                        {
                            ReoWndMultiplier++; // RFC 8985 section 6.2 step 4
                        }
                        continue;
                    }
                }
                if (Leq(right, ack) || Gt(right, SndMax))
                {
                    continue; // old or bogus
                }
                // Most blocks repeat or grow the previous ACK's: skip the part already marked (records stay
                // SACKed until acknowledged).
                uint from = left;
                for (int c = 0; c < _sackCacheCount; c++)
                {
                    if (Leq(_sackCache[2 * c], from) && Gt(_sackCache[2 * c + 1], from))
                    {
                        from = _sackCache[2 * c + 1];
                    }
                }
                if (Lt(from, right))
                {
                    newly += Board.MarkSacked(from, right, now);
                }
            }
            _sackCacheCount = 0;
            for (int b = 0; b < segment.SackCount; b++)
            {
                _sackCache[2 * b] = segment.Sack[2 * b];
                _sackCache[2 * b + 1] = segment.Sack[2 * b + 1];
                _sackCacheCount++;
            }
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
