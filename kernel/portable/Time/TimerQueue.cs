using Keel.Hal;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// One-shot timers multiplexed onto one hardware one-shot interrupt (the portable part of the kernel's
    /// <c>TimerService</c>). Deadlines and the active flags are only touched from the main loop; the
    /// interrupt handler (<see cref="OnInterrupt"/>) only forgets the armed deadline. Every path that arms
    /// (<see cref="Start"/>, <see cref="RunExpired"/>, <see cref="PrepareIdle"/>) programs the hardware and
    /// records the armed deadline together with interrupts disabled, so a timer interrupt can never land
    /// between the two and leave a deadline recorded that nothing will fire for (with the 1 µs
    /// minimum delay that happened and stalled every timer until some other interrupt came).
    /// <see cref="PrepareIdle"/> is the last check before the CPU halts: it re-arms whenever an active
    /// timer has no hardware deadline at or before it, whatever happened since the last arming.
    /// </summary>
    public sealed class TimerQueue
    {
        /// <summary>Most timers (created at start-up).</summary>
        public const int MaxTimers = 64;

        /// <summary>Shortest hardware delay programmed.</summary>
        public const long MinimumDelayNanoseconds = 1000;

        /// <summary>Longest hardware delay programmed; a later deadline is reached in several steps.</summary>
        public const long MaxSleepNanoseconds = 100_000_000;

        /// <summary>Buckets of the late-by histogram: below 10 µs, 100 µs, 1 ms, 10 ms, 100 ms, 1 s, and above.</summary>
        public const int LateBuckets = 7;

        private readonly ITimerHardware _hardware;
        private readonly IWorkItem[] _items = new IWorkItem[MaxTimers];
        private readonly long[] _deadlines = new long[MaxTimers];
        private readonly bool[] _active = new bool[MaxTimers];
        private readonly long[] _late = new long[LateBuckets];
        private int _count;

        /// <summary>When the programmed hardware interrupt comes (long.MaxValue: nothing programmed, or it came).
        /// Written by the main loop with interrupts disabled and by the interrupt handler.</summary>
        private long _armedDeadline = long.MaxValue;

        public TimerQueue(ITimerHardware hardware)
        {
            _hardware = hardware;
        }

        /// <summary>Timers created.</summary>
        public int Count => _count;

        /// <summary>Timer interrupts taken.</summary>
        public long Interrupts { get; private set; }

        /// <summary>Timer work items run.</summary>
        public long Expirations { get; private set; }

        /// <summary>Times the hardware was programmed.</summary>
        public long Arms { get; private set; }

        /// <summary>Largest lateness seen (nanoseconds after the deadline that the item ran).</summary>
        public long MaxLateNanoseconds { get; private set; }

        /// <summary>The armed hardware deadline (long.MaxValue: none).</summary>
        public long ArmedDeadline => _armedDeadline;

        /// <summary>Expirations in late-by bucket <paramref name="bucket"/> (see <see cref="LateBuckets"/>).</summary>
        public long LateCount(int bucket) => (uint)bucket < LateBuckets ? _late[bucket] : 0;

        /// <summary>Registers a stopped timer; -1 when the table is full. Start-up only.</summary>
        public int CreateTimer(IWorkItem item)
        {
            if (_count == MaxTimers || (object)item == null)
            {
                return -1;
            }
            _items[_count] = item;
            return _count++;
        }

        /// <summary>Arms <paramref name="timer"/> to run once after <paramref name="delay"/>
        /// (moves it when already armed; a negative delay is none). Main loop only.</summary>
        public void Start(int timer, Duration delay)
        {
            if ((uint)timer >= (uint)_count)
            {
                return;
            }
            long deadline = _hardware.NowNanoseconds + (delay.Nanoseconds < 0 ? 0 : delay.Nanoseconds);
            _deadlines[timer] = deadline;
            _active[timer] = true;
            ArmBy(deadline);
        }

        /// <summary>Disarms the timer (nothing when it is not armed). The hardware stays programmed: an early
        /// interrupt costs less than reprogramming.</summary>
        public void Cancel(int timer)
        {
            if ((uint)timer < (uint)_count)
            {
                _active[timer] = false;
            }
        }

        /// <summary>True when the timer is armed.</summary>
        public bool IsActive(int timer) => (uint)timer < (uint)_count && _active[timer];

        /// <summary>Number of armed timers.</summary>
        public int ActiveCount
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _count; i++)
                {
                    if (_active[i])
                    {
                        n++;
                    }
                }
                return n;
            }
        }

        /// <summary>Deadline of the timer (meaningful while it is active).</summary>
        public long Deadline(int timer) => (uint)timer < (uint)_count ? _deadlines[timer] : long.MaxValue;

        /// <summary>The timer interrupt (interrupt context; interrupts are off while it runs).</summary>
        public void OnInterrupt()
        {
            Interrupts++;
            _armedDeadline = long.MaxValue;
        }

        /// <summary>Runs every expired timer's work item, then makes sure the hardware fires by the next
        /// deadline. Main loop only.</summary>
        public void RunExpired()
        {
            long now = _hardware.NowNanoseconds;
            for (int i = 0; i < _count; i++)
            {
                if (_active[i] && _deadlines[i] <= now)
                {
                    _active[i] = false;
                    Expirations++;
                    CountLate(now - _deadlines[i]);
                    _items[i].Run();
                    now = _hardware.NowNanoseconds;
                }
            }
            long next = NextDeadline();
            if (next != long.MaxValue)
            {
                ArmBy(next);
            }
        }

        /// <summary>
        /// The last check before halting, called with interrupts disabled: false when a timer has expired
        /// (run the loop again instead); otherwise makes sure the hardware fires by the earliest deadline and
        /// returns true.
        /// </summary>
        public bool PrepareIdle()
        {
            long now = _hardware.NowNanoseconds;
            long next = NextDeadline();
            if (next <= now)
            {
                return false;
            }
            if (next != long.MaxValue)
            {
                ArmBy(next);
            }
            return true;
        }

        /// <summary>True when some active timer's deadline has passed.</summary>
        public bool AnyExpired() => NextDeadline() <= _hardware.NowNanoseconds;

        /// <summary>Earliest active deadline; long.MaxValue when no timer is active.</summary>
        public long NextDeadline()
        {
            long next = long.MaxValue;
            for (int i = 0; i < _count; i++)
            {
                if (_active[i] && _deadlines[i] < next)
                {
                    next = _deadlines[i];
                }
            }
            return next;
        }

        /// <summary>Makes sure the hardware interrupts no later than <paramref name="deadline"/>: reprograms
        /// (an MMIO exit, expensive under TCG) only when nothing is armed or the armed deadline is later.</summary>
        private void ArmBy(long deadline)
        {
            ulong saved = _hardware.DisableInterrupts();
            if (deadline < _armedDeadline)
            {
                long now = _hardware.NowNanoseconds;
                long delay = deadline - now;
                if (delay < MinimumDelayNanoseconds)
                {
                    delay = MinimumDelayNanoseconds;
                }
                if (delay > MaxSleepNanoseconds)
                {
                    delay = MaxSleepNanoseconds;
                }
                Arms++;
                _hardware.StartOneShot(delay);
                // The interrupt cannot be taken before this store: it is pending at most, and clears the
                // value again once interrupts are restored.
                _armedDeadline = now + delay;
            }
            _hardware.RestoreInterrupts(saved);
        }

        private void CountLate(long late)
        {
            if (late > MaxLateNanoseconds)
            {
                MaxLateNanoseconds = late;
            }
            int bucket = 0;
            long limit = 10_000;
            while (bucket < LateBuckets - 1 && late >= limit)
            {
                bucket++;
                limit *= 10;
            }
            _late[bucket]++;
        }

        /// <summary>The <c>timers</c> shell listing.</summary>
        public void Print(ITextOutput output)
        {
            long now = _hardware.NowNanoseconds;
            output.Write("timers: ");
            output.Write(_count);
            output.Write(" created, ");
            output.Write(ActiveCount);
            output.Write(" active; armed deadline ");
            if (_armedDeadline == long.MaxValue)
            {
                output.Write("none");
            }
            else
            {
                output.Write((_armedDeadline - now) / 1000);
                output.Write(" us from now");
            }
            output.WriteLine();
            output.Write("interrupts ");
            output.Write(Interrupts);
            output.Write(", expirations ");
            output.Write(Expirations);
            output.Write(", arms ");
            output.Write(Arms);
            output.Write(", max late ");
            output.Write(MaxLateNanoseconds / 1000);
            output.Write(" us");
            output.WriteLine();
            output.Write("late by: <10us ");
            output.Write(_late[0]);
            output.Write(", <100us ");
            output.Write(_late[1]);
            output.Write(", <1ms ");
            output.Write(_late[2]);
            output.Write(", <10ms ");
            output.Write(_late[3]);
            output.Write(", <100ms ");
            output.Write(_late[4]);
            output.Write(", <1s ");
            output.Write(_late[5]);
            output.Write(", >=1s ");
            output.Write(_late[6]);
            output.WriteLine();
            for (int i = 0; i < _count; i++)
            {
                if (!_active[i])
                {
                    continue;
                }
                output.Write("  timer ");
                output.Write(i);
                output.Write(": due in ");
                output.Write((_deadlines[i] - now) / 1000);
                output.Write(" us");
                output.WriteLine();
            }
        }
    }
}
