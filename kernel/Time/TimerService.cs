using Keel.Hal;
using Keel.Kernel.Interrupts;
using Keel.Runtime;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// One-shot timers (<see cref="ITimerService"/>) on the local APIC timer. The interrupt only marks
    /// timers due; expired timers run their work item from the main loop (<see cref="RunExpired"/>).
    /// A fixed table: creating timers is a start-up activity; starting and cancelling never allocates.
    /// </summary>
    public sealed class TimerService : ITimerService, IInterruptHandler
    {
        private const int MaxTimers = 64;
        private const long MaxSleepNanoseconds = 100_000_000;

        private readonly IWorkItem[] _items = new IWorkItem[MaxTimers];
        private readonly long[] _deadlines = new long[MaxTimers];
        private readonly bool[] _active = new bool[MaxTimers];
        private int _count;

        /// <summary>Local APIC timer ticks (divider 16) per millisecond, measured at start-up.</summary>
        private ulong _apicTicksPerMillisecond;

        /// <summary>When the armed APIC timer fires (long.MaxValue = not armed).</summary>
        private long _armedDeadline = long.MaxValue;

        /// <summary>Timer interrupts taken.</summary>
        public long Interrupts { get; private set; }

        /// <summary>Timer callbacks run.</summary>
        public long Expirations { get; private set; }

        /// <summary>Measures the APIC timer rate against the TSC and hooks the timer vector.</summary>
        public void Initialize()
        {
            LocalApic.StartFreeRunning();
            uint startCount = LocalApic.TimerCurrentCount;
            long start = Tsc.NowNanoseconds;
            while (Tsc.NowNanoseconds - start < 5_000_000)
            {
                Native.Pause();
            }
            uint endCount = LocalApic.TimerCurrentCount;
            long elapsed = Tsc.NowNanoseconds - start;
            LocalApic.StopTimer();
            _apicTicksPerMillisecond = (ulong)(startCount - endCount) * 1_000_000UL / (ulong)elapsed;
            if (_apicTicksPerMillisecond == 0)
            {
                _apicTicksPerMillisecond = 1;
            }
            InterruptDispatcher.Register(LocalApic.TimerVector, this);
        }

        public int CreateTimer(IWorkItem item)
        {
            if (_count == MaxTimers)
            {
                Panic.Fail("too many timers");
            }
            _items[_count] = item;
            return _count++;
        }

        public void Start(int timer, long delayNanoseconds)
        {
            if ((uint)timer >= (uint)_count)
            {
                return;
            }
            long deadline = Tsc.NowNanoseconds + (delayNanoseconds < 0 ? 0 : delayNanoseconds);
            _deadlines[timer] = deadline;
            _active[timer] = true;
            if (deadline < _armedDeadline)
            {
                Arm(deadline);
            }
        }

        public void Cancel(int timer)
        {
            if ((uint)timer < (uint)_count)
            {
                _active[timer] = false;
            }
        }

        /// <summary>True when a timer is active.</summary>
        public bool IsActive(int timer) => (uint)timer < (uint)_count && _active[timer];

        public bool HandleInterrupt()
        {
            Interrupts++;
            _armedDeadline = long.MaxValue;
            return true;
        }

        /// <summary>Runs every expired timer's work item and re-arms for the next deadline. Main loop only.</summary>
        public void RunExpired()
        {
            long now = Tsc.NowNanoseconds;
            long next = long.MaxValue;
            for (int i = 0; i < _count; i++)
            {
                if (!_active[i])
                {
                    continue;
                }
                if (_deadlines[i] <= now)
                {
                    _active[i] = false;
                    Expirations++;
                    _items[i].Run();
                    now = Tsc.NowNanoseconds;
                }
            }
            for (int i = 0; i < _count; i++)
            {
                if (_active[i] && _deadlines[i] < next)
                {
                    next = _deadlines[i];
                }
            }
            // Reprogramming the APIC timer is an MMIO exit (expensive under TCG): only when the earliest
            // deadline moved earlier than what is armed, or nothing is armed any more.
            if (next != long.MaxValue && (next < _armedDeadline || _armedDeadline == long.MaxValue))
            {
                Arm(next);
            }
        }

        /// <summary>True when some active timer's deadline has passed.</summary>
        public bool AnyExpired()
        {
            long now = Tsc.NowNanoseconds;
            for (int i = 0; i < _count; i++)
            {
                if (_active[i] && _deadlines[i] <= now)
                {
                    return true;
                }
            }
            return false;
        }

        private void Arm(long deadline)
        {
            long now = Tsc.NowNanoseconds;
            long delay = deadline - now;
            if (delay < 1000)
            {
                delay = 1000;
            }
            if (delay > MaxSleepNanoseconds)
            {
                delay = MaxSleepNanoseconds;
            }
            ulong ticks = (ulong)delay * _apicTicksPerMillisecond / 1_000_000UL;
            LocalApic.StartOneShot(ticks > 0xFFFFFFF0UL ? 0xFFFFFFF0U : (uint)ticks + 1);
            // When the interrupt will really come (a long sleep is cut to MaxSleepNanoseconds).
            _armedDeadline = now + delay;
        }
    }
}
