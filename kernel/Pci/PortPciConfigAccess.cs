using Keel.Runtime;

namespace Keel.Kernel.Pci
{
    /// <summary>Configuration mechanism 1 over port I/O (0xCF8 address, 0xCFC data), interrupts off per access.</summary>
    public sealed class PortPciConfigAccess : IPciConfigAccess
    {
        public uint Read32(int bus, int device, int function, int offset)
        {
            ulong flags = Native.SaveFlagsAndDisableInterrupts();
            Native.Out32(PciConfigMechanism1.AddressPort, PciConfigMechanism1.Address(bus, device, function, offset));
            uint value = Native.In32(PciConfigMechanism1.DataPort);
            Native.RestoreFlags(flags);
            return value;
        }

        public void Write32(int bus, int device, int function, int offset, uint value)
        {
            ulong flags = Native.SaveFlagsAndDisableInterrupts();
            Native.Out32(PciConfigMechanism1.AddressPort, PciConfigMechanism1.Address(bus, device, function, offset));
            Native.Out32(PciConfigMechanism1.DataPort, value);
            Native.RestoreFlags(flags);
        }
    }
}
