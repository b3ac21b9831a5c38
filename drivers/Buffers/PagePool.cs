using Keel.Hal;

namespace Keel.Buffers
{
    /// <summary>
    /// A pool of premapped, reference-counted DMA pages, in the spirit of Linux page_pool.
    /// Pages are named by an index into fixed arrays sized at construction, so taking and
    /// returning a page never allocates: the free list is a chain of indices through <see cref="_nextFree"/>.
    /// A page's physical address is recorded once, when the pool first takes it from the page allocator.
    /// When the last reference to a page is dropped the page goes back on the free list (recycled), or to
    /// the page allocator when recycling is switched off (the ablation used by the benchmarks).
    /// Like page_pool's release path, the pool does not keep what it no longer needs: <see cref="ReleaseExcess"/>
    /// (called periodically by the owner) gives back free pages above the most the pool had in flight since
    /// the previous call plus a small slack, so one burst does not pin memory for ever.
    /// Single-threaded: call from one context (the kernel's poll loop), never from an interrupt handler.
    /// </summary>
    public sealed unsafe class PagePool
    {
        private const int NoPage = -1;

        private readonly IPageAllocator _allocator;

        /// <summary>CPU address of each page slot; null when the slot holds no page.</summary>
        private readonly byte*[] _virtual;

        /// <summary>Device address of each page slot, recorded once when the page was taken.</summary>
        private readonly ulong[] _physical;

        /// <summary>References held on each page (buffers carved from it, fragments attached to packets).</summary>
        private readonly int[] _refCount;

        /// <summary>Next index on the free list (pages held but unused), or -1.</summary>
        private readonly int[] _nextFree;

        /// <summary>Head of the list of slots holding a free page, or -1.</summary>
        private int _freeHead = NoPage;

        /// <summary>Head of the list of empty slots (no page behind them), or -1.</summary>
        private int _emptyHead = NoPage;

        /// <summary>Creates a pool that holds at most <paramref name="maxPages"/> pages. Takes no page yet.</summary>
        public PagePool(IPageAllocator allocator, int maxPages)
        {
            _allocator = allocator;
            _virtual = new byte*[maxPages];
            _physical = new ulong[maxPages];
            _refCount = new int[maxPages];
            _nextFree = new int[maxPages];
            for (int i = maxPages - 1; i >= 0; i--)
            {
                _nextFree[i] = _emptyHead;
                _emptyHead = i;
            }
            RecycleEnabled = true;
        }

        /// <summary>Most pages this pool will ever hold at once.</summary>
        public int Capacity => _virtual.Length;

        /// <summary>When false, a page whose last reference is dropped goes back to the page allocator.</summary>
        public bool RecycleEnabled { get; set; }

        /// <summary>Pages handed out from the free list (no page allocator call). ethtool: page_pool alloc_fast.</summary>
        public long AllocFast { get; private set; }

        /// <summary>Pages taken from the page allocator. ethtool: alloc_slow.</summary>
        public long AllocSlow { get; private set; }

        /// <summary>Allocations that failed (pool full and allocator empty).</summary>
        public long AllocFailed { get; private set; }

        /// <summary>Pages put back on the free list when their last reference was dropped. ethtool: recycled.</summary>
        public long Recycled { get; private set; }

        /// <summary>Pages given back to the page allocator. ethtool: released.</summary>
        public long Released { get; private set; }

        /// <summary>Pages with at least one reference (in rings, in packets). Zero after a clean shutdown.</summary>
        public int InFlight { get; private set; }

        /// <summary>Pages the pool currently holds from the page allocator (in flight plus free).</summary>
        public int PagesHeld { get; private set; }

        /// <summary>Pages on the free list (held, unused).</summary>
        public int FreeCount { get; private set; }

        /// <summary>Most pages in flight since the last <see cref="ReleaseExcess"/>.</summary>
        public int PeakInFlight { get; private set; }

        /// <summary>Pages given back by <see cref="ReleaseExcess"/> (also counted in <see cref="Released"/>).</summary>
        public long Shrunk { get; private set; }

        /// <summary>
        /// Takes a page with one reference. Prefers the free list; otherwise asks the page allocator.
        /// Returns false when neither has a page.
        /// </summary>
        public bool TryAllocate(out int page)
        {
            int index = _freeHead;
            if (index != NoPage)
            {
                _freeHead = _nextFree[index];
                FreeCount--;
                AllocFast++;
            }
            else
            {
                index = _emptyHead;
                DmaPage fresh;
                if (index == NoPage || !_allocator.TryAllocatePage(out fresh))
                {
                    AllocFailed++;
                    page = NoPage;
                    return false;
                }
                _emptyHead = _nextFree[index];
                _virtual[index] = fresh.Virtual;
                _physical[index] = fresh.Physical;
                PagesHeld++;
                AllocSlow++;
            }
            _nextFree[index] = NoPage;
            _refCount[index] = 1;
            InFlight++;
            if (InFlight > PeakInFlight)
            {
                PeakInFlight = InFlight;
            }
            page = index;
            return true;
        }

        /// <summary>CPU address of a page the caller holds a reference on.</summary>
        public byte* Address(int page) => _virtual[page];

        /// <summary>Device address of a page the caller holds a reference on (recorded when taken).</summary>
        public ulong Physical(int page) => _physical[page];

        /// <summary>References currently held on a page (for tests and checks).</summary>
        public int RefCount(int page) => _refCount[page];

        /// <summary>Adds <paramref name="count"/> references to a page the caller already holds.</summary>
        public void AddRef(int page, int count)
        {
            _refCount[page] += count;
        }

        /// <summary>Drops one reference. The last one returns the page to the free list (or the allocator).</summary>
        public void Release(int page)
        {
            int left = --_refCount[page];
            if (left > 0)
            {
                return;
            }
            InFlight--;
            if (RecycleEnabled)
            {
                _nextFree[page] = _freeHead;
                _freeHead = page;
                FreeCount++;
                Recycled++;
            }
            else
            {
                GiveBack(page);
            }
        }

        /// <summary>
        /// Returns every free page to the page allocator. Pages still in flight stay; call again after
        /// their owners released them. Returns the number of pages still in flight.
        /// </summary>
        public int ReleaseFreePages()
        {
            while (_freeHead != NoPage)
            {
                int page = _freeHead;
                _freeHead = _nextFree[page];
                FreeCount--;
                GiveBack(page);
            }
            return InFlight;
        }

        /// <summary>
        /// The release path (Linux page_pool gives pages back when its recycle ring is full): frees pages on
        /// the free list while the pool holds more than its peak in-flight count since the previous call plus
        /// <paramref name="slack"/>, then starts a new peak. Call it periodically (the kernel: every second);
        /// a pool that was busy keeps what it used, one that calmed down shrinks after one quiet period.
        /// Returns the pages given back.
        /// </summary>
        public int ReleaseExcess(int slack)
        {
            int keep = PeakInFlight + (slack < 0 ? 0 : slack);
            int released = 0;
            while (PagesHeld > keep && _freeHead != NoPage)
            {
                int page = _freeHead;
                _freeHead = _nextFree[page];
                FreeCount--;
                GiveBack(page);
                released++;
            }
            Shrunk += released;
            PeakInFlight = InFlight;
            return released;
        }

        private void GiveBack(int page)
        {
            _allocator.FreePage(new DmaPage(_virtual[page], _physical[page]));
            _virtual[page] = null;
            _physical[page] = 0;
            _refCount[page] = 0;
            _nextFree[page] = _emptyHead;
            _emptyHead = page;
            PagesHeld--;
            Released++;
        }
    }
}
