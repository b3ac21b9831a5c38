namespace Keel.Hal
{
    /// <summary>One decoded PCI base address register, as the kernel's PCI code sized it at enumeration.</summary>
    public struct PciBar
    {
        /// <summary>Bus address (MMIO) or first port (I/O); 0 when the BAR is not implemented.</summary>
        public ulong Address;

        /// <summary>Size in bytes (from the all-ones probe); 0 when the BAR is not implemented.</summary>
        public ulong Size;

        /// <summary>True for an I/O space BAR, false for memory space.</summary>
        public bool IsPortIo;

        /// <summary>True for a 64-bit memory BAR (it also uses the next BAR slot).</summary>
        public bool Is64Bit;

        /// <summary>True for a prefetchable memory BAR.</summary>
        public bool Prefetchable;
    }
}
