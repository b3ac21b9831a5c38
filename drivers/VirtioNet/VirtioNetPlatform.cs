using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// The kernel services the driver uses, bundled so the constructor stays short. Every member is a small
    /// HAL interface from <c>drivers/Hal</c>; <see cref="Log"/> may be null.
    /// </summary>
    public sealed class VirtioNetPlatform
    {
        /// <summary>Single DMA pages (receive page pool, packet pools).</summary>
        public IPageAllocator Pages;

        /// <summary>Contiguous DMA memory (rings, transmit header slots).</summary>
        public IDmaMemory Dma;

        /// <summary>Deferred work: the NAPI-style poll and configuration-change handling.</summary>
        public IWorkScheduler Work;

        /// <summary>One-shot timers: refill retry and transmit watchdog.</summary>
        public ITimerService Timers;

        /// <summary>Monotonic clock (transmit timeout).</summary>
        public IClock Clock;

        /// <summary>Optional diagnostics sink (start-up failures only; nothing is printed on hot paths).</summary>
        public ITextOutput Log;
    }
}
