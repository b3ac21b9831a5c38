namespace Keel.Hal
{
    /// <summary>
    /// Called by the kernel in interrupt context when an interrupt it routed arrives. Implementations only
    /// acknowledge the device and schedule work (<see cref="IWorkScheduler"/>); they never take pages or
    /// packets, print, or block. Returns true when the interrupt was this device's (INTx lines can be shared).
    /// The kernel sends the local APIC EOI after the handler returns.
    /// </summary>
    public interface IInterruptHandler
    {
        bool HandleInterrupt();
    }

    /// <summary>An MSI/MSI-X message: what the device writes (Data) where (Address) to raise the vector.</summary>
    public struct MsiMessage
    {
        /// <summary>Address the device writes (x86: 0xFEE00000 | destination APIC id &lt;&lt; 12).</summary>
        public ulong Address;

        /// <summary>Value written (x86: the IDT vector number, edge-triggered, fixed delivery).</summary>
        public uint Data;

        /// <summary>Kernel's handle for this allocation (for <see cref="IInterruptController.FreeMessage"/>).</summary>
        public int Handle;
    }

    /// <summary>
    /// A wired interrupt line a platform description names for a device that is not on PCI (a virtio-mmio
    /// transport from the kernel command line or the ACPI DSDT): the global system interrupt (the I/O APIC
    /// input, counted across all I/O APICs) and how the device drives it.
    /// </summary>
    public struct InterruptLine
    {
        /// <summary>Global system interrupt number.</summary>
        public int Gsi;

        /// <summary>True when the device holds the line while it wants service (level), false for edges.</summary>
        public bool LevelTriggered;

        /// <summary>True when the line is asserted low.</summary>
        public bool ActiveLow;

        public InterruptLine(int gsi, bool levelTriggered, bool activeLow)
        {
            Gsi = gsi;
            LevelTriggered = levelTriggered;
            ActiveLow = activeLow;
        }
    }

    /// <summary>
    /// Interrupt routing the kernel provides. Start-up and shutdown only. The driver programs MSI-X table
    /// entries itself (see Keel.Drivers.Virtio.PciMsix) with the messages it gets here.
    /// </summary>
    public interface IInterruptController
    {
        /// <summary>
        /// Allocates an interrupt vector bound to <paramref name="handler"/> and returns the message a device
        /// must write to raise it. False when the kernel has no free vector.
        /// </summary>
        bool TryAllocateMessage(IInterruptHandler handler, out MsiMessage message);

        /// <summary>Unbinds and frees a vector from <see cref="TryAllocateMessage"/>.</summary>
        void FreeMessage(MsiMessage message);

        /// <summary>
        /// Attaches <paramref name="handler"/> to the function's legacy INTx line (config byte 0x3C/0x3D,
        /// routed by the kernel through the I/O APIC or PIC, level-triggered, possibly shared: each handler
        /// on the line is called until one returns true). False when the function has no line.
        /// </summary>
        bool TryAttachLegacy(IPciFunction function, IInterruptHandler handler);

        /// <summary>Detaches a handler attached with <see cref="TryAttachLegacy"/>.</summary>
        void DetachLegacy(IPciFunction function, IInterruptHandler handler);

        /// <summary>
        /// Attaches <paramref name="handler"/> to a wired line named by the platform (not PCI), programmed with
        /// the line's trigger mode and polarity; the line may be shared (each handler on it is called until one
        /// returns true). False when the machine has no such input or no room for another handler.
        /// </summary>
        bool TryAttachLine(InterruptLine line, IInterruptHandler handler);

        /// <summary>Detaches a handler attached with <see cref="TryAttachLine"/>.</summary>
        void DetachLine(InterruptLine line, IInterruptHandler handler);
    }
}
