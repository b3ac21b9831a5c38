namespace Keel.Kernel.Platform
{
    /// <summary>Where a platform device's description came from.</summary>
    public enum MmioDeviceSource
    {
        /// <summary><c>virtio_mmio.device=</c> on the kernel command line.</summary>
        CommandLine,

        /// <summary>A device in the ACPI DSDT (<c>_HID</c> LNRO0005 with a <c>_CRS</c>).</summary>
        Acpi,
    }

    /// <summary>
    /// A memory-mapped device the platform describes (not found on a bus): its register window and its interrupt.
    /// The kernel command line gives only the interrupt number (<see cref="HasTriggerMode"/> false: the kernel
    /// applies the ISA convention below 16); ACPI also says how the line is driven.
    /// </summary>
    public struct MmioDevice
    {
        /// <summary>Physical address of the register window.</summary>
        public ulong Base;

        /// <summary>Bytes in the register window.</summary>
        public ulong Size;

        /// <summary>Interrupt number: a GSI (ACPI), or the number the command line gave (an ISA IRQ below 16).</summary>
        public int Irq;

        /// <summary>True when <see cref="LevelTriggered"/> and <see cref="ActiveLow"/> come from the description.</summary>
        public bool HasTriggerMode;

        /// <summary>Level-triggered line (valid with <see cref="HasTriggerMode"/>).</summary>
        public bool LevelTriggered;

        /// <summary>Active-low line (valid with <see cref="HasTriggerMode"/>).</summary>
        public bool ActiveLow;

        /// <summary>The command line's optional <c>:id</c> or the ACPI <c>_UID</c>; −1 when none was given.</summary>
        public long Id;

        /// <summary>Where the description came from.</summary>
        public MmioDeviceSource Source;
    }
}
