namespace Keel.Hal
{
    /// <summary>
    /// One PCI function found by the kernel's enumeration, as a driver sees it. The kernel implements it with
    /// its configuration-space access method (ECAM or ports 0xCF8/0xCFC) and its BAR sizing. Start-up use only,
    /// except <see cref="ConfigRead8"/>-style accesses, which are also safe from interrupt context.
    /// </summary>
    public interface IPciFunction
    {
        ushort VendorId { get; }
        ushort DeviceId { get; }

        /// <summary>Configuration-space reads/writes at a byte offset (0..255, or 4095 with ECAM).</summary>
        byte ConfigRead8(int offset);
        ushort ConfigRead16(int offset);
        uint ConfigRead32(int offset);
        void ConfigWrite8(int offset, byte value);
        void ConfigWrite16(int offset, ushort value);
        void ConfigWrite32(int offset, uint value);

        /// <summary>Decoded BAR <paramref name="index"/> (0..5); false when not implemented.</summary>
        bool TryGetBar(int index, out PciBar bar);

        /// <summary>
        /// Maps the whole of BAR <paramref name="index"/> (uncached for MMIO) and enables the matching decode
        /// (I/O or memory space) in the command register. Returns null when the BAR is absent or cannot be
        /// mapped. Mapping the same BAR twice returns regions over the same registers.
        /// </summary>
        IRegisterRegion MapBar(int index);

        /// <summary>Sets Bus Master Enable so the device may DMA.</summary>
        void EnableBusMastering();

        /// <summary>
        /// Walks the capability list: returns the config-space offset of the first capability with id
        /// <paramref name="capabilityId"/> that comes after the capability at <paramref name="after"/>
        /// (0 = from the start of the list); 0 when there is none. Vendor capabilities (id 9) are found
        /// one after another by passing the previous result.
        /// </summary>
        int FindCapability(byte capabilityId, int after);
    }
}
