using Keel.Hal;
using Keel.Runtime;

namespace Keel.Kernel.Scheduling
{
    /// <summary>
    /// The run queue of deferred work (<see cref="IWorkScheduler"/>): interrupt handlers mark an item
    /// pending; the main loop runs pending items (this is where a NAPI poll runs). Marking is one store,
    /// safe from interrupt context; an item marked while it runs runs again on the next pass.
    /// </summary>
    public sealed class WorkScheduler : IWorkScheduler
    {
        private const int MaxItems = 64;

        private readonly IWorkItem[] _items = new IWorkItem[MaxItems];
        private readonly int[] _pending = new int[MaxItems];
        private int _count;

        /// <summary>Non-zero when some item may be pending (set by <see cref="Schedule"/>).</summary>
        private int _anyPending;

        /// <summary>Work items run since boot.</summary>
        public long Runs { get; private set; }

        public int Register(IWorkItem item)
        {
            if (_count == MaxItems)
            {
                Panic.Fail("too many work items");
            }
            _items[_count] = item;
            return _count++;
        }

        public void Schedule(int handle)
        {
            if ((uint)handle < (uint)_count)
            {
                _pending[handle] = 1;
                _anyPending = 1;
            }
        }

        /// <summary>True when some work is pending.</summary>
        public bool HasPending => System.Threading.Volatile.Read(ref _anyPending) != 0;

        /// <summary>Runs every pending item once. Main loop only.</summary>
        public void RunPending()
        {
            _anyPending = 0;
            for (int i = 0; i < _count; i++)
            {
                if (System.Threading.Volatile.Read(ref _pending[i]) != 0)
                {
                    _pending[i] = 0;
                    Runs++;
                    _items[i].Run();
                }
            }
        }
    }
}
