using System;
using Keel.Kernel.Time;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// TSC calibration against the PIT one-shot (Intel 8254 input clock 1,193,182 Hz = 14.31818 MHz / 12), on a
    /// simulated CPU whose port reads cost time and whose vCPU can be descheduled at any step.
    /// </summary>
    public class TscCalibrationTests
    {
        /// <summary>A counter running at a fixed rate in simulated time, and a PIT channel 2 one-shot.</summary>
        private sealed class SimulatedCpu : ICalibrationClock
        {
            public double Now;
            public double CounterPerNanosecond = 2.5;
            public double ReadCost = 30;
            public double PortCost = 1500;
            public int Starts;

            /// <summary>Delay (ns) after the PIT is started in the given attempt (1-based), before the next read.</summary>
            public Func<int, double> DelayAfterStart = _ => 0;

            /// <summary>Delay (ns) after the first poll that sees the one-shot expired, before the next read.</summary>
            public Func<int, double> DelayAfterExpiry = _ => 0;

            private double _expiry = double.MaxValue;
            private bool _delayedExpiry;

            public ulong ReadCounter()
            {
                Now += ReadCost;
                return (ulong)(Now * CounterPerNanosecond);
            }

            public void StartReference(uint ticks)
            {
                Starts++;
                Now += 6 * PortCost;
                _expiry = Now + ticks * 1e9 / TscCalibration.PitFrequency;
                _delayedExpiry = false;
                Now += DelayAfterStart(Starts);
            }

            public bool ReferenceExpired
            {
                get
                {
                    Now += PortCost;
                    bool expired = Now >= _expiry;
                    if (expired && !_delayedExpiry)
                    {
                        _delayedExpiry = true;
                        Now += DelayAfterExpiry(Starts);
                    }
                    return expired;
                }
            }
        }

        private static void AssertRate(ulong measured, double megahertz)
        {
            // The midpoints of brackets under 0.5 % of the interval are within 0.25 %, plus the integer rounding.
            Assert.That((double)measured, Is.InRange(megahertz * 0.9975 - 1, megahertz * 1.0025));
        }

        [TestCase(1000.0)]
        [TestCase(2500.0)]
        [TestCase(3700.0)]
        public void QuietMachineMeasuresTheRateInOneTry(double megahertz)
        {
            SimulatedCpu cpu = new SimulatedCpu { CounterPerNanosecond = megahertz / 1000 };
            ulong rate = TscCalibration.Measure(cpu, 10, out ulong uncertainty, out int attempts);
            AssertRate(rate, megahertz);
            Assert.That(attempts, Is.EqualTo(1));
            Assert.That(uncertainty, Is.LessThan((ulong)(10_000 * megahertz / 200)));
        }

        [Test]
        public void DescheduledAfterSeeingTheEndIsMeasuredAgain()
        {
            // A 3.5 ms time slice lost right after the poll that saw OUT high: read there, 10 ms looks like
            // 13.5 ms and the clock runs 35 % slow.
            SimulatedCpu cpu = new SimulatedCpu { DelayAfterExpiry = attempt => attempt == 1 ? 3_500_000 : 0 };
            ulong rate = TscCalibration.Measure(cpu, 10, out _, out int attempts);
            AssertRate(rate, 2500);
            Assert.That(attempts, Is.EqualTo(2));
        }

        [Test]
        public void DescheduledRightAfterTheStartIsMeasuredAgain()
        {
            SimulatedCpu cpu = new SimulatedCpu { DelayAfterStart = attempt => attempt == 1 ? 4_000_000 : 0 };
            ulong rate = TscCalibration.Measure(cpu, 10, out _, out int attempts);
            AssertRate(rate, 2500);
            Assert.That(attempts, Is.EqualTo(2));
        }

        [Test]
        public void WhenEveryTryIsDisturbedTheTightestBracketIsUsed()
        {
            // Try k loses (9 − k) × 100 µs at the end: the last try (100 µs, 1 % of the interval) is the best.
            SimulatedCpu cpu = new SimulatedCpu { DelayAfterExpiry = attempt => (9 - attempt) * 100_000.0 };
            ulong rate = TscCalibration.Measure(cpu, 10, out ulong uncertainty, out int attempts);
            Assert.That(attempts, Is.EqualTo(TscCalibration.MaxAttempts));
            // Its bracket: the 100 µs lost, plus the start (six port writes) and two polls at the end, ~12 µs.
            Assert.That(uncertainty, Is.InRange(100_000 * 2.5, 115_000 * 2.5));
            // A midpoint is at most half its bracket off: here ~56 µs in 10 ms, 0.56 %.
            double bound = 2500 * (uncertainty / 2.0) / (10_000_000 * 2.5) + 1;
            Assert.That((double)rate, Is.InRange(2500 - bound, 2500 + bound));
        }
    }
}
