using Keel.Hal;
using Keel.Kernel.Memory;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// The page allocator as the network stack's transmit pool sees it: it refuses a page once free memory
    /// is down to <see cref="ReservePages"/>, so the pages left are there for the NIC's receive refill (and the
    /// kernel heap). Without a reserve a busy sender could take the last pages and the kernel could no longer
    /// receive the ACKs that would free them. Refusals are counted; the stack drops and retries.
    /// </summary>
    public sealed unsafe class ReservePageSource : IPageAllocator
    {
        private readonly PhysicalPageSource _pages;

        public ReservePageSource(PhysicalPageSource pages, int reservePages)
        {
            _pages = pages;
            ReservePages = reservePages;
        }

        /// <summary>Free pages this source never takes.</summary>
        public int ReservePages { get; }

        /// <summary>Pages refused because only the reserve was left.</summary>
        public long Refused { get; private set; }

        public bool TryAllocatePage(out DmaPage page)
        {
            if (_pages.Allocator->FreePages <= ReservePages)
            {
                Refused++;
                page = default(DmaPage);
                return false;
            }
            return _pages.TryAllocatePage(out page);
        }

        public void FreePage(DmaPage page) => _pages.FreePage(page);
    }
}
