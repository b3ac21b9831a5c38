using Keel.Hal;

namespace Keel.Kernel.Scheduling
{
    /// <summary>
    /// The run queue of deferred work (<see cref="IWorkScheduler"/>): interrupt handlers mark an item
    /// pending; the main loop runs pending items (this is where a NAPI poll runs). Marking is one store,
    /// safe from interrupt context; an item marked while it runs runs again on the next pass.
    /// </summary>
    public sealed class WorkScheduler : IWorkScheduler
    {
        /// <summary>Items a scheduler holds unless told otherwise.</summary>
        public const int DefaultCapacity = 64;

        private readonly IWorkItem[] _items;
        private readonly int[] _pending;
        private int _count;

        /// <summary>Non-zero when some item may be pending (set by <see cref="Schedule"/>).</summary>
        private int _anyPending;

        public WorkScheduler(int capacity = DefaultCapacity)
        {
            _items = new IWorkItem[capacity];
            _pending = new int[capacity];
        }

        /// <summary>Work items run since boot.</summary>
        public long Runs { get; private set; }

        /// <summary>Items registered.</summary>
        public int Count => _count;

        /// <summary>
        /// Registrations refused because the scheduler was full. Their handle is -1, which
        /// <see cref="Schedule"/> ignores, so the kernel checks this after start-up and stops if it is not 0.
        /// </summary>
        public int Rejected { get; private set; }

        /// <summary>Registers an item; returns its handle, or -1 when the scheduler is full (counted in <see cref="Rejected"/>).</summary>
        public int Register(IWorkItem item)
        {
            if (_count == _items.Length)
            {
                Rejected++;
                return -1;
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
