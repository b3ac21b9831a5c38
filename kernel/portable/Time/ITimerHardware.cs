namespace Keel.Kernel.Time
{
    /// <summary>
    /// What <see cref="TimerQueue"/> needs from the machine: a clock, a one-shot timer interrupt (the local
    /// APIC timer in the kernel, a simulated one in tests) and a way to keep that interrupt out while the
    /// armed state and the hardware are changed together.
    /// </summary>
    public interface ITimerHardware
    {
        /// <summary>Monotonic time in nanoseconds (the TSC in the kernel).</summary>
        long NowNanoseconds { get; }

        /// <summary>
        /// Programs the one-shot timer to interrupt once after about <paramref name="delayNanoseconds"/>
        /// (replacing any earlier programming). The interrupt may come a little early (calibration error).
        /// </summary>
        void StartOneShot(long delayNanoseconds);

        /// <summary>Disables interrupts and returns the previous state for <see cref="RestoreInterrupts"/>.</summary>
        ulong DisableInterrupts();

        /// <summary>Restores the interrupt state saved by <see cref="DisableInterrupts"/>.</summary>
        void RestoreInterrupts(ulong saved);
    }
}
