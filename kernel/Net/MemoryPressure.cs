using Keel.Hal;
using Keel.Kernel.Memory;
using Keel.Runtime;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// Once a second: the page pools give back pages above their need (<see cref="Keel.Buffers.PagePool.ReleaseExcess"/>,
    /// the receive pool of the NIC and the stack's transmit pool), and when free memory is low a console
    /// warning, at most one every 10 s.
    /// </summary>
    public sealed unsafe class MemoryPressure : IWorkItem
    {
        private static Duration Period => Duration.FromSeconds(1);
        private const long WarningIntervalNanoseconds = 10_000_000_000;

        /// <summary>Free pages each pool may keep above its recent peak.</summary>
        public const int PoolSlackPages = 32;

        private readonly int _timer;
        private readonly bool _interruptsOff;
        private readonly long _lowPages;
        private long _lastWarning = long.MinValue / 2;
        private long _failuresAtWarning;
        private long _refusedAtWarning;

        /// <param name="lowPages">Free pages below which the console warns.</param>
        /// <param name="interruptsOff">napi=off: the receive pool is also used from the interrupt handler.</param>
        public MemoryPressure(long lowPages, bool interruptsOff)
        {
            _lowPages = lowPages;
            _interruptsOff = interruptsOff;
            _timer = Kernel.Timers.CreateTimer(this);
            Kernel.Timers.Start(_timer, Period);
        }

        /// <summary>Pages the pools gave back.</summary>
        public long PagesReleased { get; private set; }

        /// <summary>Low-memory warnings printed.</summary>
        public long Warnings { get; private set; }

        public void Run()
        {
            ulong flags = _interruptsOff ? Native.SaveFlagsAndDisableInterrupts() : 0;
            if ((object)NetworkSubsystem.Device != null && (object)NetworkSubsystem.Device.RxPagePool != null)
            {
                PagesReleased += NetworkSubsystem.Device.RxPagePool.ReleaseExcess(PoolSlackPages);
            }
            if ((object)NetworkSubsystem.Stack != null)
            {
                PagesReleased += NetworkSubsystem.Stack.ReleaseExcessPages(PoolSlackPages);
            }
            if (_interruptsOff)
            {
                Native.RestoreFlags(flags);
            }
            long now = Kernel.Clock.NowNanoseconds;
            PhysicalPageAllocator* pages = KernelMemory.Pages;
            if (pages->FreePages < _lowPages && now - _lastWarning >= WarningIntervalNanoseconds)
            {
                _lastWarning = now;
                Warnings++;
                Kernel.Console.Write("memory: low, ");
                Kernel.Console.Write(pages->FreePages * 4);
                Kernel.Console.Write(" KiB free, ");
                long refused = (object)NetworkSubsystem.StackPages == null ? 0 : NetworkSubsystem.StackPages.Refused;
                Kernel.Console.Write(pages->Failures - _failuresAtWarning + refused - _refusedAtWarning);
                Kernel.Console.Write(" page requests failed since the last warning (the network drops and retries)\n");
                _failuresAtWarning = pages->Failures;
                _refusedAtWarning = refused;
            }
            Kernel.Timers.Start(_timer, Period);
        }
    }
}
