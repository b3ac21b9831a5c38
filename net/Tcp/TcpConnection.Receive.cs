using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Receiving: in-order data stays in the driver's packets on the socket's queue; out-of-order segments wait on a
    /// sorted list (their payload still in the driver's page fragments, never copied), charged by TrueSize and
    /// bounded; SACK and D-SACK blocks describe that list to the sender; FIN and TIME_WAIT.
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        /// <summary>In-window payload. True when the packet was queued (ownership taken).</summary>
        private bool DataInput(Packet packet, uint sequence, int length)
        {
            // ACKs wait for the end of the receive batch, but one batch can open several holes, and an ACK carries
            // only 3-4 SACK blocks: a block never reported makes the sender retransmit data we hold. So, as GRO
            // ends a merged packet at a gap, a segment that does not continue the previous one first sends the
            // ACK owed for the run before it: one ACK per contiguous run, each new block reported first once.
            if (DelayedAck.StartsNewRun(sequence, length))
            {
                SendAckNow();
            }
            if (ReceiveShutdown)
            {
                if (sequence == Rcv.Nxt)
                {
                    Rcv.Advance((uint)length);
                    DelayedAck.SegmentReceived();
                }
                return false;
            }
            if (ReceiveQueue.TrueSize + Reassembly.TrueSize + packet.TrueSize > ReceiveBufferSize * 4 + 65536)
            {
                Counters[NetStatistics.TcpRcvPruned]++;
                DelayedAck.AckImmediately();
                return false;
            }
            if (DriverMemoryLow(packet, sequence == Rcv.Nxt ? ReceiveQueue.Count : ReceiveQueue.Count + Reassembly.Count))
            {
                // The driver's receive buffers are nearly all queued on sockets and this connection holds a
                // large share: take no more from it (the peer retransmits), so ACKs, ARP and the other
                // connections still find buffers. Without this, an application that stops reading makes the
                // whole host deaf. The segment at Rcv.Nxt is judged by the in-order queue alone, since it may
                // release the out-of-order queue.
                Counters[NetStatistics.TcpRcvMemoryPressure]++;
                return false;
            }
            if (sequence == Rcv.Nxt)
            {
                // Joined to the last unread packet when its payload is all in page fragments (Linux
                // tcp_try_coalesce): the driver gets the descriptor back at once.
                if (ReceiveQueue.TryCoalesceTail(packet))
                {
                    packet.Free();
                    Counters[NetStatistics.TcpRcvCoalesced]++;
                }
                else
                {
                    ReceiveQueue.Enqueue(packet);
                }
                Rcv.Advance((uint)length);
                Stats.BytesReceived(length);
                ReceiveTuning.DataArrived(packet, ReceiveMss, Rcv.Nxt, Rcv.Adv, Stack.Now);
                // A segment coalesced by the device (GRO/LRO, up to 64 KiB) counts as the full-sized segments
                // it carries, so ACKs still go out at least every two segments' worth (RFC 5681 4.2).
                DelayedAck.DataReceived(length, ReceiveMss);
                if (length > ReceiveMss)
                {
                    Counters[NetStatistics.TcpLargeSegmentsRx]++;
                }
                if (!Reassembly.IsEmpty)
                {
                    DrainOutOfOrder();
                    DelayedAck.AckImmediately();
                }
                Stack.Notify(Socket, SocketEvents.Readable);
                return true;
            }
            // Out of order: insert sorted by sequence, dropping exact duplicates.
            Stats.OutOfOrderSegment();
            DelayedAck.AckImmediately();
            DelayedAck.SegmentReceived();
            return Reassembly.Insert(packet, sequence, length, SackOk);
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
            uint next = Rcv.Nxt;
            Stats.BytesReceived(Reassembly.Drain(ref next, ref ReceiveQueue));
            Rcv.Advance(next - Rcv.Nxt);
        }

        private void FinInput(Instant now)
        {
            Rcv.Advance(1); // the FIN takes one sequence number
            FinReceived = true;
            DelayedAck.AckImmediately();
            switch (State)
            {
                case TcpState.SynReceived:
                case TcpState.Established:
                    SetState(TcpState.CloseWait);
                    break;
                case TcpState.FinWait1:
                    if (FinQueued && Snd.Una == DataEnd + 1)
                    {
                        EnterTimeWait(now);
                    }
                    else
                    {
                        SetState(TcpState.Closing);
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

        private void EnterTimeWait(Instant now)
        {
            bool entering = State != TcpState.TimeWait;
            SetState(TcpState.TimeWait);
            Timers.StopAll();
            Children.Leaves(); // a TIME_WAIT connection no longer counts against its listener's share
            // Past the TIME_WAIT limit an orphan ends at the next timer run instead (Linux: TCPTimeWaitOverflow).
            bool overflow = entering && Orphan && Counters[NetStatistics.TcpTimewait] > Layer.MaxTimeWait;
            if (overflow)
            {
                Counters[NetStatistics.TcpTimewaitOverflows]++;
            }
            Timers.Arm(TcpTimer.TimeWait, overflow ? now : now + Layer.TimeWaitTimeout);
            Layer.TimeWaitStarted(this, overflow);
            Board.Clear();
            FreeReceiveQueues(!Orphan); // the application may still read what arrived before the FIN
            Send.Clear();
            Snd.BufferCleared();
            Stack.Notify(Socket, SocketEvents.Closed);
        }

        /// <summary>
        /// True when <paramref name="segment"/>, arriving in TIME_WAIT, is a SYN that may start a new incarnation of
        /// this orphaned connection (RFC 6191, RFC 1122 4.2.2.13): no ACK or RST, and a newer timestamp than the
        /// last one seen, or without timestamps a sequence number past the old connection's.
        /// </summary>
        internal bool AcceptsNewSyn(ref TcpSegment segment)
        {
            if (!Orphan || (segment.Flags & (TcpLayer.FlagSyn | TcpLayer.FlagAck | TcpLayer.FlagRst)) != TcpLayer.FlagSyn)
            {
                return false;
            }
            if (segment.HasTimestamp && Options.Timestamps)
            {
                return (int)(segment.TsVal - Options.TsRecent) > 0;
            }
            return Gt(segment.Sequence, Rcv.Nxt);
        }
    }
}
