namespace Keel.Kernel.Pci
{
    /// <summary>
    /// Constants of PCI configuration mechanism 1 (the kernel's <see cref="IPciConfigAccess"/> writes
    /// <see cref="Address"/> to port <see cref="AddressPort"/>, then reads or writes port <see cref="DataPort"/>).
    /// </summary>
    public static class PciConfigMechanism1
    {
        /// <summary>CONFIG_ADDRESS I/O port.</summary>
        public const ushort AddressPort = 0xCF8;

        /// <summary>CONFIG_DATA I/O port.</summary>
        public const ushort DataPort = 0xCFC;

        /// <summary>Enable bit of CONFIG_ADDRESS.</summary>
        public const uint EnableBit = 0x80000000;

        /// <summary>The CONFIG_ADDRESS value selecting a dword of a function's configuration space.</summary>
        public static uint Address(int bus, int device, int function, int offset)
        {
            return EnableBit | ((uint)(bus & 0xFF) << 16) | ((uint)(device & 0x1F) << 11) | ((uint)(function & 0x7) << 8) | ((uint)offset & 0xFC);
        }
    }
}
