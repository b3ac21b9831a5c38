using System;
using Keel.Kernel.Time;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// TSC calibration against simulated reference timers with the frequencies and widths their specifications
    /// give: the PIT (Intel 8254, 1,193,182 Hz = 14.31818 MHz / 12, 16-bit), the ACPI PM timer (ACPI 6.5
    /// section 4.8.3.3: 3.579545 MHz, 24 bits, or 32 with TMR_VAL_EXT), the HPET (IA-PC HPET 1.0a: period in
    /// femtoseconds, at most 100 ns; 10 ns = 100 MHz here, low 32 bits read) and the RTC's seconds (1 Hz), on a
    /// simulated CPU whose reads cost time and whose vCPU can be descheduled at any step.
    /// </summary>
    public class TscCalibrationTests
    {
        /// <summary>A TSC at a fixed rate in simulated time, and one reference counting in that time.</summary>
        private sealed class SimulatedMachine : ICalibrationClock, ICalibrationReference
        {
            public double Now;
            public double CounterPerNanosecond = 2.5;
            public double ReadCost = 30;
            public double ReferenceCost = 1500;
            public double ReferenceStart = 123_456;

            /// <summary>Delay (ns) before the given reference read (0-based, counted over the whole run).</summary>
            public Func<long, double> DelayBeforeRead = _ => 0;

            /// <summary>When false the reference reads the same value forever (no timer there).</summary>
            public bool Running = true;

            public long Reads;

            /// <summary>Reference ticks so far (what the reference would read now, before masking).</summary>
            public double Ticks => Math.Floor((ReferenceStart + Now) * Frequency / 1e9);

            public string Name { get; set; } = "simulated";

            public ulong Frequency { get; set; } = TscCalibration.PitFrequency;

            public ulong Mask { get; set; } = 0xFFFF;

            public ulong LossFreeTicks { get; set; } = 0x10000;

            public bool Coarse => false;

            public ulong ReadCounter()
            {
                Now += ReadCost;
                return (ulong)(Now * CounterPerNanosecond);
            }

            public ulong Read()
            {
                Now += DelayBeforeRead(Reads++);
                Now += ReferenceCost / 2;
                double ticks = Running ? Math.Floor((ReferenceStart + Now) * Frequency / 1e9) : 77;
                Now += ReferenceCost / 2;
                if (LossFreeTicks < Mask)
                {
                    // A seconds register: the count of ticks, but only its value modulo LossFreeTicks is visible.
                    return (ulong)(ticks % LossFreeTicks);
                }
                return (ulong)ticks & Mask;
            }

            public static SimulatedMachine Pit() => new SimulatedMachine();

            public static SimulatedMachine PmTimer() => new SimulatedMachine
            {
                Name = "pm",
                Frequency = TscCalibration.PmTimerFrequency,
                Mask = 0xFFFFFF,
                LossFreeTicks = 0x1000000,
            };

            public static SimulatedMachine Hpet() => new SimulatedMachine
            {
                Name = "hpet",
                Frequency = 1_000_000_000_000_000UL / 10_000_000,
                Mask = 0xFFFFFFFF,
                LossFreeTicks = 0x100000000,
                ReferenceCost = 200,
            };
        }

        /// <summary>The RTC's seconds as the reference sees them: a count that goes up, as RtcReference gives it.</summary>
        private sealed class SecondsCounter : ICalibrationReference
        {
            private readonly SimulatedMachine _machine;
            private ulong _seconds;
            private ulong _last;

            public SecondsCounter(SimulatedMachine machine)
            {
                _machine = machine;
                _machine.Frequency = 1;
                _machine.Mask = ulong.MaxValue;
                _machine.LossFreeTicks = 60;
                _last = _machine.Read();
            }

            public string Name => "rtc";

            public ulong Frequency => 1;

            public ulong Mask => ulong.MaxValue;

            public ulong LossFreeTicks => 60;

            public bool Coarse => true;

            public ulong Read()
            {
                ulong now = _machine.Read();
                _seconds += (now + 60 - _last) % 60;
                _last = now;
                return _seconds;
            }
        }

        private static void AssertRate(CalibrationResult result, double megahertz)
        {
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.None));
            // The midpoints of brackets under 0.5 % of the interval are within 0.25 %, plus the integer rounding.
            Assert.That((double)result.TicksPerMicrosecond, Is.InRange(megahertz * 0.9975 - 1, megahertz * 1.0025));
        }

        [TestCase(1000.0)]
        [TestCase(2500.0)]
        [TestCase(3700.0)]
        public void QuietMachineMeasuresTheRateAgainstThePitInOneTry(double megahertz)
        {
            SimulatedMachine machine = new SimulatedMachine { CounterPerNanosecond = megahertz / 1000 };
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            AssertRate(result, megahertz);
            Assert.That(result.Attempts, Is.EqualTo(1));
            Assert.That(result.Uncertainty, Is.LessThan((ulong)(10_000 * megahertz / 200)));
        }

        [Test]
        public void HpetAndPmTimerGiveTheRate()
        {
            SimulatedMachine hpet = SimulatedMachine.Hpet();
            AssertRate(TscCalibration.Measure(hpet, hpet, 10), 2500);
            SimulatedMachine pm = SimulatedMachine.PmTimer();
            AssertRate(TscCalibration.Measure(pm, pm, 10), 2500);
        }

        [Test]
        public void CountersThatWrapDuringTheIntervalAreFollowed()
        {
            // The PM timer's 24 bits wrap every 4.69 s: start 2 ms before a wrap.
            SimulatedMachine pm = SimulatedMachine.PmTimer();
            pm.ReferenceStart = 0x1000000 * 1e9 / TscCalibration.PmTimerFrequency - 2_000_000;
            AssertRate(TscCalibration.Measure(pm, pm, 10), 2500);
            // The HPET's low 32 bits wrap every 42.9 s at 100 MHz.
            SimulatedMachine hpet = SimulatedMachine.Hpet();
            hpet.ReferenceStart = 0x100000000 * 10.0 - 5_000_000;
            AssertRate(TscCalibration.Measure(hpet, hpet, 10), 2500);
        }

        [Test]
        public void RtcSecondsGiveTheRateOverOneSecond()
        {
            SimulatedMachine machine = new SimulatedMachine { ReferenceStart = 0.4e9 };
            SecondsCounter rtc = new SecondsCounter(machine);
            CalibrationResult result = TscCalibration.Measure(machine, rtc, 1000);
            AssertRate(result, 2500);
            Assert.That(result.Attempts, Is.EqualTo(1));
            // One second of TSC from edge to edge.
            Assert.That((double)result.Interval, Is.InRange(2.5e9 * 0.999, 2.5e9 * 1.001));
        }

        [Test]
        public void RtcSecondsAreWaitedForHoweverQuickTheReads()
        {
            // 2,000,000 polls at 0.2 us each are 0.4 s: a second's edge is still waited for, up to two of them.
            SimulatedMachine machine = new SimulatedMachine { ReferenceStart = 0.1e9, ReferenceCost = 140 };
            SecondsCounter rtc = new SecondsCounter(machine);
            CalibrationResult result = TscCalibration.Measure(machine, rtc, 1000);
            AssertRate(result, 2500);
            Assert.That(result.Attempts, Is.EqualTo(1));
        }

        [Test]
        public void AStoppedRtcIsGivenUpAfterTwoSecondsOfTheFastestCounter()
        {
            SimulatedMachine machine = new SimulatedMachine { Running = false, ReferenceCost = 140 };
            SecondsCounter rtc = new SecondsCounter(machine);
            CalibrationResult result = TscCalibration.Measure(machine, rtc, 1000);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.ReferenceStopped));
            Assert.That(result.Attempts, Is.EqualTo(1));
            // 3 s of a 10 GHz counter is 12 s of this 2.5 GHz one.
            Assert.That(machine.Now, Is.InRange(11.9e9, 12.2e9));
        }

        [Test]
        public void DescheduledWhereTheCountPassesTheTargetCostsNothing()
        {
            // A 3.5 ms time slice lost in the poll whose count passes the target: timing the change there made that
            // try's bracket 35 % of the interval; the count read in the narrowest of the next polls is exact.
            SimulatedMachine machine = new SimulatedMachine();
            double end = machine.Ticks + 11_931;
            bool lost = false;
            machine.DelayBeforeRead = read =>
            {
                if (!lost && machine.Ticks >= end - 100)
                {
                    lost = true;
                    return 3_500_000;
                }
                return 0;
            };
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            Assert.That(lost, Is.True);
            AssertRate(result, 2500);
            Assert.That(result.Attempts, Is.EqualTo(1));
            Assert.That(result.Uncertainty, Is.LessThan(10_000));
        }

        /// <summary>200 µs lost before each of the first try's end polls, past <paramref name="ticks"/> reference ticks from now.</summary>
        private static void LoseTimeInTheFirstEndPolls(SimulatedMachine machine, double ticks)
        {
            double end = machine.Ticks + ticks;
            int lost = 0;
            machine.DelayBeforeRead = read =>
            {
                if (lost < TscCalibration.EndPolls && machine.Ticks >= end)
                {
                    lost++;
                    return 200_000;
                }
                return 0;
            };
        }

        [Test]
        public void DescheduledAtEveryEndPollIsMeasuredAgain()
        {
            // 200 µs lost in each of the polls after the target in the first try: no narrow end there.
            SimulatedMachine machine = new SimulatedMachine();
            LoseTimeInTheFirstEndPolls(machine, 11_931);
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            AssertRate(result, 2500);
            Assert.That(result.Attempts, Is.EqualTo(2));
        }

        [Test]
        public void DescheduledInsideTheIntervalCostsNothing()
        {
            // 4 ms lost in the middle of a 10 ms PIT interval: the counter kept counting, nothing is lost.
            SimulatedMachine machine = new SimulatedMachine();
            machine.DelayBeforeRead = read => read == 1000 ? 4_000_000 : 0;
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            AssertRate(result, 2500);
            Assert.That(result.Attempts, Is.EqualTo(1));
        }

        [Test]
        public void AGapLongEnoughToHideAWrapVoidsTheTry()
        {
            // 60 ms lost inside the interval: the PIT's 16 bits wrap every 54.9 ms, so the count cannot be trusted.
            SimulatedMachine machine = new SimulatedMachine();
            machine.DelayBeforeRead = read => read == 1000 ? 60_000_000 : 0;
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            AssertRate(result, 2500);
            Assert.That(result.Attempts, Is.EqualTo(2));
        }

        [Test]
        public void WhenEveryTryHidesAWrapTheCalibrationIsRefused()
        {
            // 60 ms lost about half-way through every try.
            SimulatedMachine machine = new SimulatedMachine();
            double next = machine.Ticks + 5_000;
            machine.DelayBeforeRead = read =>
            {
                if (machine.Ticks >= next)
                {
                    next = machine.Ticks + 71_591 + 6_000;
                    return 60_000_000;
                }
                return 0;
            };
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.Disturbed));
            Assert.That(result.TicksPerMicrosecond, Is.EqualTo(0));
            Assert.That(result.Attempts, Is.EqualTo(TscCalibration.MaxAttempts));
        }

        [Test]
        public void WhenEveryReadIsSlowTheTightestOfTheTriesIsUsed()
        {
            // Every reference read takes 50 µs (a device behind a contended lock): each end's bracket is 50 µs,
            // 1 % of the interval together, over the 0.5 % taken at once and under the 2 % refused.
            SimulatedMachine machine = new SimulatedMachine { ReferenceCost = 50_000 };
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            Assert.That(result.Attempts, Is.EqualTo(TscCalibration.MaxAttempts));
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.None));
            // A midpoint is at most half its bracket off.
            double bound = 2500 * (result.Uncertainty / 2.0) / (10_000_000 * 2.5) + 1;
            Assert.That((double)result.TicksPerMicrosecond, Is.InRange(2500 - bound, 2500 + bound));
        }

        [Test]
        public void ABracketOverTwoPercentIsRefused()
        {
            // Every read takes 150 µs: the ends could be 3 % off; the rate is not used.
            SimulatedMachine machine = new SimulatedMachine { ReferenceCost = 150_000 };
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.TooUncertain));
            Assert.That(result.TicksPerMicrosecond, Is.EqualTo(0));
            Assert.That(result.Uncertainty * TscCalibration.UsableSpreadDivisor, Is.GreaterThan(result.Interval));
        }

        [Test]
        public void AReferenceThatNeverMovesIsRefusedAfterOneTry()
        {
            // No PIT: the port reads the same byte forever.
            SimulatedMachine machine = new SimulatedMachine { Running = false };
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.ReferenceStopped));
            Assert.That(result.TicksPerMicrosecond, Is.EqualTo(0));
            Assert.That(result.Attempts, Is.EqualTo(1));
        }

        [Test]
        public void ACounterSlowerThanOneTickPerMicrosecondIsRefused()
        {
            SimulatedMachine machine = new SimulatedMachine { CounterPerNanosecond = 0.0005 };
            CalibrationResult result = TscCalibration.Measure(machine, machine, 10);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.TooSlow));
        }

        [TestCase(1000.0)]
        [TestCase(2500.0)]
        [TestCase(3700.0)]
        public void AQuickPitMeasurementTakesFourThousandTicksAndIsWithinOneTwoThousandth(double megahertz)
        {
            // 2 × 2000 PIT ticks (1,193,182 Hz) = 3.35 ms: one tick is 1/4000 of it, half the 0.05 % allowed.
            SimulatedMachine machine = new SimulatedMachine { CounterPerNanosecond = megahertz / 1000, ReferenceCost = 600 };
            CalibrationResult result = TscCalibration.MeasureQuick(machine, machine);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.None));
            Assert.That(result.Attempts, Is.EqualTo(1));
            double seconds = result.Interval / (megahertz * 1e6);
            Assert.That(seconds, Is.InRange(4000 / 1193182.0, 4000 / 1193182.0 + 0.0002));
            // Within 0.05 % of the true rate, plus the rounding down to whole MHz.
            Assert.That((double)result.TicksPerMicrosecond, Is.InRange(megahertz * (1 - 1 / 2000.0) - 1, megahertz * (1 + 1 / 2000.0)));
            Assert.That(machine.Now, Is.LessThan(4.0e6), "a quick PIT calibration takes under 4 ms");
        }

        [Test]
        public void AQuickHpetOrPmTimerMeasurementTakesTwoMilliseconds()
        {
            SimulatedMachine hpet = SimulatedMachine.Hpet();
            CalibrationResult result = TscCalibration.MeasureQuick(hpet, hpet);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.None));
            Assert.That(result.Interval / 2500.0, Is.InRange(2000, 2010), "microseconds");
            AssertRate(result, 2500);
            SimulatedMachine pm = SimulatedMachine.PmTimer();
            pm.ReferenceCost = 600;
            result = TscCalibration.MeasureQuick(pm, pm);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.None));
            Assert.That(result.Interval / 2500.0, Is.InRange(2000, 2010), "microseconds");
            AssertRate(result, 2500);
        }

        [Test]
        public void AQuickMeasurementWhoseBracketsAreTooWideIsRefusedForTheLongOne()
        {
            // Every PIT read takes 2 µs: the two ends' half-brackets (2 µs) and one tick (0.84 µs) are over 0.05 % of
            // 3.35 ms (1.68 µs), in both tries; the 10 ms measurement takes the same reads at once (0.04 % < 0.5 %).
            SimulatedMachine machine = new SimulatedMachine { ReferenceCost = 2000 };
            CalibrationResult quick = TscCalibration.MeasureQuick(machine, machine);
            Assert.That(quick.Failure, Is.EqualTo(CalibrationFailure.TooUncertain));
            Assert.That(quick.TicksPerMicrosecond, Is.EqualTo(0));
            Assert.That(quick.Attempts, Is.EqualTo(TscCalibration.QuickAttempts));
            AssertRate(TscCalibration.Measure(machine, machine, 10), 2500);
        }

        [Test]
        public void AQuickTryDescheduledAtTheEndIsMeasuredAgain()
        {
            // 200 µs lost in every poll after the target in the first quick try: its end bracket is 200 µs wide.
            SimulatedMachine machine = new SimulatedMachine { ReferenceCost = 600 };
            LoseTimeInTheFirstEndPolls(machine, 4000);
            CalibrationResult result = TscCalibration.MeasureQuick(machine, machine);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.None));
            Assert.That(result.Attempts, Is.EqualTo(2));
            Assert.That((double)result.TicksPerMicrosecond, Is.InRange(2500 * (1 - 1 / 2000.0) - 1, 2500 * (1 + 1 / 2000.0)));
        }

        [Test]
        public void TheRtcIsNeverQuick()
        {
            SimulatedMachine machine = new SimulatedMachine { ReferenceStart = 0.4e9 };
            SecondsCounter rtc = new SecondsCounter(machine);
            double before = machine.Now;
            CalibrationResult result = TscCalibration.MeasureQuick(machine, rtc);
            Assert.That(result.Failure, Is.EqualTo(CalibrationFailure.TooUncertain));
            Assert.That(result.Attempts, Is.EqualTo(0));
            Assert.That(machine.Now, Is.EqualTo(before));
        }

        [Test]
        public void QuickPrecisionCountsHalfTheBracketsAndOneReferenceTick()
        {
            // 0.05 % of 4,000,000 counter ticks is 2,000; one of 4,000 reference ticks is 1,000 counter ticks.
            Assert.That(TscCalibration.WithinQuickPrecision(4_000_000, 2_000, 4_000), Is.True);   // 1,000 + 1,000
            Assert.That(TscCalibration.WithinQuickPrecision(4_000_000, 2_002, 4_000), Is.False);  // 1,001 + 1,000
            Assert.That(TscCalibration.WithinQuickPrecision(4_000_000, 0, 1_999), Is.False);      // one tick alone is over
            Assert.That(TscCalibration.WithinQuickPrecision(4_000_000, 3_980, 400_000), Is.True); // 1,990 + 10
            Assert.That(TscCalibration.WithinQuickPrecision(4_000_000, 3_982, 400_000), Is.False); // 1,991 + 10
            Assert.That(TscCalibration.WithinQuickPrecision(0, 0, 4_000), Is.False);
            Assert.That(TscCalibration.WithinQuickPrecision(4_000_000, 0, 0), Is.False);
        }
    }
}
