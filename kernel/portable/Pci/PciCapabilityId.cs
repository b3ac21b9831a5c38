namespace Keel.Kernel.Pci
{
    /// <summary>PCI capability IDs (first byte of each capability in the list).</summary>
    public static class PciCapabilityId
    {
        /// <summary>Power management.</summary>
        public const byte PowerManagement = 0x01;

        /// <summary>MSI.</summary>
        public const byte Msi = 0x05;

        /// <summary>Vendor-specific (virtio-pci uses it for its configuration structures).</summary>
        public const byte VendorSpecific = 0x09;

        /// <summary>PCI Express.</summary>
        public const byte PciExpress = 0x10;

        /// <summary>MSI-X.</summary>
        public const byte Msix = 0x11;
    }
}
