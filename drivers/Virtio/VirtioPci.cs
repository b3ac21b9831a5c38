using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// Identifies virtio PCI functions and chooses their transport ("PCI Device Discovery"). Knows no device
    /// type: each driver names its own virtio device id (virtio-net 1, entropy 4).
    /// </summary>
    public static class VirtioPci
    {
        /// <summary>First modern PCI device id: 0x1040 + virtio device id.</summary>
        public const ushort ModernBase = 0x1040;

        /// <summary>Transitional devices use ids 0x1000..0x103F; their subsystem device id is the virtio device id.</summary>
        public const ushort TransitionalFirst = 0x1000;
        public const ushort TransitionalLast = 0x103F;

        /// <summary>Config-space offset of the subsystem device id.</summary>
        private const int SubsystemId = 0x2E;

        /// <summary>The virtio device id of <paramref name="pci"/> (1 = network, 4 = entropy, …); -1 when it is not virtio.</summary>
        public static int DeviceType(IPciFunction pci)
        {
            if (pci.VendorId != VirtioPciIds.Vendor)
            {
                return -1;
            }
            ushort id = pci.DeviceId;
            if (id >= ModernBase && id <= ModernBase + 0x3F)
            {
                return id - ModernBase;
            }
            if (id >= TransitionalFirst && id <= TransitionalLast)
            {
                return pci.ConfigRead16(SubsystemId);
            }
            return -1;
        }

        /// <summary>True when <paramref name="pci"/> is a virtio device of type <paramref name="deviceType"/>.</summary>
        public static bool IsDevice(IPciFunction pci, int deviceType) => DeviceType(pci) == deviceType;

        /// <summary>
        /// The modern interface when the function has the virtio capabilities, otherwise the legacy I/O BAR
        /// (transitional devices only, ids below 0x1040). Null when neither is usable.
        /// </summary>
        public static IVirtioTransport TryCreateTransport(IPciFunction pci, IInterruptController interrupts)
        {
            VirtioPciModernTransport modern = VirtioPciModernTransport.TryCreate(pci, interrupts);
            if (modern != null)
            {
                return modern;
            }
            if (pci.DeviceId < ModernBase)
            {
                return VirtioPciLegacyTransport.TryCreate(pci, interrupts);
            }
            return null;
        }
    }
}
