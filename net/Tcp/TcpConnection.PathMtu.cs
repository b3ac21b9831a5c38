using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Path-MTU discovery (RFC 1191) with the checks of RFC 5927. Every segment goes out with DF set; a router that
    /// cannot forward one answers ICMP "fragmentation needed" with its next-hop MTU, and the connection lowers its
    /// MSS to fit and at once resends what is in flight and now too big, like Linux's <c>tcp_simple_retransmit</c>:
    /// those segments are marked lost and retransmitted in pieces of the new MSS without reducing cwnd (the amount
    /// of data in the network does not change, only its packaging). The path MTU is never raised again here (RFC 1191
    /// section 6.3's periodic increase is not done: a connection keeps the lower MSS until it closes).
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        /// <summary>
        /// The smallest path MTU accepted from an ICMP message (Linux's <c>min_pmtu</c>, 512 + 20 + 20). A forged
        /// message quoting a guessed in-window sequence number could otherwise shrink a connection's segments to a
        /// few bytes each (RFC 5927 section 7: 68, the IPv4 minimum, gives 28-byte payloads behind 40 bytes of
        /// headers). 552 keeps at least 512 payload bytes; every IPv4 host takes 576-byte datagrams (RFC 791), so
        /// the rare link below it fragments: a connection clamped here sends without DF (<see cref="PmtuLocked"/>),
        /// as Linux does for a route whose MTU it locked.
        /// </summary>
        internal const int MinPathMtu = 552;

        /// <summary>Path MTU to the peer (IPv4 datagram bytes); the device's MTU until an ICMP message lowers it.</summary>
        internal int PathMtu;

        /// <summary>The path MTU was clamped to <see cref="MinPathMtu"/>: segments go without DF from then on.</summary>
        internal bool PmtuLocked;

        private void ResetPathMtu()
        {
            PathMtu = 0;
            PmtuLocked = false;
        }

        /// <summary>The path MTU in use (0 in <see cref="PathMtu"/> means the device's).</summary>
        internal int CurrentPathMtu => PathMtu != 0 ? PathMtu : Stack.Mtu;

        /// <summary>
        /// RFC 1191 section 7: the largest MTU plateau below <paramref name="length"/> (the quoted datagram's total
        /// length), for a router that reports no next-hop MTU.
        /// </summary>
        internal static int PlateauBelow(int length)
        {
            if (length > 32000)
            {
                return 32000;
            }
            if (length > 17914)
            {
                return 17914;
            }
            if (length > 8166)
            {
                return 8166;
            }
            if (length > 4352)
            {
                return 4352;
            }
            if (length > 2002)
            {
                return 2002;
            }
            if (length > 1492)
            {
                return 1492;
            }
            if (length > 1006)
            {
                return 1006;
            }
            if (length > 508)
            {
                return 508;
            }
            return length > 296 ? 296 : 68;
        }

        /// <summary>
        /// ICMP fragmentation needed quoting our segment at <paramref name="sequence"/>. False when the message does
        /// not fit this connection (not synchronized, or the quoted sequence number outside [SND.UNA, SND.MAX),
        /// RFC 5927 section 4.1: an old or forged message); true when it was taken (even if it changed nothing).
        /// </summary>
        internal bool FragmentationNeeded(uint sequence, int nextHopMtu, int quotedLength, Instant now)
        {
            if (!CanSendData || !Geq(sequence, SndUna) || !Lt(sequence, SndMax))
            {
                return false;
            }
            int mtu = nextHopMtu;
            if (mtu == 0)
            {
                // A router older than RFC 1191 reports no MTU: guess the plateau below the datagram (section 5).
                mtu = PlateauBelow(quotedLength);
            }
            if (mtu < MinPathMtu)
            {
                mtu = MinPathMtu;
                PmtuLocked = true;
            }
            if (mtu >= CurrentPathMtu)
            {
                return true;
            }
            PathMtu = mtu;
            Stats.PmtuReduction();
            int mss = mtu - NetStack.IPv4HeaderLength - TcpLayer.HeaderLength;
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
            if (Recovery.EnterLossForRepackaging(Cwnd, Ssthresh, SndMax))
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
                if (!Layer.SendSegment(this, start, flags, (int)(start - SendBufferSequence), piece))
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
    }
}
