using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The delayed-ACK part alone: RFC 9293 section 3.8.6.3 and RFC 1122 section 4.2.3.2 (an ACK for at least every
    /// second full-sized segment, otherwise delayed), RFC 5681 section 4.2 (an immediate ACK for out-of-order data
    /// and for data that fills a hole).
    /// </summary>
    public class DelayedAckTests
    {
        private const int Mss = 1448;

        [Test]
        public void OneFullSizedSegmentIsAcknowledgedByTheTimer()
        {
            DelayedAck d = new DelayedAck();
            Assert.That(d.AtBatchEnd(false), Is.EqualTo(AckDecision.None), "nothing owed");
            d.DataReceived(Mss, Mss);
            Assert.That(d.Owed, Is.True);
            Assert.That(d.AtBatchEnd(false), Is.EqualTo(AckDecision.Delay));
            Assert.That(d.AtBatchEnd(true), Is.EqualTo(AckDecision.None), "the timer already runs");
            Assert.That(d.TimerFired(), Is.True, "still owed when the timer fires");
        }

        [Test]
        public void TheSecondFullSizedSegmentIsAcknowledgedAtOnce()
        {
            DelayedAck d = new DelayedAck();
            d.DataReceived(Mss, Mss);
            d.DataReceived(Mss, Mss);
            Assert.That(d.AtBatchEnd(true), Is.EqualTo(AckDecision.Send));
            d.Sent();
            Assert.That(d.Owed, Is.False);
            Assert.That(d.TimerFired(), Is.False, "nothing left for the timer");
        }

        [Test]
        public void OutOfOrderDataIsAcknowledgedAtOnce()
        {
            DelayedAck d = new DelayedAck();
            d.AckImmediately();
            d.SegmentReceived();
            Assert.That(d.Immediate, Is.True);
            Assert.That(d.AtBatchEnd(false), Is.EqualTo(AckDecision.Send));
        }

        [Test]
        public void ACoalescedSegmentCountsAsTheFullSizedSegmentsItCarries()
        {
            DelayedAck d = new DelayedAck();
            d.DataReceived(3 * Mss + 1, Mss);
            Assert.That(d.PendingSegments, Is.EqualTo(4));
            Assert.That(d.AtBatchEnd(false), Is.EqualTo(AckDecision.Send), "more than two segments' worth");
        }

        [Test]
        public void ALongBatchAcknowledgesInline()
        {
            DelayedAck d = new DelayedAck();
            for (int i = 1; i < DelayedAck.InlineSegments; i++)
            {
                d.DataReceived(Mss, Mss);
                Assert.That(d.InlineDue, Is.False);
            }
            d.DataReceived(Mss, Mss);
            Assert.That(d.InlineDue, Is.True);
        }

        [Test]
        public void AGapWhileAnImmediateAckIsOwedSendsItFirst()
        {
            DelayedAck d = new DelayedAck();
            Assert.That(d.StartsNewRun(1000, 100), Is.False, "nothing owed");
            d.AckImmediately();
            Assert.That(d.StartsNewRun(1100, 100), Is.False, "continues the run");
            Assert.That(d.StartsNewRun(1500, 100), Is.True, "a gap: report the run before it");
        }
    }
}
