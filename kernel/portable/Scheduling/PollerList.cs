using Keel.Hal;

namespace Keel.Kernel.Scheduling
{
    /// <summary>
    /// The items the kernel main loop runs after every pass, whether or not the pass had work (the network
    /// stack and its applications). Fixed capacity, filled at start-up: <see cref="Add"/> says when it is
    /// full instead of dropping the item.
    /// </summary>
    public sealed class PollerList
    {
        /// <summary>Pollers a list holds unless told otherwise.</summary>
        public const int DefaultCapacity = 8;

        private readonly IWorkItem[] _items;
        private int _count;

        public PollerList(int capacity = DefaultCapacity)
        {
            _items = new IWorkItem[capacity];
        }

        /// <summary>Pollers added.</summary>
        public int Count => _count;

        /// <summary>Most pollers the list holds.</summary>
        public int Capacity => _items.Length;

        /// <summary>Adds a poller; false (nothing added) when the list is full.</summary>
        public bool Add(IWorkItem poller)
        {
            if (_count == _items.Length)
            {
                return false;
            }
            _items[_count++] = poller;
            return true;
        }

        /// <summary>Runs every poller once, in the order they were added.</summary>
        public void RunAll()
        {
            for (int i = 0; i < _count; i++)
            {
                _items[i].Run();
            }
        }
    }
}
