using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>Chooses the transport for a virtio PCI function.</summary>
    public static class VirtioPci
    {
        /// <summary>True for the virtio-net PCI ids (transitional 0x1000, modern 0x1041).</summary>
        public static bool IsVirtioNet(IPciFunction pci)
        {
            return pci.VendorId == VirtioPciIds.Vendor
                && (pci.DeviceId == VirtioPciIds.NetTransitional || pci.DeviceId == VirtioPciIds.NetModern);
        }

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
            if (pci.DeviceId < 0x1040)
            {
                return VirtioPciLegacyTransport.TryCreate(pci, interrupts);
            }
            return null;
        }
    }
}
