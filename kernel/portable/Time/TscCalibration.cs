namespace Keel.Kernel.Time
{
    /// <summary>The two clocks TSC calibration compares: the kernel's rdtsc and PIT channel 2; tests: a fake.</summary>
    public interface ICalibrationClock
    {
        /// <summary>Reads the counter being calibrated.</summary>
        ulong ReadCounter();

        /// <summary>Starts a one-shot of <paramref name="ticks"/> reference ticks; its last step starts the count.</summary>
        void StartReference(uint ticks);

        /// <summary>True once the one-shot has run out.</summary>
        bool ReferenceExpired { get; }
    }

    /// <summary>
    /// Measures the counter's rate against a one-shot of the PIT (1,193,182 Hz). Every read of the counter is
    /// bracketed: the reference starts between the reads just before and just after it is started, and runs out
    /// between the read before the last poll that saw it running and the read after the first poll that saw it
    /// expired. A vCPU descheduled at either end (a busy host) widens that bracket instead of silently
    /// lengthening the interval, which made the clock run ~35 % slow when only the end was read. The measurement
    /// is repeated until the bracket is under 0.5 % of the interval (the midpoints are then within 0.25 %),
    /// keeping the tightest one.
    /// </summary>
    public static class TscCalibration
    {
        /// <summary>PIT input clock (Hz).</summary>
        public const uint PitFrequency = 1193182;

        /// <summary>Most measurements tried.</summary>
        public const int MaxAttempts = 8;

        /// <summary>A measurement whose bracket is at most the interval / this (0.5 %) is taken at once.</summary>
        public const ulong AcceptableSpreadDivisor = 200;

        /// <summary>Polls of the reference in one measurement before it is given up.</summary>
        public const int MaxPolls = 50_000_000;

        /// <summary>
        /// Calibrates over <paramref name="milliseconds"/> of reference time. Returns counter ticks per microsecond
        /// (at least 1); <paramref name="uncertainty"/> is the bracket of the measurement used, in counter ticks,
        /// and <paramref name="attempts"/> how many were made.
        /// </summary>
        public static ulong Measure(ICalibrationClock clock, uint milliseconds, out ulong uncertainty, out int attempts)
        {
            uint ticks = PitFrequency / 1000 * milliseconds;
            ulong bestInterval = 0;
            ulong bestUncertainty = ulong.MaxValue;
            attempts = 0;
            while (attempts < MaxAttempts)
            {
                attempts++;
                ulong interval;
                ulong spread;
                if (!MeasureOnce(clock, ticks, out interval, out spread))
                {
                    continue;
                }
                if (spread < bestUncertainty)
                {
                    bestUncertainty = spread;
                    bestInterval = interval;
                }
                if (spread * AcceptableSpreadDivisor <= interval)
                {
                    break;
                }
            }
            uncertainty = bestUncertainty;
            // ticks per µs = interval / (ticks / PitFrequency s × 10^6).
            ulong perMicrosecond = bestInterval * PitFrequency / ((ulong)ticks * 1_000_000);
            return perMicrosecond == 0 ? 1 : perMicrosecond;
        }

        private static bool MeasureOnce(ICalibrationClock clock, uint ticks, out ulong interval, out ulong spread)
        {
            ulong startLow = clock.ReadCounter();
            clock.StartReference(ticks);
            ulong startHigh = clock.ReadCounter();
            ulong endLow = startHigh;
            ulong beforePoll = startHigh;
            for (int polls = 0; polls < MaxPolls; polls++)
            {
                bool expired = clock.ReferenceExpired;
                ulong afterPoll = clock.ReadCounter();
                if (expired)
                {
                    // It ran out after the previous poll, which came after the read before it (endLow), and
                    // before this poll, which came before this read.
                    ulong endHigh = afterPoll;
                    ulong start = startLow + (startHigh - startLow) / 2;
                    ulong end = endLow + (endHigh - endLow) / 2;
                    interval = end - start;
                    spread = (startHigh - startLow) + (endHigh - endLow);
                    return end > start;
                }
                endLow = beforePoll;
                beforePoll = afterPoll;
            }
            interval = 0;
            spread = 0;
            return false;
        }
    }
}
