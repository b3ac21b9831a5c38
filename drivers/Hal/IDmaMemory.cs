namespace Keel.Hal
{
    /// <summary>
    /// Source of physically contiguous DMA memory (virtqueue rings, transmit header slots). The kernel backs
    /// it with its physical page allocator (identity-mapped, cache-coherent on x86); host tests with simulated
    /// physical memory. Only called at start-up and shutdown, never on a hot path.
    /// </summary>
    public interface IDmaMemory
    {
        /// <summary>
        /// Takes <paramref name="pageCount"/> physically contiguous pages, zeroed, 4096-aligned.
        /// Returns false (and an invalid region) when no such run is free.
        /// </summary>
        bool TryAllocateContiguous(int pageCount, out DmaRegion region);

        /// <summary>Gives back a region obtained from <see cref="TryAllocateContiguous"/>.</summary>
        void FreeContiguous(DmaRegion region);
    }
}
