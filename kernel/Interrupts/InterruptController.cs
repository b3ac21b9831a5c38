using Keel.Hal;
using Keel.Kernel.Pci;

namespace Keel.Kernel.Interrupts
{
    /// <summary>
    /// The kernel's <see cref="IInterruptController"/>: MSI/MSI-X messages get their own vectors
    /// (0x80-0xEF); legacy INTx, ISA and platform-named lines go through the I/O APICs (vector 0x20 + GSI, so
    /// GSIs 0-95: room for microvm's second I/O APIC at GSI 24-47).
    /// </summary>
    public sealed class InterruptController : IInterruptController
    {
        /// <summary>Vector of GSI 0; GSI n uses <c>LegacyVectorBase + n</c>.</summary>
        public const int LegacyVectorBase = 0x20;

        private const int FirstMessageVector = 0x80;
        private const int LastMessageVector = 0xEF;
        private const ulong MsiAddressBase = 0xFEE00000;
        private const int FirstPciGsi = 16;
        private const int PciGsiCount = 8;
        private const int InterruptLineOffset = 0x3C;
        private const int InterruptPinOffset = 0x3D;

        private readonly bool[] _messageVectorUsed = new bool[256];

        /// <summary>MSI vectors handed out.</summary>
        public int MessagesAllocated { get; private set; }

        public bool TryAllocateMessage(IInterruptHandler handler, out MsiMessage message)
        {
            for (int vector = FirstMessageVector; vector <= LastMessageVector; vector++)
            {
                if (!_messageVectorUsed[vector])
                {
                    _messageVectorUsed[vector] = true;
                    InterruptDispatcher.Register(vector, handler);
                    message.Address = MsiAddressBase | ((ulong)LocalApic.Id << 12);
                    message.Data = (uint)vector;
                    message.Handle = vector;
                    MessagesAllocated++;
                    return true;
                }
            }
            message = default;
            return false;
        }

        public void FreeMessage(MsiMessage message)
        {
            int vector = message.Handle;
            if (vector >= FirstMessageVector && vector <= LastMessageVector && _messageVectorUsed[vector])
            {
                _messageVectorUsed[vector] = false;
                InterruptDispatcher.UnregisterAll(vector);
                MessagesAllocated--;
            }
        }

        /// <summary>
        /// Attaches a PCI INTx handler. Without ACPI tables the routing is not known for sure, so the handler
        /// is attached to the line the firmware wrote (PIC-style IRQ) and to the q35 PIRQ GSI the slot's pin
        /// swizzles to; handlers check their device's status, so a spurious call costs only a register read.
        /// </summary>
        public bool TryAttachLegacy(IPciFunction function, IInterruptHandler handler)
        {
            int line = function.ConfigRead8(InterruptLineOffset);
            int pin = function.ConfigRead8(InterruptPinOffset);
            if (pin == 0)
            {
                return false;
            }
            bool attached = false;
            if (line > 0 && line < 16)
            {
                attached |= AttachGsi(line, handler, true);
            }
            PciDevice kernelFunction = function as PciDevice;
            if ((object)kernelFunction != null)
            {
                int gsi = FirstPciGsi + ((kernelFunction.Device + pin - 1) % 4);
                attached |= AttachGsi(gsi, handler, true);
                attached |= AttachGsi(FirstPciGsi + 4 + ((kernelFunction.Device + pin - 1) % 4), handler, true);
            }
            return attached;
        }

        public void DetachLegacy(IPciFunction function, IInterruptHandler handler)
        {
            for (int gsi = 0; gsi < FirstPciGsi + PciGsiCount; gsi++)
            {
                InterruptDispatcher.Unregister(LegacyVectorBase + gsi, handler);
            }
        }

        /// <summary>
        /// Attaches a handler to an ISA IRQ, e.g. the serial port: edge triggered, active high, on the I/O APIC input
        /// of the same number unless the MADT has an interrupt source override for it (e.g. IRQ 0 on GSI 2).
        /// </summary>
        public bool AttachIsa(int irq, IInterruptHandler handler)
        {
            bool activeLow;
            bool level;
            int gsi = Keel.Kernel.Acpi.AcpiSubsystem.IsaIrqToGsi(irq, out activeLow, out level);
            return AttachGsi(gsi, handler, level, activeLow);
        }

        /// <summary>A line named by the platform (virtio-mmio): its own trigger mode and polarity.</summary>
        public bool TryAttachLine(InterruptLine line, IInterruptHandler handler)
        {
            return AttachGsi(line.Gsi, handler, line.LevelTriggered, line.ActiveLow);
        }

        public void DetachLine(InterruptLine line, IInterruptHandler handler)
        {
            if (!HasLegacyVector(line.Gsi))
            {
                return;
            }
            int vector = LegacyVectorBase + line.Gsi;
            InterruptDispatcher.Unregister(vector, handler);
            if (!InterruptDispatcher.HasHandlers(vector))
            {
                IoApic.Mask(line.Gsi);
            }
        }

        /// <summary>True when <paramref name="gsi"/> has an I/O APIC input and a vector below the message vectors.</summary>
        private static bool HasLegacyVector(int gsi) => gsi >= 0 && LegacyVectorBase + gsi < FirstMessageVector && IoApic.Serves(gsi);

        private static bool AttachGsi(int gsi, IInterruptHandler handler, bool level, bool activeLow = false)
        {
            if (!HasLegacyVector(gsi) || !InterruptDispatcher.Register(LegacyVectorBase + gsi, handler))
            {
                return false;
            }
            IoApic.Route(gsi, LegacyVectorBase + gsi, level, activeLow);
            return true;
        }
    }
}
