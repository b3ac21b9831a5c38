namespace Keel.Hal
{
    /// <summary>
    /// The MSI-X capability of a PCI function (PCI spec "MSI-X Capability and Table Structure"): its register
    /// layout (used by the kernel's PCI enumeration and printer too), and the table operations a driver needs —
    /// find the table, program entries with messages from <see cref="IInterruptController"/>, switch MSI-X on
    /// and off. Portable: uses only <see cref="IPciFunction"/>. The one MSI-X type of the code base.
    /// </summary>
    public sealed class PciMsix
    {
        /// <summary>Capability id of MSI-X.</summary>
        public const byte CapabilityId = 0x11;

        /// <summary>Message control (16 bits), from the capability start.</summary>
        public const int MessageControl = 0x02;

        /// <summary>Table offset (bits 3..31) and BAR indicator (bits 0..2).</summary>
        public const int TableOffset = 0x04;

        /// <summary>Pending bit array offset and BAR indicator.</summary>
        public const int PbaOffset = 0x08;

        /// <summary>Message control: table size minus one.</summary>
        public const ushort TableSizeMask = 0x07FF;

        /// <summary>Message control: all vectors masked.</summary>
        public const ushort FunctionMask = 0x4000;

        /// <summary>Message control: MSI-X enabled.</summary>
        public const ushort Enable = 0x8000;

        /// <summary>BAR indicator bits of the offset registers.</summary>
        public const uint BarIndicatorMask = 0x7;

        /// <summary>Bytes per MSI-X table entry (address low, address high, data, vector control).</summary>
        public const int TableEntrySize = 16;

        private readonly IPciFunction _pci;
        private readonly int _capability;
        private readonly IRegisterRegion _table;
        private readonly int _tableBase;

        private PciMsix(IPciFunction pci, int capability, IRegisterRegion table, int tableBase, int tableSize)
        {
            _pci = pci;
            _capability = capability;
            _table = table;
            _tableBase = tableBase;
            TableSize = tableSize;
        }

        /// <summary>Entries in the table.</summary>
        public int TableSize { get; }

        /// <summary>Finds and maps the MSI-X table; null when the function has no usable MSI-X capability.</summary>
        public static PciMsix TryOpen(IPciFunction pci)
        {
            int capability = pci.FindCapability(CapabilityId, 0);
            if (capability == 0)
            {
                return null;
            }
            int tableSize = (pci.ConfigRead16(capability + MessageControl) & TableSizeMask) + 1;
            uint table = pci.ConfigRead32(capability + TableOffset);
            int bar = (int)(table & BarIndicatorMask);
            long tableBase = table & ~BarIndicatorMask;
            if (bar > 5)
            {
                return null;
            }
            IRegisterRegion region = pci.MapBar(bar);
            if (region == null || tableBase + (long)tableSize * TableEntrySize > region.Length)
            {
                return null;
            }
            return new PciMsix(pci, capability, region, (int)tableBase, tableSize);
        }

        /// <summary>Writes entry <paramref name="index"/> with <paramref name="message"/> and unmasks it.</summary>
        public void SetEntry(int index, MsiMessage message)
        {
            int entry = _tableBase + index * TableEntrySize;
            _table.Write32(entry + 12, 1);
            _table.Write32(entry, (uint)message.Address);
            _table.Write32(entry + 4, (uint)(message.Address >> 32));
            _table.Write32(entry + 8, message.Data);
            _table.Write32(entry + 12, 0);
        }

        /// <summary>Masks entry <paramref name="index"/>.</summary>
        public void MaskEntry(int index)
        {
            _table.Write32(_tableBase + index * TableEntrySize + 12, 1);
        }

        /// <summary>Turns MSI-X on (and the function mask off). INTx stops being used.</summary>
        public void EnableTable()
        {
            ushort control = _pci.ConfigRead16(_capability + MessageControl);
            control = (ushort)((control | Enable) & ~FunctionMask);
            _pci.ConfigWrite16(_capability + MessageControl, control);
        }

        /// <summary>Turns MSI-X off (the function falls back to INTx).</summary>
        public void DisableTable()
        {
            ushort control = _pci.ConfigRead16(_capability + MessageControl);
            _pci.ConfigWrite16(_capability + MessageControl, (ushort)(control & ~Enable));
        }
    }
}
