namespace Keel.Kernel.Time
{
    /// <summary>
    /// The local APIC timer's rate, measured against the calibrated TSC. The APIC timer counts down at a rate no
    /// specification gives (the bus or crystal clock over the divider), so it is timed: its count and the TSC are
    /// read at a start mark taken before the TSC's own calibration, and again at least
    /// <see cref="MinimumNanoseconds"/> later, so that the two measurements share their wait.
    /// </summary>
    public static class ApicTimerCalibration
    {
        /// <summary>
        /// The shortest span measured: 2 ms, in which reads a microsecond apart put the rate within 0.05 %. The rate
        /// only sets when the timer interrupt comes; the timer queue checks deadlines against the TSC itself.
        /// </summary>
        public const long MinimumNanoseconds = 2_000_000;

        /// <summary>Nanoseconds between two TSC reads at <paramref name="tscTicksPerMicrosecond"/>.</summary>
        public static long ElapsedNanoseconds(ulong startTsc, ulong endTsc, ulong tscTicksPerMicrosecond)
        {
            if (tscTicksPerMicrosecond == 0 || endTsc <= startTsc)
            {
                return 0;
            }
            return (long)((endTsc - startTsc) * 1000 / tscTicksPerMicrosecond);
        }

        /// <summary>
        /// Ticks per millisecond of a count that went down from <paramref name="startCount"/> to
        /// <paramref name="endCount"/> (32 bits) in <paramref name="elapsedNanoseconds"/>; at least 1, so that a
        /// timer is always armed with some count.
        /// </summary>
        public static ulong TicksPerMillisecond(uint startCount, uint endCount, long elapsedNanoseconds)
        {
            if (elapsedNanoseconds <= 0)
            {
                return 1;
            }
            ulong ticks = startCount - endCount;
            ulong rate = ticks * 1_000_000UL / (ulong)elapsedNanoseconds;
            return rate == 0 ? 1 : rate;
        }
    }
}
