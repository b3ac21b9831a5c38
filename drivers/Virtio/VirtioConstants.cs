namespace Keel.Drivers.Virtio
{
    /// <summary>Device status bits ("Device Status Field").</summary>
    public static class VirtioStatus
    {
        public const byte Acknowledge = 1;
        public const byte Driver = 2;
        public const byte DriverOk = 4;
        public const byte FeaturesOk = 8;
        public const byte DeviceNeedsReset = 64;
        public const byte Failed = 128;
    }

    /// <summary>Transport-independent feature bits ("Reserved Feature Bits").</summary>
    public static class VirtioFeatures
    {
        /// <summary>VIRTIO_F_ANY_LAYOUT (legacy): message framing does not depend on descriptor boundaries.</summary>
        public const ulong AnyLayout = 1UL << 27;
        public const ulong IndirectDescriptors = 1UL << 28;
        public const ulong EventIndex = 1UL << 29;
        public const ulong Version1 = 1UL << 32;
        public const ulong AccessPlatform = 1UL << 33;

        /// <summary>VIRTIO_F_RING_PACKED (virtio 1.1 "Packed Virtqueues").</summary>
        public const ulong RingPacked = 1UL << 34;
    }

    /// <summary>PCI identifiers and capability numbers ("Virtio Over PCI Bus").</summary>
    public static class VirtioPciIds
    {
        public const ushort Vendor = 0x1AF4;
        public const byte CapabilityVendor = 0x09;
        public const byte CfgCommon = 1;
        public const byte CfgNotify = 2;
        public const byte CfgIsr = 3;
        public const byte CfgDevice = 4;
        public const byte CfgPci = 5;

        /// <summary>"No MSI-X vector" value of msix_config / queue_msix_vector.</summary>
        public const ushort NoVector = 0xFFFF;
    }
}
