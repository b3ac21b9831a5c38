using Keel.Hal;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>The connection's timer table alone: arm, stop, expire, next deadline.</summary>
    public class TcpTimersTests
    {
        private static Instant At(long ms) => Instant.FromNanoseconds(1_000_000_000L + ms * 1_000_000L);

        [Test]
        public void AllTimersStartOffAndTheNextDeadlineIsNever()
        {
            TcpTimers t = new TcpTimers();
            for (TcpTimer k = 0; k < TcpTimer.Count; k++)
            {
                Assert.That(t.IsArmed(k), Is.False, k.ToString());
            }
            Assert.That(t.NextDeadline(), Is.EqualTo(Instant.MaxValue));
        }

        [Test]
        public void NextDeadlineIsTheEarliestArmedOne()
        {
            TcpTimers t = new TcpTimers();
            t.Arm(TcpTimer.KeepAlive, At(7200));
            t.Arm(TcpTimer.Retransmit, At(200));
            t.Arm(TcpTimer.DelayedAck, At(40));
            Assert.That(t.NextDeadline(), Is.EqualTo(At(40)));
            t.Stop(TcpTimer.DelayedAck);
            Assert.That(t.NextDeadline(), Is.EqualTo(At(200)));
            Assert.That(t.Deadline(TcpTimer.KeepAlive), Is.EqualTo(At(7200)));
            t.StopAll();
            Assert.That(t.NextDeadline(), Is.EqualTo(Instant.MaxValue));
        }

        [Test]
        public void ExpireFiresOnceAtOrAfterTheDeadline()
        {
            TcpTimers t = new TcpTimers();
            t.Arm(TcpTimer.Persist, At(100));
            Assert.That(t.Expire(TcpTimer.Persist, At(99)), Is.False, "not yet");
            Assert.That(t.IsArmed(TcpTimer.Persist), Is.True);
            Assert.That(t.Expire(TcpTimer.Persist, At(100)), Is.True, "due");
            Assert.That(t.IsArmed(TcpTimer.Persist), Is.False, "off once it fired");
            Assert.That(t.Expire(TcpTimer.Persist, At(101)), Is.False, "fires once");
            Assert.That(t.Expire(TcpTimer.LossProbe, At(101)), Is.False, "an unarmed timer never fires");
        }

        [Test]
        public void TimersAreIndependent()
        {
            TcpTimers t = new TcpTimers();
            t.Arm(TcpTimer.TimeWait, At(30000));
            t.Arm(TcpTimer.FinWait2, At(60000));
            t.Stop(TcpTimer.FinWait2);
            Assert.That(t.Deadline(TcpTimer.TimeWait), Is.EqualTo(At(30000)));
            Assert.That(t.Deadline(TcpTimer.FinWait2), Is.EqualTo(Instant.None));
        }
    }
}
