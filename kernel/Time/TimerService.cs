using Keel.Hal;
using Keel.Kernel.Interrupts;
using Keel.Runtime;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// One-shot timers (<see cref="ITimerService"/>) on the local APIC timer. The logic, and the rule that
    /// the armed state and the APIC change together with the timer interrupt excluded, live in the portable
    /// <see cref="TimerQueue"/> (host-tested against a simulated APIC); this class measures the APIC rate,
    /// hooks the vector and adapts the APIC (<see cref="ApicTimerHardware"/>). Expired timers run their
    /// work item from the main loop (<see cref="RunExpired"/>); the interrupt only wakes the CPU.
    /// </summary>
    public sealed class TimerService : ITimerService, IInterruptHandler
    {
        private readonly ApicTimerHardware _hardware = new ApicTimerHardware();
        private TimerQueue _queue;

        /// <summary>The portable timer table (for the <c>timers</c> command and counters).</summary>
        public TimerQueue Queue => _queue;

        /// <summary>Timer interrupts taken.</summary>
        public long Interrupts => _queue.Interrupts;

        /// <summary>Timer callbacks run.</summary>
        public long Expirations => _queue.Expirations;

        /// <summary>
        /// Measures the APIC timer rate against the TSC from the mark taken when the timer was started free-running
        /// (<paramref name="startCount"/> and the TSC then, <paramref name="startTsc"/>: before the TSC's own
        /// calibration, whose time this reuses), waiting only for what is left of
        /// <see cref="ApicTimerCalibration.MinimumNanoseconds"/>; then hooks the timer vector.
        /// </summary>
        public void Initialize(uint startCount, ulong startTsc)
        {
            _queue = new TimerQueue(_hardware);
            while (ApicTimerCalibration.ElapsedNanoseconds(startTsc, Native.ReadTimestampCounter(), Tsc.TicksPerMicrosecond)
                   < ApicTimerCalibration.MinimumNanoseconds)
            {
                Native.Pause();
            }
            uint endCount = LocalApic.TimerCurrentCount;
            long elapsed = ApicTimerCalibration.ElapsedNanoseconds(startTsc, Native.ReadTimestampCounter(), Tsc.TicksPerMicrosecond);
            LocalApic.StopTimer();
            _hardware.TicksPerMillisecond = ApicTimerCalibration.TicksPerMillisecond(startCount, endCount, elapsed);
            InterruptDispatcher.Register(LocalApic.TimerVector, this);
        }

        public int CreateTimer(IWorkItem item)
        {
            int timer = _queue.CreateTimer(item);
            if (timer < 0)
            {
                Panic.Fail("too many timers");
            }
            return timer;
        }

        public void Start(int timer, Duration delay) => _queue.Start(timer, delay);

        public void Cancel(int timer) => _queue.Cancel(timer);

        /// <summary>True when a timer is active.</summary>
        public bool IsActive(int timer) => _queue.IsActive(timer);

        public bool HandleInterrupt()
        {
            _queue.OnInterrupt();
            return true;
        }

        /// <summary>Runs every expired timer's work item and re-arms for the next deadline. Main loop only.</summary>
        public void RunExpired() => _queue.RunExpired();

        /// <summary>With interrupts disabled, just before halting: false when a timer is due (do not halt);
        /// otherwise the APIC is armed for the earliest deadline.</summary>
        public bool PrepareIdle() => _queue.PrepareIdle();

        /// <summary>True when some active timer's deadline has passed.</summary>
        public bool AnyExpired() => _queue.AnyExpired();
    }

    /// <summary>The local APIC timer, the TSC and the interrupt flag as <see cref="ITimerHardware"/>.</summary>
    public sealed class ApicTimerHardware : ITimerHardware
    {
        /// <summary>Local APIC timer ticks (divider 16) per millisecond, measured at start-up.</summary>
        public ulong TicksPerMillisecond = 1;

        public long NowNanoseconds => Tsc.NowNanoseconds;

        public void StartOneShot(long delayNanoseconds)
        {
            ulong ticks = (ulong)delayNanoseconds * TicksPerMillisecond / 1_000_000UL;
            LocalApic.StartOneShot(ticks > 0xFFFFFFF0UL ? 0xFFFFFFF0U : (uint)ticks + 1);
        }

        public ulong DisableInterrupts() => Native.SaveFlagsAndDisableInterrupts();

        public void RestoreInterrupts(ulong saved) => Native.RestoreFlags(saved);
    }
}
