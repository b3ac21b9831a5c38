using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// The kernel services of the HAL for host tests: a work scheduler with one pending bit per item (the
    /// "main loop" is <see cref="RunPending"/>), one-shot timers driven by a manual clock
    /// (<see cref="Advance"/>). Nothing here allocates after registration, so allocation tests can measure.
    /// </summary>
    public sealed class FakeKernel : IWorkScheduler, ITimerService, IClock
    {
        private readonly IWorkItem[] _items = new IWorkItem[32];
        private readonly bool[] _pending = new bool[32];
        private int _itemCount;
        private readonly IWorkItem[] _timerItems = new IWorkItem[32];
        private readonly long[] _deadline = new long[32];
        private int _timerCount;

        /// <summary>The clock (the tests' one <see cref="FakeClock"/>); moved by <see cref="Advance"/>.</summary>
        public readonly FakeClock Clock = new FakeClock();

        public long NowNanoseconds => Clock.NowNanoseconds;

        /// <summary>Calls of <see cref="Schedule"/>.</summary>
        public long Schedules { get; private set; }

        /// <summary>Work items run so far.</summary>
        public long Runs { get; private set; }

        public int Register(IWorkItem item)
        {
            _items[_itemCount] = item;
            return _itemCount++;
        }

        public void Schedule(int handle)
        {
            Schedules++;
            _pending[handle] = true;
        }

        public bool IsPending(int handle) => _pending[handle];

        public bool AnyPending
        {
            get
            {
                for (int i = 0; i < _itemCount; i++)
                {
                    if (_pending[i])
                    {
                        return true;
                    }
                }
                return false;
            }
        }

        /// <summary>One main-loop pass: runs each item that is pending now. Returns items run.</summary>
        public int RunOnce()
        {
            int ran = 0;
            for (int i = 0; i < _itemCount; i++)
            {
                if (_pending[i])
                {
                    _pending[i] = false;
                    Runs++;
                    ran++;
                    _items[i].Run();
                }
            }
            return ran;
        }

        /// <summary>Runs main-loop passes until nothing is pending (at most <paramref name="maxPasses"/>). Returns items run.</summary>
        public int RunPending(int maxPasses = 100000)
        {
            int total = 0;
            for (int pass = 0; pass < maxPasses; pass++)
            {
                int ran = RunOnce();
                if (ran == 0)
                {
                    break;
                }
                total += ran;
            }
            return total;
        }

        public int CreateTimer(IWorkItem item)
        {
            _timerItems[_timerCount] = item;
            _deadline[_timerCount] = -1;
            return _timerCount++;
        }

        public void Start(int timer, Duration delay)
        {
            _deadline[timer] = NowNanoseconds + (delay.Nanoseconds < 0 ? 0 : delay.Nanoseconds);
        }

        public void Cancel(int timer)
        {
            _deadline[timer] = -1;
        }

        public bool IsArmed(int timer) => _deadline[timer] >= 0;

        /// <summary>True when any timer is armed.</summary>
        public bool AnyTimerArmed
        {
            get
            {
                for (int t = 0; t < _timerCount; t++)
                {
                    if (_deadline[t] >= 0)
                    {
                        return true;
                    }
                }
                return false;
            }
        }

        /// <summary>Moves the clock forward, runs the timers that expired, then the pending work.</summary>
        public void Advance(long nanoseconds)
        {
            Clock.NowNanoseconds += nanoseconds;
            for (int t = 0; t < _timerCount; t++)
            {
                if (_deadline[t] >= 0 && _deadline[t] <= NowNanoseconds)
                {
                    _deadline[t] = -1;
                    _timerItems[t].Run();
                }
            }
            RunPending();
        }
    }
}
