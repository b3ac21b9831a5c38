namespace Keel.Hal
{
    /// <summary>
    /// One 4 KiB page of memory the device can reach, as the CPU sees it (<see cref="Virtual"/>)
    /// and as the device sees it (<see cref="Physical"/>). The physical address is computed once,
    /// when the page is allocated, and carried with the page from then on (the page is "premapped").
    /// </summary>
    public unsafe struct DmaPage
    {
        /// <summary>Size of every page handed out by an <see cref="IPageAllocator"/>.</summary>
        public const int Size = 4096;

        /// <summary>CPU address of the first byte; null for "no page".</summary>
        public byte* Virtual;

        /// <summary>Bus address the device uses for the first byte.</summary>
        public ulong Physical;

        public DmaPage(byte* virtualAddress, ulong physicalAddress)
        {
            Virtual = virtualAddress;
            Physical = physicalAddress;
        }

        /// <summary>True when this value names a page.</summary>
        public bool IsValid => Virtual != null;
    }
}
