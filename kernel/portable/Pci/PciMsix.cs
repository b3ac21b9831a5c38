namespace Keel.Kernel.Pci
{
    /// <summary>Layout of the MSI-X capability (offsets from the capability start, bits of its registers).</summary>
    public static class PciMsix
    {
        /// <summary>Message control (16 bits).</summary>
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
    }
}
