using Keel.Hal;

namespace Keel.Kernel.Memory
{
    /// <summary>
    /// Adapts the <see cref="PhysicalPageAllocator"/> to the HAL's <see cref="IPageAllocator"/> (zeroed 4 KiB DMA
    /// pages) and <see cref="IDmaMemory"/> (zeroed contiguous runs); bus address = physical address (no IOMMU).
    /// Made once at start-up and handed to drivers.
    /// </summary>
    public sealed unsafe class PhysicalPageSource : IPageAllocator, IDmaMemory
    {
        /// <summary>The allocator pages come from.</summary>
        private readonly PhysicalPageAllocator* _allocator;

        /// <summary>Wraps an allocator built by <see cref="PhysicalPageAllocator.Create"/>.</summary>
        public PhysicalPageSource(PhysicalPageAllocator* allocator)
        {
            _allocator = allocator;
        }

        /// <summary>The wrapped allocator.</summary>
        public PhysicalPageAllocator* Allocator => _allocator;

        /// <inheritdoc />
        public bool TryAllocatePage(out DmaPage page)
        {
            page = _allocator->AllocateDmaPage();
            return page.IsValid;
        }

        /// <inheritdoc />
        public void FreePage(DmaPage page)
        {
            if (page.IsValid)
            {
                _allocator->Free(page.Physical, 1);
            }
        }

        /// <inheritdoc />
        public bool TryAllocateContiguous(int pageCount, out DmaRegion region)
        {
            ulong physical = _allocator->AllocateContiguous(pageCount, 1, true);
            if (physical == PhysicalPageAllocator.NoPage)
            {
                region = default(DmaRegion);
                return false;
            }
            region = new DmaRegion(_allocator->ToVirtual(physical), physical, pageCount * PhysicalPageAllocator.PageSize);
            return true;
        }

        /// <inheritdoc />
        public void FreeContiguous(DmaRegion region)
        {
            if (region.IsValid)
            {
                _allocator->Free(region.Physical, region.Length / PhysicalPageAllocator.PageSize);
            }
        }
    }
}
