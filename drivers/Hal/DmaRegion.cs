namespace Keel.Hal
{
    /// <summary>
    /// A run of physically contiguous, identity-mapped, DMA-coherent memory (a whole number of 4 KiB pages),
    /// used for virtqueue rings and other structures the device and the driver share for the driver's
    /// whole life. Like <see cref="DmaPage"/>, the physical address is recorded once, at allocation.
    /// </summary>
    public unsafe struct DmaRegion
    {
        /// <summary>CPU address of the first byte; null for "no region".</summary>
        public byte* Virtual;

        /// <summary>Bus address the device uses for the first byte (4096-aligned).</summary>
        public ulong Physical;

        /// <summary>Length in bytes, a multiple of <see cref="DmaPage.Size"/>.</summary>
        public int Length;

        public DmaRegion(byte* virtualAddress, ulong physicalAddress, int length)
        {
            Virtual = virtualAddress;
            Physical = physicalAddress;
            Length = length;
        }

        /// <summary>True when this value names memory.</summary>
        public bool IsValid => Virtual != null;
    }
}
