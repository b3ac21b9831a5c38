using Keel.Hal;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The sender's scoreboard alone: RFC 6675 pipe and DupThresh marking, RACK time-based marking (RFC 8985
    /// section 6.2) with its reordering timer, cumulative ACKs with Karn's rule, retransmission bookkeeping.
    /// </summary>
    public class TcpScoreboardTests
    {
        private const int Mss = 1000;
        private const long Ms = 1_000_000;

        /// <summary>The clock <paramref name="ms"/> milliseconds after its origin.</summary>
        private static Instant T(long ms) => Instant.FromNanoseconds(ms * Ms);

        private static Duration D(long ms) => Duration.FromNanoseconds(ms * Ms);

        /// <summary>Ten segments [0, 10000) sent 1 ms apart starting at t = 0.</summary>
        private static TcpScoreboard Ten()
        {
            TcpScoreboard b = new TcpScoreboard(64);
            for (int i = 0; i < 10; i++)
            {
                b.Add((uint)(i * Mss), Mss, T(i), false);
            }
            return b;
        }

        [Test]
        public unsafe void ABlockThatGrowsThePreviousAcksCountsOnlyItsNewBytes()
        {
            // RFC 2018 section 4: each ACK repeats the most recent blocks; a block growing by one segment SACKs one.
            TcpScoreboard b = Ten();
            TcpSegment ack = default;
            ack.SackCount = 1;
            ack.Sack[0] = 2000;
            ack.Sack[1] = 4000;
            Assert.That(b.MarkSackBlock(2000, 4000, T(20)), Is.EqualTo(2000));
            b.RememberSackBlocks(ref ack);
            Assert.That(b.MarkSackBlock(2000, 5000, T(21)), Is.EqualTo(1000), "only [4000, 5000) is new");
            Assert.That(b.MarkSackBlock(2000, 4000, T(21)), Is.Zero, "a repeated block");
            Assert.That(b.SackedBytes, Is.EqualTo(3000));
            b.Clear();
            Assert.That(b.IsEmpty, Is.True);
        }

        [Test]
        public void DupThreshMarksTheHoleBelowThreeSackedSegments()
        {
            TcpScoreboard b = Ten();
            // Segment 0 lost; 1 and 2 SACKed: RFC 6675 IsLost needs DupThresh (3) segments above it.
            Assert.That(b.MarkSacked(1000, 3000, T(20)), Is.EqualTo(2000));
            Duration timeout;
            Assert.That(b.DetectLoss(T(20), D(1000), true, out timeout), Is.EqualTo(0), "reordering window not over yet");
            Assert.That(timeout.Nanoseconds, Is.GreaterThan(0), "RACK reordering timer armed");
            Assert.That(b.MarkSacked(3000, 4000, T(20)), Is.EqualTo(1000));
            Assert.That(b.DetectLoss(T(20), D(1000), true, out timeout), Is.EqualTo(1));
            Assert.That(b.Flags(0) & TcpScoreboard.FlagLost, Is.Not.Zero);
            Assert.That(b.LostBytes, Is.EqualTo(1000));
            Assert.That(b.SackedBytes, Is.EqualTo(3000));
            // pipe = outstanding − SACKed − lost + retransmitted (RFC 6675 section 4).
            Assert.That(10000 - b.SackedBytes - b.LostBytes + b.RetransBytes, Is.EqualTo(6000));
            Assert.That(b.NextLost(), Is.EqualTo(0));
            b.Retransmitted(0, T(21));
            Assert.That(b.RetransBytes, Is.EqualTo(1000));
            Assert.That(b.NextLost(), Is.EqualTo(-1));
            Assert.That(b.CountersConsistent(), Is.True);
        }

        [Test]
        public void RackMarksBySendTimeAfterTheReorderingWindow()
        {
            TcpScoreboard b = Ten();
            // Segment 5 (sent at 5 ms) is SACKed at 15 ms: RACK.rtt = 10 ms, RACK.xmit = 5 ms.
            b.MarkSacked(5000, 6000, T(15));
            Assert.That(b.RackRtt.Nanoseconds, Is.EqualTo(10 * Ms));
            Duration timeout;
            // Segments 0..4 were sent before it; with a 2 ms reordering window segment i (sent at i ms) is lost
            // at i + 10 + 2 ms: at 15 ms segments 0..3, and the timer is set for segment 4, 1 ms later.
            Assert.That(b.DetectLoss(T(15), D(2), false, out timeout), Is.EqualTo(4));
            Assert.That(timeout.Nanoseconds, Is.EqualTo(1 * Ms));
            Assert.That(b.DetectLoss(T(16), D(2), false, out timeout), Is.EqualTo(1));
            Assert.That(b.LostBytes, Is.EqualTo(5000));
            Assert.That(b.Flags(6) & TcpScoreboard.FlagLost, Is.Zero, "sent after the delivered segment: not judged");
        }

        [Test]
        public void RackMarksALostRetransmissionWhenALaterSendIsDelivered()
        {
            TcpScoreboard b = Ten();
            b.MarkSacked(8000, 9000, T(18)); // min RTT 10 ms
            b.MarkLost(0);
            b.Retransmitted(0, T(20));
            // Segment 9 is sent again by a tail loss probe at 21 ms and SACKed at 31 ms: the retransmission of
            // segment 0 (sent at 20 ms) should have been delivered by then.
            b.Retransmitted(9, T(21));
            b.MarkSacked(9000, 10000, T(31));
            Duration timeout;
            b.DetectLoss(T(31), Duration.Zero, false, out timeout);
            Assert.That(b.Flags(0) & TcpScoreboard.FlagRetrans, Is.Zero, "the retransmission is lost too");
            Assert.That(b.NextLost(), Is.EqualTo(0), "and is sent once more");
            Assert.That(b.CountersConsistent(), Is.True);
        }

        [Test]
        public void CumulativeAckRemovesRecordsAndTakesRttOnlyFromNeverRetransmittedOnes()
        {
            TcpScoreboard b = Ten();
            b.MarkLost(2);
            b.Retransmitted(2, T(30));
            Duration rtt;
            Assert.That(b.AckTo(2000, T(12), out rtt), Is.EqualTo(2000));
            Assert.That(rtt.Nanoseconds, Is.EqualTo(11 * Ms), "segment 1 sent at 1 ms");
            Assert.That(b.AckTo(3000, T(40), out rtt), Is.EqualTo(1000));
            Assert.That(rtt.Nanoseconds, Is.EqualTo(-1), "Karn: the retransmitted segment gives no sample");
            Assert.That(b.Count, Is.EqualTo(7));
            Assert.That(b.AckTo(3500, T(41), out rtt), Is.EqualTo(500), "part of a segment");
            Assert.That(b.Start(0), Is.EqualTo(3500u));
            Assert.That(b.CountersConsistent(), Is.True);
        }

        [Test]
        public void TimeoutMarksEverythingNotSackedLostAndUndoClearsIt()
        {
            TcpScoreboard b = Ten();
            b.MarkSacked(4000, 6000, T(10));
            b.MarkAllLost();
            Assert.That(b.LostBytes, Is.EqualTo(8000));
            b.UnmarkLost(); // F-RTO found the timeout spurious
            Assert.That(b.LostBytes, Is.Zero);
            Assert.That(b.NextLost(), Is.EqualTo(-1));
            Assert.That(b.CountersConsistent(), Is.True);
        }

        [Test]
        public void CubeRootForCubicsK()
        {
            // RFC 9438 section 4.2: K = cbrt(W_max (1 − β) / C); W_max 100, β 0.7, C 0.4: cbrt(75) ≈ 4.2172.
            Assert.That(CubicCongestion.CubeRoot(100 * (1 - 0.7) / 0.4), Is.EqualTo(4.2172).Within(0.0001));
        }
    }
}
