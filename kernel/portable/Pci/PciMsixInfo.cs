namespace Keel.Kernel.Pci
{
    /// <summary>Where a function's MSI-X table and pending bit array are (from <see cref="PciDevice.TryGetMsix"/>).</summary>
    public struct PciMsixInfo
    {
        /// <summary>Config-space offset of the MSI-X capability.</summary>
        public int CapabilityOffset;

        /// <summary>Number of table entries (vectors).</summary>
        public int TableSize;

        /// <summary>BAR holding the table.</summary>
        public int TableBar;

        /// <summary>Offset of the table inside <see cref="TableBar"/>.</summary>
        public uint TableOffset;

        /// <summary>Bus address of the table (BAR address + offset); 0 when that BAR is not implemented.</summary>
        public ulong TableAddress;

        /// <summary>BAR holding the pending bit array.</summary>
        public int PbaBar;

        /// <summary>Offset of the pending bit array inside <see cref="PbaBar"/>.</summary>
        public uint PbaOffset;

        /// <summary>Bus address of the pending bit array; 0 when that BAR is not implemented.</summary>
        public ulong PbaAddress;
    }
}
