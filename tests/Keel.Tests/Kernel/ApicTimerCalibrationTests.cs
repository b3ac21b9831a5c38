using Keel.Kernel.Time;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// The local APIC timer's rate against the TSC: the Intel SDM (vol. 3A, 11.5.4) has the current count go down
    /// from the initial count to 0 at the bus (or crystal) clock over the divide configuration; the values are a 1 GHz
    /// and a 100 MHz bus clock divided by 16.
    /// </summary>
    public class ApicTimerCalibrationTests
    {
        [Test]
        public void RateIsTheTicksCountedDownOverTheTime()
        {
            // 2 ms at 62.5 MHz: 125,000 ticks down from 0xFFFFFFFF.
            Assert.That(ApicTimerCalibration.TicksPerMillisecond(0xFFFFFFFF, 0xFFFFFFFF - 125_000, 2_000_000), Is.EqualTo(62_500));
            // 12.3 ms of a 100 MHz bus over 16: 76,875 ticks.
            Assert.That(ApicTimerCalibration.TicksPerMillisecond(1_000_000, 1_000_000 - 76_875, 12_300_000), Is.EqualTo(6_250));
        }

        [Test]
        public void ElapsedTimeComesFromTheTscRate()
        {
            // 2,096 MHz: 4,192,000 ticks are 2 ms.
            Assert.That(ApicTimerCalibration.ElapsedNanoseconds(1_000, 1_000 + 4_192_000, 2096), Is.EqualTo(2_000_000));
            Assert.That(ApicTimerCalibration.ElapsedNanoseconds(5_000, 4_000, 2096), Is.EqualTo(0));
            Assert.That(ApicTimerCalibration.ElapsedNanoseconds(1_000, 2_000, 0), Is.EqualTo(0));
        }

        [Test]
        public void ARateIsNeverZero()
        {
            // No time, or a timer that did not move: 1 tick per millisecond, so that arming always counts something.
            Assert.That(ApicTimerCalibration.TicksPerMillisecond(500, 400, 0), Is.EqualTo(1));
            Assert.That(ApicTimerCalibration.TicksPerMillisecond(500, 500, 2_000_000), Is.EqualTo(1));
        }

        [Test]
        public void TheSharedWaitIsAtLeastTwoMilliseconds()
        {
            // A microsecond of read time at each end over 2 ms: within 0.1 %.
            Assert.That(ApicTimerCalibration.MinimumNanoseconds, Is.EqualTo(2_000_000));
        }
    }
}
