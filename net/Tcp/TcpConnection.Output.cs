using Keel.Hal;
using Keel.Net.Ip;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Output: lost segments first (RFC 6675 NextSeg), then new data within min(cwnd − pipe, peer window), Nagle
    /// and sender SWS avoidance, TSO segments of whole MSS multiples; every segment sent becomes scoreboard
    /// records of one MSS; the flight resent in smaller pieces when the path MTU falls (ICMP fragmentation needed);
    /// ACKs, the advertised window and the end-of-batch flush.
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        internal bool CanSendData => State == TcpState.Established || State == TcpState.CloseWait ||
                                     State == TcpState.FinWait1 || State == TcpState.Closing || State == TcpState.LastAck;

        /// <summary>Sends whatever the windows, Nagle and the device allow.</summary>
        internal void Output(Instant now)
        {
            OutputPending = false;
            if (!CanSendData)
            {
                return;
            }
            bool sentAny = false;
            int mss = SendMss;
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
                long pipe = Pipe;
                // 1. Segments marked lost (not while F-RTO probes with new data).
                if (Board.LostBytes > 0 && !Recovery.FrtoActive)
                {
                    int lost = Board.NextLost();
                    if (lost >= 0)
                    {
                        if (Cwnd - pipe < Board.Length(lost))
                        {
                            break;
                        }
                        if (!RetransmitRecord(lost, now))
                        {
                            OutputPending = true;
                            Layer.Schedule(this);
                            break;
                        }
                        sentAny = true;
                        continue;
                    }
                }
                // 2. New data.
                uint dataEnd = DataEnd;
                int unsent = Gt(dataEnd, Snd.Max) ? (int)(dataEnd - Snd.Max) : 0;
                long outstanding = Snd.InFlight;
                long congestion = Cwnd - pipe;
                if (!SackOk)
                {
                    congestion += Recovery.LimitedTransmitBytes(mss); // RFC 3042
                }
                long receiver = Snd.Window - outstanding;
                long usable = congestion < receiver ? congestion : receiver;
                bool finNext = FinQueued && Snd.Max == dataEnd && !Gt(Snd.Max, dataEnd);
                if (unsent == 0)
                {
                    if (finNext && !Board.IsFull && (Board.IsEmpty || (Board.Flags(Board.Count - 1) & TcpScoreboard.FlagFin) == 0))
                    {
                        if (SendNew(Snd.Max, 0, true, now))
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
                if (receiver <= 0 && outstanding == 0)
                {
                    ArmPersist(now);
                    break;
                }
                if (usable <= 0)
                {
                    break;
                }
                if ((Board.Capacity - Board.Count) * mss < unsent)
                {
                    Board.Grow();
                }
                int room = (Board.Capacity - Board.Count) * mss;
                if (room <= 0)
                {
                    break; // the scoreboard is full: wait for ACKs as if the window were closed
                }
                // With TSO one segment carries up to TsoMaxPayload (whole MSS multiples) for the device to cut.
                int tso = Stack.TsoMaxPayloadFor(Remote.Address);
                int maxSegment = tso > mss ? tso / mss * mss : mss;
                if (maxSegment > room)
                {
                    maxSegment = room;
                }
                int length = unsent < maxSegment ? unsent : maxSegment;
                if (length > usable)
                {
                    if (usable >= mss)
                    {
                        // TSO: as many full segments as the window allows.
                        length = (int)(usable / mss) * mss;
                    }
                    else
                    {
                        // Window-limited: send a partial segment only when nothing is in flight (avoids SWS).
                        if (outstanding > 0)
                        {
                            break;
                        }
                        length = (int)usable;
                    }
                }
                if (length < mss && (Corked || !NoDelay && outstanding > 0) && !FinQueued)
                {
                    break; // Nagle, or the application has more to write
                }
                bool fin = FinQueued && Snd.Max + (uint)length == dataEnd;
                if (!SendNew(Snd.Max, length, fin, now))
                {
                    OutputPending = true;
                    Layer.Schedule(this);
                    break;
                }
                sentAny = true;
            }
            if (sentAny)
            {
                if (!Timers.IsArmed(TcpTimer.Retransmit) && Snd.Max != Snd.Una)
                {
                    Timers.Arm(TcpTimer.Retransmit, now + Backoff.Apply(Rtt.Rto));
                }
                // RFC 8985 7.2: (re)start the probe timer after new data. The ACK that let this data go out armed it
                // for the flight before (with one segment left, 40 ms more for the peer's delayed ACK).
                ScheduleLossProbe(now);
            }
        }

        /// <summary>Sends new data [sequence, sequence+length) (+FIN) and records it, one record per MSS.</summary>
        private bool SendNew(uint sequence, int length, bool fin, Instant now)
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
            if (!Layer.SendSegment(this, sequence, flags, (int)(sequence - Snd.BufferStart), length))
            {
                return false;
            }
            int mss = SendMss;
            int offset = 0;
            while (offset < length)
            {
                int piece = length - offset < mss ? length - offset : mss;
                bool last = offset + piece == length;
                Board.Add(sequence + (uint)offset, piece + (last && fin ? 1 : 0), now, last && fin);
                offset += piece;
            }
            if (length == 0 && fin)
            {
                Board.Add(sequence, 1, now, true);
            }
            uint end = sequence + (uint)length + (fin ? 1u : 0u);
            Recovery.Sent(length);
            Snd.Sent(end);
            return true;
        }

        /// <summary>Sends scoreboard record <paramref name="i"/> again (its data and FIN as first sent).</summary>
        private bool RetransmitRecord(int i, Instant now)
        {
            uint start = Board.Start(i);
            int length = Board.Length(i);
            bool fin = (Board.Flags(i) & TcpScoreboard.FlagFin) != 0;
            int data = fin ? length - 1 : length;
            if (!SendRecordData(start, data, fin)) // in pieces when the path MTU was lowered
            {
                return false;
            }
            Board.Retransmitted(i, now);
            Stats.Retransmitted();
            Recovery.Sent(length);
            return true;
        }

        /// <summary>
        /// ICMP fragmentation needed (or ICMPv6 Packet Too Big) quoting our segment at <paramref name="sequence"/> (<see cref="PathMtuDiscovery"/>).
        /// False when the message does not fit this connection (not synchronized, or the quoted sequence number
        /// outside [SND.UNA, SND.MAX), RFC 5927 section 4.1: an old or forged message); true when it was taken (even
        /// if it changed nothing). A lower path MTU lowers the MSS and resends at once what is in flight and now too
        /// big, like Linux's <c>tcp_simple_retransmit</c>, without reducing cwnd (the amount of data in the network
        /// does not change, only its packaging).
        /// </summary>
        internal bool FragmentationNeeded(uint sequence, int nextHopMtu, int quotedLength, Instant now)
        {
            if (!CanSendData || !Geq(sequence, Snd.Una) || !Lt(sequence, Snd.Max))
            {
                return false;
            }
            if (!PathMtu.Reduce(nextHopMtu, quotedLength, Stack.MtuFor(Remote.Address), out int mtu, Remote.Address.IsIPv6))
            {
                return true;
            }
            Stats.PmtuReduction();
            int mss = mtu - NetStack.IpHeaderLength(Remote.Address) - TcpLayer.HeaderLength;
            if (mss < Mss)
            {
                Mss = mss;
                SimpleRetransmit(now);
            }
            return true;
        }

        /// <summary>
        /// Linux's <c>tcp_simple_retransmit</c>: marks every record not SACKed whose data is larger than the (new)
        /// send MSS lost and sends them again at once, cut to that MSS (<see cref="RetransmitRecord"/>). cwnd stays: in
        /// the open state the connection goes to the loss state until everything now in flight is acknowledged (so
        /// these marks do not start fast recovery with its reduction), with ssthresh at least 3/4 of cwnd as Linux's
        /// <c>tcp_current_ssthresh</c> gives; in recovery or loss it stays in that state.
        /// </summary>
        private void SimpleRetransmit(Instant now)
        {
            int mss = SendMss;
            int marked = 0;
            for (int i = 0; i < Board.Count; i++)
            {
                byte flags = Board.Flags(i);
                int data = Board.Length(i) - ((flags & TcpScoreboard.FlagFin) != 0 ? 1 : 0);
                if ((flags & TcpScoreboard.FlagSacked) == 0 && data > mss)
                {
                    Board.MarkLost(i);
                    marked++;
                }
            }
            if (marked == 0)
            {
                return;
            }
            if (Recovery.EnterLossForRepackaging(Cwnd, Ssthresh, Snd.Max))
            {
                long current = (Cwnd >> 1) + (Cwnd >> 2);
                if (Ssthresh < current)
                {
                    Ssthresh = current;
                }
                Timers.Stop(TcpTimer.LossProbe);
            }
            Output(now);
        }

        /// <summary>
        /// Sends <paramref name="data"/> bytes from <paramref name="start"/> (+FIN) again: as one segment when it fits
        /// the current send MSS, otherwise in pieces of it (a record sent before the path MTU was lowered).
        /// </summary>
        private bool SendRecordData(uint start, int data, bool fin)
        {
            int mss = SendMss;
            while (true)
            {
                int piece = data > mss ? mss : data;
                bool last = piece == data;
                int flags = TcpLayer.FlagAck;
                if (last && fin)
                {
                    flags |= TcpLayer.FlagFin;
                }
                if (piece > 0 && start + (uint)piece == DataEnd)
                {
                    flags |= TcpLayer.FlagPsh;
                }
                if (!Layer.SendSegment(this, start, flags, (int)(start - Snd.BufferStart), piece))
                {
                    return false;
                }
                if (last)
                {
                    return true;
                }
                start += (uint)piece;
                data -= piece;
            }
        }

        /// <summary>
        /// Window to advertise (scaled field value); moves the right edge, never left. The right edge is RCV.NXT plus the
        /// buffer less the in-order bytes the application has not read. Out-of-order data is not subtracted: it lies
        /// inside that edge already, so in-order plus out-of-order bytes stay within the buffer, and subtracting it
        /// again would close the window exactly when a loss has to be repaired.
        /// </summary>
        internal int AdvertiseWindow()
        {
            uint window = Rcv.Advertise(ReceiveBufferSize - ReceiveQueue.Bytes, ReceiveMss, ReceiveBufferSize);
            return Options.WindowField(window);
        }

        internal void AckSent()
        {
            Options.AckSent(Rcv.Nxt);
            DelayedAck.Sent();
            Timers.Stop(TcpTimer.DelayedAck);
            Counters[NetStatistics.TcpAcksSent]++;
        }

        internal void SendAckNow()
        {
            if (State == TcpState.SynReceived)
            {
                Layer.SendSegment(this, Snd.Iss, TcpLayer.FlagSyn | TcpLayer.FlagAck, 0, 0);
                return;
            }
            if (State == TcpState.Closed || State == TcpState.SynSent || State == TcpState.Listen)
            {
                return;
            }
            Layer.SendSegment(this, Snd.Nxt, TcpLayer.FlagAck, 0, 0);
        }

        /// <summary>End of the receive batch for this connection.</summary>
        internal void FlushBatch(Instant now)
        {
            if (State == TcpState.Closed)
            {
                return;
            }
            Corked = false;
            if (OutputPending)
            {
                Output(now);
            }
            switch (DelayedAck.AtBatchEnd(Timers.IsArmed(TcpTimer.DelayedAck)))
            {
                case AckDecision.Send:
                    SendAckNow();
                    break;
                case AckDecision.Delay:
                    Timers.Arm(TcpTimer.DelayedAck, now + Layer.DelayedAckTimeout);
                    break;
            }
        }
    }
}
