using Keel.Runtime;

namespace Keel.Kernel.Pci
{
    /// <summary>PCI configuration mechanism 1: address port 0xCF8, data port 0xCFC.</summary>
    public static class PciConfigPorts
    {
        private const ushort AddressPort = 0xCF8;
        private const ushort DataPort = 0xCFC;
        private const uint EnableBit = 0x80000000;

        private static uint Address(int bus, int device, int function, int offset)
        {
            return EnableBit | ((uint)bus << 16) | ((uint)device << 11) | ((uint)function << 8) | ((uint)offset & 0xFC);
        }

        public static uint Read32(int bus, int device, int function, int offset)
        {
            ulong flags = Native.SaveFlagsAndDisableInterrupts();
            Native.Out32(AddressPort, Address(bus, device, function, offset));
            uint value = Native.In32(DataPort);
            Native.RestoreFlags(flags);
            return value;
        }

        public static void Write32(int bus, int device, int function, int offset, uint value)
        {
            ulong flags = Native.SaveFlagsAndDisableInterrupts();
            Native.Out32(AddressPort, Address(bus, device, function, offset));
            Native.Out32(DataPort, value);
            Native.RestoreFlags(flags);
        }
    }
}
