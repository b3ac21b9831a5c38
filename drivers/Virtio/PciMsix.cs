using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// The MSI-X capability of a PCI function (PCI spec "MSI-X Capability and Table Structure"): finds the
    /// table through the capability, programs entries with messages from <see cref="IInterruptController"/>,
    /// and switches MSI-X on and off. Portable: uses only <see cref="IPciFunction"/>.
    /// </summary>
    public sealed class PciMsix
    {
        private const int ControlOffset = 2;
        private const int TableOffset = 4;
        private const ushort ControlEnable = 0x8000;
        private const ushort ControlFunctionMask = 0x4000;
        private const int EntrySize = 16;

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
            int capability = pci.FindCapability(VirtioPciIds.CapabilityMsix, 0);
            if (capability == 0)
            {
                return null;
            }
            int tableSize = (pci.ConfigRead16(capability + ControlOffset) & 0x7FF) + 1;
            uint table = pci.ConfigRead32(capability + TableOffset);
            int bar = (int)(table & 7);
            long tableBase = table & ~7u;
            if (bar > 5)
            {
                return null;
            }
            IRegisterRegion region = pci.MapBar(bar);
            if (region == null || tableBase + (long)tableSize * EntrySize > region.Length)
            {
                return null;
            }
            return new PciMsix(pci, capability, region, (int)tableBase, tableSize);
        }

        /// <summary>Writes entry <paramref name="index"/> with <paramref name="message"/> and unmasks it.</summary>
        public void SetEntry(int index, MsiMessage message)
        {
            int entry = _tableBase + index * EntrySize;
            _table.Write32(entry + 12, 1);
            _table.Write32(entry, (uint)message.Address);
            _table.Write32(entry + 4, (uint)(message.Address >> 32));
            _table.Write32(entry + 8, message.Data);
            _table.Write32(entry + 12, 0);
        }

        /// <summary>Masks entry <paramref name="index"/>.</summary>
        public void MaskEntry(int index)
        {
            _table.Write32(_tableBase + index * EntrySize + 12, 1);
        }

        /// <summary>Turns MSI-X on (and the function mask off). INTx stops being used.</summary>
        public void Enable()
        {
            ushort control = _pci.ConfigRead16(_capability + ControlOffset);
            control = (ushort)((control | ControlEnable) & ~ControlFunctionMask);
            _pci.ConfigWrite16(_capability + ControlOffset, control);
        }

        /// <summary>Turns MSI-X off (the function falls back to INTx).</summary>
        public void Disable()
        {
            ushort control = _pci.ConfigRead16(_capability + ControlOffset);
            _pci.ConfigWrite16(_capability + ControlOffset, (ushort)(control & ~ControlEnable));
        }
    }
}
