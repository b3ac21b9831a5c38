using Keel.Kernel.Boot;
using Keel.Kernel.Console;
using Keel.Kernel.Interrupts;
using Keel.Runtime;

namespace Keel.Kernel.Acpi
{
    /// <summary>
    /// The kernel's ACPI: parses the tables at boot (RSDP from the boot loader, else the BIOS area), gives the
    /// interrupt code the MADT's APIC addresses and ISA overrides, and powers the machine off through S5.
    /// </summary>
    public static unsafe class AcpiSubsystem
    {
        private const ulong BiosAreaStart = 0xE0000;
        private const ulong BiosAreaEnd = 0x100000;
        private const ushort DebugExitPort = 0xf4;

        /// <summary>The parsed tables (null before <see cref="Initialize"/>).</summary>
        public static AcpiTables Tables;

        /// <summary>Result of parsing.</summary>
        public static AcpiStatus Status;

        /// <summary>Parses the tables and prints one summary line.</summary>
        public static void Initialize(SerialConsole console)
        {
            Tables = new AcpiTables(new IdentityMappedMemory());
            ulong rsdp = BootInfo.RsdpAddress;
            if (rsdp == 0)
            {
                rsdp = Tables.FindRsdp(BiosAreaStart, BiosAreaEnd);
            }
            Status = Tables.Parse(rsdp);
            console.Write("acpi: ");
            if (Status != AcpiStatus.Ok)
            {
                console.Write("incomplete (status ");
                console.Write((long)Status);
                console.Write(") ");
            }
            console.Write("rev ");
            console.Write((long)Tables.Revision);
            console.Write(", pm1a_cnt ");
            console.WriteHex(Tables.Power.Pm1aControlPort);
            console.Write(", s5 ");
            console.Write(Tables.Power.HasS5 ? (long)Tables.Power.SleepTypeA : -1);
            if (Tables.HasMadt)
            {
                console.Write(", lapic ");
                console.WriteHex(Tables.Madt.LocalApicAddress);
                for (int i = 0; i < Tables.Madt.IoApicsKept; i++)
                {
                    console.Write(", ioapic ");
                    console.WriteHex(Tables.Madt.IoApicAddresses[i]);
                    console.Write(" gsi ");
                    console.Write((long)Tables.Madt.IoApicGsiBases[i]);
                }
                console.Write(", overrides ");
                console.Write((long)Tables.Madt.OverrideCount);
            }
            console.Write('\n');
        }

        /// <summary>The MADT's interrupt controllers, or null when there is no valid MADT.</summary>
        public static MadtInfo Madt => (object)Tables != null && Tables.HasMadt ? Tables.Madt : null;

        /// <summary>The local APIC's physical address from the MADT, or 0 when there is none (then the MSR is used).</summary>
        public static ulong LocalApicAddress
        {
            get
            {
                if ((object)Tables != null && Tables.HasMadt)
                {
                    return Tables.Madt.LocalApicAddress;
                }
                return 0;
            }
        }

        /// <summary>The GSI ISA IRQ <paramref name="irq"/> arrives on after the MADT's overrides, with its polarity and trigger.</summary>
        public static int IsaIrqToGsi(int irq, out bool activeLow, out bool levelTriggered)
        {
            if ((object)Tables == null || !Tables.HasMadt)
            {
                activeLow = false;
                levelTriggered = false;
                return irq;
            }
            uint gsi = Tables.Madt.IsaIrqToGsi(irq, out activeLow, out levelTriggered);
            return gsi > int.MaxValue ? -1 : (int)gsi;
        }

        /// <summary>
        /// Stops the machine: isa-debug-exit first (QEMU then exits with (code&lt;&lt;1)|1); if that device is not
        /// there the write does nothing and ACPI S5 powers off (status 0: the code cannot be carried).
        /// </summary>
        public static void Exit(byte code)
        {
            Native.Out8(DebugExitPort, code);
            Kernel.Console.Write("acpi: no isa-debug-exit, powering off (S5)\n");
            PowerOff();
        }

        /// <summary>Enters S5 through PM1a/PM1b control; halts if ACPI cannot power off.</summary>
        public static void PowerOff()
        {
            if ((object)Tables != null && Tables.Power.CanPowerOff)
            {
                AcpiPowerInfo power = Tables.Power;
                ushort control = Native.In16((ushort)power.Pm1aControlPort);
                if ((control & AcpiPowerInfo.SciEnable) == 0 && power.SmiCommandPort != 0 && power.AcpiEnableValue != 0)
                {
                    Native.Out8((ushort)power.SmiCommandPort, power.AcpiEnableValue);
                    for (int i = 0; i < 1000000 && (Native.In16((ushort)power.Pm1aControlPort) & AcpiPowerInfo.SciEnable) == 0; i++)
                    {
                        Native.Pause();
                    }
                    control = Native.In16((ushort)power.Pm1aControlPort);
                }
                Native.Out16((ushort)power.Pm1aControlPort, AcpiPowerInfo.SleepControlValue(control, power.SleepTypeA));
                if (power.Pm1bControlPort != 0)
                {
                    ushort controlB = Native.In16((ushort)power.Pm1bControlPort);
                    Native.Out16((ushort)power.Pm1bControlPort, AcpiPowerInfo.SleepControlValue(controlB, power.SleepTypeB));
                }
            }
            // The chipset acts on the write asynchronously: give it a second before saying it failed.
            ulong deadline = Native.ReadTimestampCounter() + Keel.Kernel.Time.Tsc.TicksPerMicrosecond * 1000000;
            while (Native.ReadTimestampCounter() < deadline)
            {
                Native.Pause();
            }
            Kernel.Console.Write("acpi: power-off not possible; halted\n");
            Native.HaltForever();
        }
    }
}
