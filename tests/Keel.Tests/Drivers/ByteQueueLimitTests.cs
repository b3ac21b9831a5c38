using Keel.Drivers.VirtioNet;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>
    /// The transmit ring's byte limit alone. Expected values follow Linux's dynamic queue limits (dql_queued,
    /// dql_completed and dql_avail in lib/dynamic_queue_limits.c, worked by hand): the limit starts at its minimum
    /// (0 for a Linux netdev queue), grows by the bytes completed beyond the previous completion's queue plus what was
    /// over the limit when the queue ran dry, and drops by the smallest slack seen once slack has lasted the hold time
    /// (one second).
    /// </summary>
    public class ByteQueueLimitTests
    {
        private const long Second = ByteQueueLimit.SlackHoldNanoseconds;

        [Test]
        public void AtTheMinimumOfZeroOneFrameFillsTheQueue()
        {
            ByteQueueLimit q = new ByteQueueLimit(0, 1 << 20);
            Assert.That(q.Limit, Is.Zero);
            Assert.That(q.OverLimit, Is.False, "nothing queued: room for one frame");
            q.Queued(1514);
            Assert.That(q.InFlight, Is.EqualTo(1514));
            Assert.That(q.OverLimit, Is.True);
        }

        [Test]
        public void TheLimitGrowsByWhatWasCompletedWhenTheQueueRanDry()
        {
            ByteQueueLimit q = new ByteQueueLimit(0, 1 << 20);
            q.Queued(3000);
            q.Completed(3000, 0);
            // Over the limit (3000 > 0) and nothing left in progress: starved, limit += 3000 − 0 + 0.
            Assert.That(q.Limit, Is.EqualTo(3000));
            Assert.That(q.Available, Is.EqualTo(3000));
            Assert.That(q.Growths, Is.EqualTo(1));
            q.Queued(3000);
            q.Queued(3000);
            Assert.That(q.OverLimit, Is.True);
            q.Completed(6000, 10);
            // 3000 over the limit and dry again: limit += (9000 completed − 3000 queued at the last completion).
            Assert.That(q.Limit, Is.EqualTo(9000));
            Assert.That(q.Growths, Is.EqualTo(2));
        }

        [Test]
        public void PersistentSlackShrinksTheLimitAfterTheHoldTime()
        {
            ByteQueueLimit q = new ByteQueueLimit(0, 1 << 20);
            q.Queued(100000);
            q.Completed(100000, 0);
            Assert.That(q.Limit, Is.EqualTo(100000));
            // Steady state: 40000 stays queued and each completion takes 10000 (the next frames are queued first).
            q.Queued(40000);
            q.Completed(0, 0);
            for (int i = 1; i <= 5; i++)
            {
                q.Queued(10000);
                q.Completed(10000, i * Second / 10);
            }
            // The first completion (previous queue not yet in progress) measures nothing; the others see
            // slack = limit − 2 × 10000 = 80000, but not for a whole second yet.
            Assert.That(q.Limit, Is.EqualTo(100000));
            q.Queued(10000);
            q.Completed(10000, Second);
            Assert.That(q.Limit, Is.EqualTo(20000), "100000 less the smallest slack, 80000");
            Assert.That(q.Shrinks, Is.EqualTo(1));
        }

        [Test]
        public void TheLimitStaysWithinItsBounds()
        {
            ByteQueueLimit q = new ByteQueueLimit(4096, 8192);
            Assert.That(q.Limit, Is.EqualTo(4096));
            q.Queued(65536);
            q.Completed(65536, 0);
            Assert.That(q.Limit, Is.EqualTo(8192));
            q.Reset(0);
            Assert.That(q.Limit, Is.EqualTo(4096));
            Assert.That(q.InFlight, Is.Zero);
        }
    }
}
