using Keel.Hal;
using NUnit.Framework;

namespace Keel.Tests.Hal
{
    /// <summary>Instant and Duration: units, arithmetic between them, order, and "not set".</summary>
    public class TimeTests
    {
        [Test]
        public void DurationReadsBackInEveryUnitTruncated()
        {
            Duration d = Duration.FromNanoseconds(2_345_678_901);
            Assert.That(d.Nanoseconds, Is.EqualTo(2_345_678_901));
            Assert.That(d.Microseconds, Is.EqualTo(2_345_678));
            Assert.That(d.Milliseconds, Is.EqualTo(2_345));
            Assert.That(d.Seconds, Is.EqualTo(2));
            Assert.That(d.TotalSeconds, Is.EqualTo(2.345678901).Within(1e-12));
        }

        [Test]
        public void DurationConstructorsAgree()
        {
            Assert.That(Duration.FromSeconds(3), Is.EqualTo(Duration.FromMilliseconds(3000)));
            Assert.That(Duration.FromMilliseconds(3), Is.EqualTo(Duration.FromMicroseconds(3000)));
            Assert.That(Duration.FromMicroseconds(3), Is.EqualTo(Duration.FromNanoseconds(3000)));
            Assert.That(Duration.Zero.IsZero, Is.True);
        }

        [Test]
        public void DurationArithmetic()
        {
            Duration a = Duration.FromMilliseconds(200);
            Duration b = Duration.FromMilliseconds(50);
            Assert.That((a + b).Milliseconds, Is.EqualTo(250));
            Assert.That((a - b).Milliseconds, Is.EqualTo(150));
            Assert.That((a * 3).Milliseconds, Is.EqualTo(600));
            Assert.That((3 * a).Milliseconds, Is.EqualTo(600));
            Assert.That((a / 4).Milliseconds, Is.EqualTo(50));
            Assert.That(a / b, Is.EqualTo(4), "how many b fit in a");
            Assert.That((a << 3).Milliseconds, Is.EqualTo(1600), "three doublings (backoff)");
            Assert.That(Duration.Min(a, b), Is.EqualTo(b));
            Assert.That(Duration.Max(a, b), Is.EqualTo(a));
            Duration same = Duration.FromMilliseconds(200);
            Assert.That(a > b && b < a && a >= same && a <= same && a != b, Is.True);
        }

        [Test]
        public void InstantsSubtractToADurationAndMoveByOne()
        {
            Instant t = Instant.FromNanoseconds(5_000_000_000);
            Instant later = t + Duration.FromMilliseconds(1500);
            Assert.That((later - t).Milliseconds, Is.EqualTo(1500));
            Assert.That((t - later).Milliseconds, Is.EqualTo(-1500));
            Assert.That(later - Duration.FromMilliseconds(1500), Is.EqualTo(t));
            Instant same = Instant.FromNanoseconds(5_000_000_000);
            Assert.That(later > t && t < later && t <= same && t >= same, Is.True);
            Assert.That(Instant.Min(t, later), Is.EqualTo(t));
            Assert.That(Instant.Max(t, later), Is.EqualTo(later));
            Assert.That(t.SinceOrigin.Seconds, Is.EqualTo(5));
        }

        [Test]
        public void NoneIsNotSetAndMaxValueIsLaterThanAnyReading()
        {
            Assert.That(Instant.None.IsSet, Is.False);
            Assert.That(default(Instant), Is.EqualTo(Instant.None));
            Assert.That(Instant.FromNanoseconds(1).IsSet, Is.True);
            Assert.That(Instant.MaxValue > Instant.FromNanoseconds(long.MaxValue - 1), Is.True);
        }

        [Test]
        public void NowReadsTheClock()
        {
            Fakes.FakeClock clock = new Fakes.FakeClock { NowNanoseconds = 42 };
            Assert.That(Instant.Now(clock).Nanoseconds, Is.EqualTo(42));
        }
    }
}
