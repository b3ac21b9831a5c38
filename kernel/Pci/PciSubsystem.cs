using Keel.Hal;

namespace Keel.Kernel.Pci
{
    /// <summary>Enumerates PCI at boot (bridges followed recursively) and keeps the device list for drivers and `pci`.</summary>
    public static class PciSubsystem
    {
        /// <summary>The devices found at boot.</summary>
        public static PciEnumerator Devices;

        public static void Initialize(ITextOutput output)
        {
            Devices = new PciEnumerator(new PortPciConfigAccess(), new KernelBarMapper());
            int count = Devices.Enumerate(PciScanMode.Recursive);
            output.Write("pci: ");
            output.Write(count);
            output.Write(" functions\n");
        }
    }
}
