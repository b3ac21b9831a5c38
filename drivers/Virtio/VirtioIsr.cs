using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// The interrupt status bits every transport reports for a wired (non-MSI-X) interrupt: virtio-pci's ISR
    /// status byte and virtio-mmio's InterruptStatus register carry the same two bits.
    /// </summary>
    internal static class VirtioIsr
    {
        /// <summary>Some queue has new used buffers.</summary>
        public const byte Queue = 1;

        /// <summary>The device configuration changed.</summary>
        public const byte ConfigurationChange = 2;

        /// <summary>
        /// Calls every queue handler for <see cref="Queue"/> (the bit does not say which queue) and the
        /// configuration handler for <see cref="ConfigurationChange"/>. False when <paramref name="isr"/> is 0:
        /// the interrupt was not this device's.
        /// </summary>
        public static bool Dispatch(byte isr, IInterruptHandler configChanged, IInterruptHandler[] queues)
        {
            if (isr == 0)
            {
                return false;
            }
            if ((isr & Queue) != 0 && queues != null)
            {
                for (int q = 0; q < queues.Length; q++)
                {
                    queues[q].HandleInterrupt();
                }
            }
            if ((isr & ConfigurationChange) != 0 && configChanged != null)
            {
                configChanged.HandleInterrupt();
            }
            return true;
        }
    }
}
