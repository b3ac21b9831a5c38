namespace Keel.Hal
{
    /// <summary>
    /// Source of DMA-able pages. The kernel backs it with its physical page allocator; host tests back it
    /// with simulated physical memory. Pages come back zeroed. Allocation can fail: callers must handle false.
    /// </summary>
    public interface IPageAllocator
    {
        /// <summary>Takes one page. Returns false (and an invalid page) when memory is exhausted.</summary>
        bool TryAllocatePage(out DmaPage page);

        /// <summary>Gives back a page obtained from <see cref="TryAllocatePage"/>.</summary>
        void FreePage(DmaPage page);
    }
}
