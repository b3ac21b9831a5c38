namespace Keel.Kernel.Acpi
{
    /// <summary>What soft power-off (sleep state S5) needs, from the FADT and the DSDT's <c>\_S5</c> package.</summary>
    public sealed class AcpiPowerInfo
    {
        /// <summary>I/O port of PM1a_CNT (0 = none).</summary>
        public uint Pm1aControlPort;

        /// <summary>I/O port of PM1b_CNT (0 = none).</summary>
        public uint Pm1bControlPort;

        /// <summary>SMI command port and the value that hands the chipset to ACPI (0 = already in ACPI mode).</summary>
        public uint SmiCommandPort;

        /// <summary>Value for <see cref="SmiCommandPort"/> that enables ACPI mode.</summary>
        public byte AcpiEnableValue;

        /// <summary>Physical address of the DSDT.</summary>
        public ulong DsdtAddress;

        /// <summary>True when the <c>\_S5</c> package was found and read.</summary>
        public bool HasS5;

        /// <summary>SLP_TYPa and SLP_TYPb for S5 (3 bits each).</summary>
        public byte SleepTypeA;

        /// <summary>SLP_TYPb for S5.</summary>
        public byte SleepTypeB;

        /// <summary>FADT says hardware-reduced ACPI: no PM1 blocks, sleep through <see cref="SleepControlAddress"/>.</summary>
        public bool HardwareReduced;

        /// <summary>Physical address of the FADT's SLEEP_CONTROL_REG (hardware-reduced ACPI; 0 = none).</summary>
        public ulong SleepControlAddress;

        /// <summary>SLP_EN in the sleep control register (bit 5; SLP_TYPx in bits 4:2).</summary>
        public const byte SleepControlEnable = 1 << 5;

        /// <summary>SLP_EN: bit 13 of PM1x_CNT.</summary>
        public const ushort SleepEnable = 1 << 13;

        /// <summary>SCI_EN: bit 0 of PM1x_CNT (set once the chipset is in ACPI mode).</summary>
        public const ushort SciEnable = 1;

        /// <summary>True when power-off can be attempted through PM1a_CNT.</summary>
        public bool CanPowerOff => HasS5 && Pm1aControlPort != 0 && !HardwareReduced;

        /// <summary>True when power-off can be attempted through the sleep control register (hardware-reduced ACPI).</summary>
        public bool CanPowerOffReduced => HasS5 && HardwareReduced && SleepControlAddress != 0;

        /// <summary>The sleep control register value that enters the sleep state of type <paramref name="sleepType"/>.</summary>
        public static byte SleepControlRegisterValue(byte sleepType) => (byte)(((sleepType & 0x7) << 2) | SleepControlEnable);

        /// <summary>The PM1x_CNT value that enters S5, keeping the other bits of <paramref name="current"/>.</summary>
        public static ushort SleepControlValue(ushort current, byte sleepType)
        {
            ushort cleared = (ushort)(current & ~(0x7 << 10) & ~SleepEnable);
            return (ushort)(cleared | ((sleepType & 0x7) << 10) | SleepEnable);
        }
    }
}
