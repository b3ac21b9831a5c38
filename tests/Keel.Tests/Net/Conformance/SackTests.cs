using NUnit.Framework;

namespace Keel.Tests.Net.Conformance
{
    /// <summary>
    /// Selective acknowledgment: the option's negotiation and the receiver's blocks (RFC 2018), duplicate SACK
    /// (RFC 2883), and the sender's loss recovery by the scoreboard (RFC 6675).
    /// </summary>
    public class SackTests
    {
        private const uint P = TcpHarness.PeerIss;
        private const int M = 1000; // the peer's MSS in the sender scenarios

        private static TcpHarness Receiver(bool timestamps = false)
        {
            TcpHarness h = new TcpHarness();
            Seg syn = Seg.Syn(P, mss: 1460, ws: 7, sackOk: true);
            if (timestamps)
            {
                syn.WithTs(100, 0);
            }
            h.EstablishPassive(syn, tsVal: 101);
            return h;
        }

        private static Seg Data(TcpHarness h, uint offset, int length)
        {
            Seg s = Seg.Data(P + 1 + offset, h.Iss + 1, length);
            return s;
        }

        [Test, Rfc("2018 2")]
        public void SackPermittedIsAnsweredOnlyWhenOffered()
        {
            TcpHarness with = new TcpHarness();
            Assert.That(with.OpenPassive(Seg.Syn(P, mss: 1460, sackOk: true)).SackPermitted, Is.True);
            TcpHarness without = new TcpHarness();
            Assert.That(without.OpenPassive(Seg.Syn(P, mss: 1460)).SackPermitted, Is.False);
        }

        [Test, Rfc("2018 2")]
        public void AnActiveOpenOffersSackPermitted()
        {
            TcpHarness h = new TcpHarness();
            Assert.That(h.OpenActive().SackPermitted, Is.True);
        }

        [Test, Rfc("2018 4")]
        public void OutOfOrderDataIsAckedAtOnceWithABlock()
        {
            TcpHarness h = Receiver();
            h.Send(Data(h, 1000, 500));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 1).WithSack((P + 1001, P + 1501)));
        }

        [Test, Rfc("2018 4")]
        public void TheFirstBlockHoldsTheMostRecentSegment()
        {
            TcpHarness h = Receiver();
            h.Send(Data(h, 1000, 500));
            h.Out();
            h.Send(Data(h, 3000, 500));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 1).WithSack((P + 3001, P + 3501), (P + 1001, P + 1501)));
        }

        [Test, Rfc("2018 4")]
        public void ABlockGrowsAsContiguousDataArrives()
        {
            TcpHarness h = Receiver();
            h.Send(Data(h, 1000, 500));
            h.Out();
            h.Send(Data(h, 1500, 500));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 1).WithSack((P + 1001, P + 2001)));
        }

        [Test, Rfc("2018 3")]
        public void AtMostThreeBlocksFitBesideTimestamps()
        {
            TcpHarness h = Receiver(timestamps: true);
            Seg last = null;
            for (uint k = 1; k <= 7; k += 2)
            {
                h.Send(Data(h, k * 500, 500).WithTs(200, h.IssTsVal));
                last = h.Out();
            }
            Assert.That(last.Sack.Count, Is.EqualTo(3), "40 option bytes: 12 of timestamps, 2 + 3 x 8 of SACK");
        }

        [Test, Rfc("2018 4")]
        public void NoBlocksOnceTheHoleIsFilled()
        {
            TcpHarness h = Receiver();
            h.Send(Data(h, 500, 500));
            h.Out();
            h.Send(Data(h, 0, 500));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 1001).WithSack(), "the ACK covers everything, no SACK option");
        }

        [Test, Rfc("2018 2")]
        public void NoBlocksWhenSackWasNotAgreed()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(Seg.Syn(P, mss: 1460));
            h.Send(Data(h, 1000, 500));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 1).WithSack(), "a duplicate ACK without SACK");
        }

        [Test, Rfc("2883 4.1.1")]
        public void ADuplicateBelowTheAckIsReportedAsDsack()
        {
            TcpHarness h = Receiver();
            h.Send(Data(h, 0, 500));
            h.Advance(500);
            h.OutAll();
            h.Send(Data(h, 0, 500));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 501).WithSack((P + 1, P + 501)));
        }

        [Test, Rfc("2883 4.1.2")]
        public void ADuplicateOfOutOfOrderDataIsReportedFirstThenItsBlock()
        {
            TcpHarness h = Receiver();
            h.Send(Data(h, 1000, 500));
            h.Out();
            h.Send(Data(h, 1500, 500));
            h.Out();
            h.Send(Data(h, 1000, 500));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 1).WithSack((P + 1001, P + 1501), (P + 1001, P + 2001)));
        }

        [Test, Rfc("2883 4.1.3")]
        public void APartlyDuplicateSegmentReportsOnlyTheDuplicatePart()
        {
            TcpHarness h = Receiver();
            h.Send(Data(h, 0, 500));
            h.Advance(500);
            h.OutAll();
            h.Send(Data(h, 250, 500));
            Seg ack = h.ExpectOut(Seg.Ack(h.Iss + 1, P + 751));
            Assert.That(ack.Sack, Is.EqualTo(new[] { (P + 251, P + 501) }), "the D-SACK block is the duplicated range");
        }

        // ------------------------------------------------------------ the sender (RFC 6675)

        private static TcpHarness Sender(int segments)
        {
            TcpHarness h = new TcpHarness(c => c.TcpCongestionControl = Keel.Net.TcpCongestionAlgorithm.NewReno);
            h.EstablishPassive(Seg.Syn(P, mss: M, ws: 7, sackOk: true), rttMs: 100);
            h.Write(segments * M);
            return h;
        }

        [Test, Rfc("6675 5 (IsLost, DupThresh)")]
        public void ThreeSackedSegmentsAboveAHoleRetransmitIt()
        {
            TcpHarness h = Sender(6);
            Assert.That(h.OutAll().Count, Is.EqualTo(6));
            uint b = h.Iss + 1;
            h.Advance(100); // one round trip
            h.Send(Seg.Ack(P + 1, b).WithSack((b + M, b + 2 * M)));
            h.Send(Seg.Ack(P + 1, b).WithSack((b + M, b + 3 * M)));
            h.ExpectNothing("two segments above the hole: not lost yet (and RACK's reordering window has not passed)");
            h.Send(Seg.Ack(P + 1, b).WithSack((b + M, b + 4 * M)));
            Seg retransmission = h.Out();
            Assert.That(retransmission.Sequence, Is.EqualTo(b));
            Assert.That(retransmission.PayloadLength, Is.EqualTo(M));
        }

        [Test, Rfc("6675 5 (NextSeg rule 1)")]
        public void OnlyTheHolesAreRetransmitted()
        {
            TcpHarness h = Sender(8);
            Assert.That(h.OutAll().Count, Is.EqualTo(8));
            uint b = h.Iss + 1;
            // Segments 0 and 2 lost; 1 and 3..7 SACKed.
            h.Send(Seg.Ack(P + 1, b).WithSack((b + M, b + 2 * M)));
            h.Send(Seg.Ack(P + 1, b).WithSack((b + 3 * M, b + 4 * M), (b + M, b + 2 * M)));
            h.Send(Seg.Ack(P + 1, b).WithSack((b + 3 * M, b + 5 * M), (b + M, b + 2 * M)));
            h.Send(Seg.Ack(P + 1, b).WithSack((b + 3 * M, b + 6 * M), (b + M, b + 2 * M)));
            h.Send(Seg.Ack(P + 1, b).WithSack((b + 3 * M, b + 8 * M), (b + M, b + 2 * M)));
            foreach (Seg s in h.OutAll())
            {
                bool hole = s.Sequence == b || s.Sequence == b + 2 * M;
                Assert.That(hole, Is.True, "retransmits only holes: " + s);
            }
        }

        /// <remarks>
        /// The flight here is the whole congestion window (10 segments), so FlightSize / 2 and cwnd / 2 agree. When
        /// the application sends less than cwnd allows, Keel's NewReno takes cwnd / 2 as Linux does
        /// (tcp_reno_ssthresh), where RFC 5681 asks for FlightSize / 2: a deliberate Linux-like choice.
        /// </remarks>
        [Test, Rfc("6675 5 (step 4.2); 5681 3.2 eq. 4")]
        public void RecoveryEntersOnceAndSetsSsthreshToHalfTheFlight()
        {
            TcpHarness h = Sender(30);
            Assert.That(h.OutAll().Count, Is.EqualTo(10));
            uint b = h.Iss + 1;
            for (uint k = 2; k <= 5; k++)
            {
                h.Send(Seg.Ack(P + 1, b).WithSack((b + M, b + k * M)));
            }
            h.OutAll();
            Assert.That(h.Info.Recoveries, Is.EqualTo(1));
            Assert.That(h.Info.SlowStartThreshold, Is.EqualTo(5 * M), "ssthresh = FlightSize / 2 (RFC 5681 eq. 4)");
        }
    }
}
