namespace Keel.Kernel.Acpi
{
    /// <summary>The timers the ACPI tables describe: the FADT's PM timer and the HPET table's event timer block.</summary>
    public sealed class AcpiTimerInfo
    {
        /// <summary>I/O port of the PM timer (0 = none: hardware-reduced ACPI has none).</summary>
        public uint PmTimerPort;

        /// <summary>FADT flag TMR_VAL_EXT: the PM timer counts 32 bits (else 24).</summary>
        public bool PmTimer32Bit;

        /// <summary>Physical address of the HPET's registers (0 = no HPET table).</summary>
        public ulong HpetAddress;

        /// <summary>The PM timer's count mask (24 or 32 bits).</summary>
        public uint PmTimerMask => PmTimer32Bit ? 0xFFFFFFFFu : 0xFFFFFFu;
    }
}
