using Keel.Drivers.Virtio;
using Keel.Kernel.Pci;

namespace Keel.Kernel.Platform
{
    /// <summary>
    /// Where a virtio driver gets its transport: the first PCI function of the device type (modern, else
    /// legacy interface), else the first virtio-mmio transport of that type the platform described
    /// (<see cref="VirtioMmioDevices"/>). The drivers never learn which.
    /// </summary>
    public static class VirtioTransports
    {
        /// <summary>
        /// The transport of the first device of <paramref name="deviceType"/>. <paramref name="found"/> says
        /// whether there is such a device at all; the result is null when there is none or its transport could
        /// not be set up.
        /// </summary>
        public static IVirtioTransport Find(int deviceType, out bool found)
        {
            PciDevice pci = FindPci(deviceType);
            if ((object)pci != null)
            {
                found = true;
                return VirtioPci.TryCreateTransport(pci, Kernel.Interrupts);
            }
            VirtioMmioTransport mmio = VirtioMmioDevices.Claim(deviceType);
            found = (object)mmio != null;
            return mmio;
        }

        /// <summary>The first PCI function that is a virtio device of type <paramref name="deviceType"/>.</summary>
        private static PciDevice FindPci(int deviceType)
        {
            PciEnumerator devices = PciSubsystem.Devices;
            for (int i = 0; i < devices.Count; i++)
            {
                PciDevice device = devices.Get(i);
                if (VirtioPci.IsDevice(device, deviceType))
                {
                    return device;
                }
            }
            return null;
        }
    }
}
