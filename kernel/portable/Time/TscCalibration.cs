namespace Keel.Kernel.Time
{
    /// <summary>The counter being calibrated: the kernel's rdtsc; tests: a simulated CPU.</summary>
    public interface ICalibrationClock
    {
        /// <summary>Reads the counter being calibrated.</summary>
        ulong ReadCounter();
    }

    /// <summary>
    /// A timer of known frequency the counter is measured against (PIT, HPET, ACPI PM timer, RTC periodic flag):
    /// a count that goes up, wrapping at <see cref="Mask"/> + 1.
    /// </summary>
    public interface ICalibrationReference
    {
        /// <summary>Name printed on the console ("pit", "hpet", ...).</summary>
        string Name { get; }

        /// <summary>Ticks per second.</summary>
        ulong Frequency { get; }

        /// <summary>The count wraps at this + 1 (a 16-bit counter: 0xFFFF).</summary>
        ulong Mask { get; }

        /// <summary>
        /// The longest time between two reads, in ticks, that loses none: the wrap for a counter, one tick for a
        /// flag that only says "a tick happened since the last read".
        /// </summary>
        ulong LossFreeTicks { get; }

        /// <summary>
        /// True when the count changes seldom compared with a read (the RTC's seconds): the moments it changes are
        /// timed. False for a counter that moves between any two reads: the moment of each read is timed, so a
        /// time slice lost just before the end cannot widen the end's bracket.
        /// </summary>
        bool Coarse { get; }

        /// <summary>Reads the count.</summary>
        ulong Read();
    }

    /// <summary>Why a calibration was refused.</summary>
    public enum CalibrationFailure
    {
        /// <summary>The measurement is used.</summary>
        None,

        /// <summary>The reference never moved (absent, or not running).</summary>
        ReferenceStopped,

        /// <summary>Every try had a gap between two reads long enough to lose reference ticks unseen.</summary>
        Disturbed,

        /// <summary>The tightest bracket is over <see cref="TscCalibration.UsableSpreadDivisor"/>⁻¹ of the interval.</summary>
        TooUncertain,

        /// <summary>Under one counter tick per microsecond.</summary>
        TooSlow,
    }

    /// <summary>The outcome of <see cref="TscCalibration.Measure"/>.</summary>
    public struct CalibrationResult
    {
        /// <summary>Counter ticks per microsecond (0 when refused).</summary>
        public ulong TicksPerMicrosecond;

        /// <summary>Bracket of the measurement kept, in counter ticks.</summary>
        public ulong Uncertainty;

        /// <summary>Counter ticks of the measurement kept.</summary>
        public ulong Interval;

        /// <summary>Measurements made.</summary>
        public int Attempts;

        /// <summary>None when the result may be used.</summary>
        public CalibrationFailure Failure;

        public bool Succeeded => Failure == CalibrationFailure.None;
    }

    /// <summary>
    /// Measures the counter's rate against a reference timer. Both ends of the interval are bracketed by counter
    /// reads: for a fine counter (PIT, HPET, PM timer) the reads of the count at the start and the first one past
    /// the target; for a coarse one (the RTC's seconds) a change of the count, which happened after the read of
    /// the count before it was last seen unchanged and before the read that saw it changed. The midpoints are
    /// used, so a vCPU descheduled at either end (a busy host) widens that bracket instead of silently
    /// lengthening the interval, which made the clock run ~35 % slow when only the end was read. A gap between two polls inside
    /// the interval long enough for the reference to wrap (or, for a flag, to tick twice) unseen makes the try
    /// void. The measurement is repeated until the bracket is under 0.5 % of the interval (the midpoints are
    /// then within 0.25 %), keeping the tightest one; a calibration whose tightest bracket is still over 2 %, or
    /// that never saw the reference move, is refused.
    /// </summary>
    public static class TscCalibration
    {
        /// <summary>PIT input clock (Hz): 14.31818 MHz / 12.</summary>
        public const uint PitFrequency = 1193182;

        /// <summary>ACPI PM timer (Hz): 14.31818 MHz / 4.</summary>
        public const uint PmTimerFrequency = 3579545;

        /// <summary>Most measurements tried.</summary>
        public const int MaxAttempts = 8;

        /// <summary>A measurement whose bracket is at most the interval / this (0.5 %) is taken at once.</summary>
        public const ulong AcceptableSpreadDivisor = 200;

        /// <summary>A calibration whose tightest bracket is over the interval / this (2 %) is refused.</summary>
        public const ulong UsableSpreadDivisor = 50;

        /// <summary>Polls of the reference in one measurement before it is given up.</summary>
        public const int MaxPolls = 2_000_000;

        /// <summary>
        /// A coarse reference changes seldom: a measurement waits up to two of its ticks past the interval, however
        /// many polls that takes. The wait is bounded in counter ticks by the fastest counter there is (10 GHz),
        /// since the counter's rate is what is being measured, and by <see cref="MaxCoarsePolls"/>.
        /// </summary>
        public const ulong FastestCounterHertz = 10_000_000_000;

        /// <summary>Polls of a coarse reference in one measurement, past which it is given up in any case.</summary>
        public const int MaxCoarsePolls = 400_000_000;

        /// <summary>
        /// A quick measurement is kept only when its whole error bound is at most the interval / this (0.05 %: about
        /// what keeping the rate in whole MHz loses on a 2 GHz counter anyway, and a tenth of what
        /// <see cref="Measure"/> takes at once).
        /// </summary>
        public const ulong QuickPrecisionDivisor = 2000;

        /// <summary>Tries of a quick measurement before it is given up for <see cref="Measure"/>.</summary>
        public const int QuickAttempts = 2;

        /// <summary>The shortest quick interval, in microseconds.</summary>
        public const uint QuickMinimumMicroseconds = 2000;

        /// <summary>
        /// Calibrates <paramref name="clock"/> over about <paramref name="milliseconds"/> of
        /// <paramref name="reference"/> time (never more than half its wrap).
        /// </summary>
        public static CalibrationResult Measure(ICalibrationClock clock, ICalibrationReference reference, uint milliseconds)
        {
            return MeasureTicks(clock, reference, reference.Frequency * milliseconds / 1000, MaxAttempts, false);
        }

        /// <summary>
        /// A calibration over the shortest interval that can show the rate to 1 / <see cref="QuickPrecisionDivisor"/>:
        /// one reference tick at most half of that (2 × <see cref="QuickPrecisionDivisor"/> ticks: 3.4 ms of the PIT,
        /// 1.1 ms of the ACPI PM timer), and at least <see cref="QuickMinimumMicroseconds"/>. A try is kept only when
        /// its whole error bound is within that share of the interval: each end's midpoint up to half its bracket
        /// off, and the count up to one tick off (each read is the ticks begun before it). Otherwise the result
        /// is refused (<see cref="CalibrationFailure.TooUncertain"/>), for <see cref="Measure"/> to measure longer.
        /// A coarse reference (the RTC's seconds) is never quick: refused at once with no try made.
        /// </summary>
        public static CalibrationResult MeasureQuick(ICalibrationClock clock, ICalibrationReference reference)
        {
            if (reference.Coarse)
            {
                CalibrationResult refused = default;
                refused.Failure = CalibrationFailure.TooUncertain;
                return refused;
            }
            ulong ticks = 2 * QuickPrecisionDivisor;
            ulong minimum = reference.Frequency * QuickMinimumMicroseconds / 1_000_000;
            return MeasureTicks(clock, reference, ticks > minimum ? ticks : minimum, QuickAttempts, true);
        }

        /// <summary>
        /// True when an interval of <paramref name="interval"/> counter ticks over <paramref name="referenceTicks"/>
        /// reference ticks, with brackets <paramref name="spread"/> wide together, is known to
        /// 1 / <see cref="QuickPrecisionDivisor"/>: spread / 2 + interval / referenceTicks ≤ interval / divisor.
        /// </summary>
        public static bool WithinQuickPrecision(ulong interval, ulong spread, ulong referenceTicks)
        {
            if (interval == 0 || referenceTicks == 0)
            {
                return false;
            }
            // Rounded against the measurement: the error up, the allowance down.
            ulong allowed = interval / QuickPrecisionDivisor;
            ulong tick = (interval + referenceTicks - 1) / referenceTicks;
            ulong midpoints = spread / 2 + (spread & 1);
            return tick <= allowed && midpoints <= allowed - tick;
        }

        private static CalibrationResult MeasureTicks(ICalibrationClock clock, ICalibrationReference reference, ulong ticks,
            int maxAttempts, bool quick)
        {
            if (ticks > (reference.Mask >> 1))
            {
                ticks = reference.Mask >> 1;
            }
            if (ticks == 0)
            {
                ticks = 1;
            }
            CalibrationResult result = default;
            ulong bestReference = 0;
            ulong bestUncertainty = ulong.MaxValue;
            bool moved = false;
            while (result.Attempts < maxAttempts)
            {
                result.Attempts++;
                ulong interval;
                ulong spread;
                ulong referenceTicks;
                Attempt outcome = reference.Coarse
                    ? MeasureChanges(clock, reference, ticks, out interval, out spread, out referenceTicks)
                    : MeasureReads(clock, reference, ticks, out interval, out spread, out referenceTicks);
                if (outcome == Attempt.Stopped)
                {
                    // A reference that did not move in a whole try will not move in the next.
                    break;
                }
                moved = true;
                if (outcome != Attempt.Measured)
                {
                    continue;
                }
                if (spread < bestUncertainty)
                {
                    bestUncertainty = spread;
                    result.Interval = interval;
                    bestReference = referenceTicks;
                }
                if (quick ? WithinQuickPrecision(interval, spread, referenceTicks) : spread * AcceptableSpreadDivisor <= interval)
                {
                    break;
                }
            }
            if (bestReference == 0)
            {
                result.Failure = moved ? CalibrationFailure.Disturbed : CalibrationFailure.ReferenceStopped;
                return result;
            }
            result.Uncertainty = bestUncertainty;
            if (quick ? !WithinQuickPrecision(result.Interval, bestUncertainty, bestReference) : bestUncertainty * UsableSpreadDivisor > result.Interval)
            {
                result.Failure = CalibrationFailure.TooUncertain;
                return result;
            }
            // ticks per µs = interval / (reference ticks / frequency s × 10^6).
            ulong perMicrosecond = result.Interval * reference.Frequency / (bestReference * 1_000_000);
            if (perMicrosecond == 0)
            {
                result.Failure = CalibrationFailure.TooSlow;
                return result;
            }
            result.TicksPerMicrosecond = perMicrosecond;
            return result;
        }

        private enum Attempt
        {
            Measured,
            Stopped,
            Void,
        }

        /// <summary>Polls at each end of a fine measurement, the narrowest of which is used.</summary>
        public const int EndPolls = 16;

        /// <summary>
        /// One poll = read the reference, then the counter; the reference read of poll i lies between the counter
        /// reads of polls i−1 and i, and a fine reference's count is the time of that read. Each end is the
        /// narrowest of <see cref="EndPolls"/> polls (at the start, and once the target is passed), so a time slice
        /// lost in one poll, which is where the count jumps past the target, does not widen the end.
        /// </summary>
        private static Attempt MeasureReads(ICalibrationClock clock, ICalibrationReference reference, ulong ticks,
            out ulong interval, out ulong spread, out ulong referenceTicks)
        {
            interval = 0;
            spread = 0;
            referenceTicks = 0;
            ulong mask = reference.Mask;
            ulong lastRead = clock.ReadCounter();
            ulong last = reference.Read();
            ulong position = 0;
            ulong startLow = 0;
            ulong startHigh = ulong.MaxValue;
            ulong startPosition = 0;
            ulong endLow = 0;
            ulong endHigh = ulong.MaxValue;
            ulong endPosition = 0;
            int endPolls = 0;
            ulong longestGap = 0;
            ulong gapSinceStart = 0;
            for (int polls = 0; polls < MaxPolls && endPolls < EndPolls; polls++)
            {
                ulong value = reference.Read();
                ulong now = clock.ReadCounter();
                position += (value - last) & mask;
                ulong width = now - lastRead;
                if (polls < EndPolls && width < startHigh - startLow)
                {
                    startLow = lastRead;
                    startHigh = now;
                    startPosition = position;
                    gapSinceStart = 0;
                }
                else
                {
                    gapSinceStart = width > gapSinceStart ? width : gapSinceStart;
                    if (polls >= EndPolls && position - startPosition >= ticks)
                    {
                        endPolls++;
                        if (width < endHigh - endLow)
                        {
                            endLow = lastRead;
                            endHigh = now;
                            endPosition = position;
                            longestGap = gapSinceStart;
                        }
                    }
                }
                last = value;
                lastRead = now;
            }
            if (endPolls == 0)
            {
                return position == 0 ? Attempt.Stopped : Attempt.Void;
            }
            return Finish(reference, startLow, startHigh, endLow, endHigh, endPosition - startPosition, longestGap,
                out interval, out spread, out referenceTicks);
        }

        /// <summary>
        /// A coarse reference's change seen at poll i happened after its read in poll i−1 (so after the counter
        /// read of poll i−2) and before the counter read of poll i: the interval runs from one change to a later one.
        /// </summary>
        private static Attempt MeasureChanges(ICalibrationClock clock, ICalibrationReference reference, ulong ticks,
            out ulong interval, out ulong spread, out ulong referenceTicks)
        {
            interval = 0;
            spread = 0;
            referenceTicks = 0;
            ulong mask = reference.Mask;
            ulong olderRead = clock.ReadCounter();
            ulong last = reference.Read();
            ulong lastRead = clock.ReadCounter();
            bool started = false;
            ulong startLow = 0;
            ulong startHigh = 0;
            ulong elapsed = 0;
            ulong longestGap = 0;
            ulong first = olderRead;
            ulong budget = (ticks + 2) * (FastestCounterHertz / reference.Frequency);
            for (int polls = 0; polls < MaxCoarsePolls; polls++)
            {
                ulong value = reference.Read();
                ulong now = clock.ReadCounter();
                ulong step = (value - last) & mask;
                if (started && now - lastRead > longestGap)
                {
                    longestGap = now - lastRead;
                }
                if (step != 0)
                {
                    if (!started)
                    {
                        started = true;
                        startLow = olderRead;
                        startHigh = now;
                    }
                    else
                    {
                        elapsed += step;
                        if (elapsed >= ticks)
                        {
                            return Finish(reference, startLow, startHigh, olderRead, now, elapsed, longestGap,
                                out interval, out spread, out referenceTicks);
                        }
                    }
                }
                last = value;
                olderRead = lastRead;
                lastRead = now;
                if (polls >= MaxPolls && now - first > budget)
                {
                    break;
                }
            }
            return started ? Attempt.Void : Attempt.Stopped;
        }

        /// <summary>The interval between the midpoints of the two brackets, or void when a gap could hide lost ticks.</summary>
        private static Attempt Finish(ICalibrationReference reference, ulong startLow, ulong startHigh, ulong endLow, ulong endHigh,
            ulong elapsed, ulong longestGap, out ulong interval, out ulong spread, out ulong referenceTicks)
        {
            ulong start = startLow + (startHigh - startLow) / 2;
            ulong end = endLow + (endHigh - endLow) / 2;
            interval = end > start ? end - start : 0;
            spread = (startHigh - startLow) + (endHigh - endLow);
            referenceTicks = elapsed;
            if (interval == 0 || elapsed == 0)
            {
                return Attempt.Void;
            }
            // Ticks are lost only in a gap of at least LossFreeTicks (W) of true reference time. Such a gap makes up
            // at least W / (elapsed + W) of the interval: the other polls add at most the elapsed ticks they counted.
            ulong threshold = interval - interval * elapsed / (elapsed + reference.LossFreeTicks);
            return longestGap >= threshold ? Attempt.Void : Attempt.Measured;
        }
    }
}
