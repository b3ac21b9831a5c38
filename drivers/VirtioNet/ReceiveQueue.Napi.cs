using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    /// <summary>The queue's NAPI state: interrupt, scheduling, refill test and the loss-free re-arm.</summary>
    public sealed partial class ReceiveQueue
    {
        /// <summary>
        /// Linux virtnet_poll's refill test: more than half of min(budget, ring size) descriptors free. It holds
        /// whenever the ring is more than half empty, and refills in batches (one kick each) of at least
        /// budget/2 buffers, so a burst right after a poll finds the ring nearly full.
        /// </summary>
        internal bool NeedsRefill
        {
            get
            {
                int window = _options.Budget < _ring.Size ? _options.Budget : _ring.Size;
                int room = _ring.FreeCount;
                int capped = (_maxPosted - _posted) * _descriptorsPerBuffer;
                if (capped < room)
                {
                    room = capped;
                    window = _maxPosted < window ? _maxPosted : window;
                }
                return room > window / 2 && room >= _descriptorsPerBuffer;
            }
        }

        /// <summary>
        /// NAPI complete (Linux virtqueue_napi_complete): re-enable callbacks, then re-check; true when buffers
        /// slipped in meanwhile (their interrupt may be lost: the caller polls again).
        /// </summary>
        internal bool CompleteAndRecheck()
        {
            ushort token = _ring.EnableCallbacksPrepare();
            if (_ring.PollUsed(token))
            {
                _ring.DisableCallbacks();
                Stats.RearmRaces++;
                return true;
            }
            return false;
        }

        /// <summary>Interrupt context: disable callbacks, schedule the poll (Linux virtqueue_napi_schedule).</summary>
        private bool OnInterrupt()
        {
            Stats.Interrupts++;
            return _device.OnReceiveInterrupt(this);
        }

        private sealed class Interrupt : IInterruptHandler
        {
            private readonly ReceiveQueue _queue;
            public Interrupt(ReceiveQueue queue) { _queue = queue; }
            public bool HandleInterrupt() => _queue.OnInterrupt();
        }

        /// <summary>The NAPI instance of this queue pair: runs the pair's poll from the main loop.</summary>
        private sealed class NapiWork : IWorkItem
        {
            private readonly ReceiveQueue _queue;
            public NapiWork(ReceiveQueue queue) { _queue = queue; }
            public void Run() => _queue._device.PollPair(_queue._pair);
        }

        private sealed class RefillTimerWork : IWorkItem
        {
            private readonly ReceiveQueue _queue;
            public RefillTimerWork(ReceiveQueue queue) { _queue = queue; }
            public void Run() => _queue.OnRefillTimer();
        }
    }
}
