namespace Keel.Kernel.Acpi
{
    /// <summary>An ISA interrupt source override from the MADT: ISA IRQ <see cref="Source"/> arrives on <see cref="Gsi"/>.</summary>
    public struct InterruptOverride
    {
        public byte Source;
        public uint Gsi;

        /// <summary>MPS INTI flags: bits 0-1 polarity (1 high, 3 low), bits 2-3 trigger (1 edge, 3 level); 0 = bus default.</summary>
        public ushort Flags;

        /// <summary>Active low (polarity 3). ISA default (0, conforming) is active high.</summary>
        public bool ActiveLow => (Flags & 0x3) == 0x3;

        /// <summary>Level triggered (trigger 3). ISA default (0, conforming) is edge.</summary>
        public bool LevelTriggered => ((Flags >> 2) & 0x3) == 0x3;
    }

    /// <summary>Interrupt controllers from the MADT ("APIC" table).</summary>
    public sealed class MadtInfo
    {
        /// <summary>Most interrupt source overrides kept.</summary>
        public const int MaxOverrides = 16;

        /// <summary>Physical address of the local APIC (after a type 5 override, if any).</summary>
        public ulong LocalApicAddress;

        /// <summary>Most I/O APICs kept (QEMU microvm with ACPI has two: GSIs 0-23 and 24-47).</summary>
        public const int MaxIoApics = 4;

        /// <summary>Physical address of the first I/O APIC (0 = none listed).</summary>
        public ulong IoApicAddress;

        /// <summary>First GSI of that I/O APIC.</summary>
        public uint IoApicGsiBase;

        /// <summary>I/O APICs listed (the first <see cref="MaxIoApics"/> are kept).</summary>
        public int IoApicCount;

        /// <summary>Physical address of each kept I/O APIC, in table order.</summary>
        public readonly ulong[] IoApicAddresses = new ulong[MaxIoApics];

        /// <summary>First GSI of each kept I/O APIC.</summary>
        public readonly uint[] IoApicGsiBases = new uint[MaxIoApics];

        /// <summary>I/O APICs kept in <see cref="IoApicAddresses"/>.</summary>
        public int IoApicsKept => IoApicCount < MaxIoApics ? IoApicCount : MaxIoApics;

        /// <summary>Processor local APIC entries (enabled or not).</summary>
        public int ProcessorCount;

        /// <summary>Interrupt source overrides kept, in table order.</summary>
        public readonly InterruptOverride[] Overrides = new InterruptOverride[MaxOverrides];

        /// <summary>Number of entries used in <see cref="Overrides"/>.</summary>
        public int OverrideCount;

        /// <summary>The GSI ISA IRQ <paramref name="irq"/> arrives on, and its polarity and trigger.</summary>
        public uint IsaIrqToGsi(int irq, out bool activeLow, out bool levelTriggered)
        {
            for (int i = 0; i < OverrideCount; i++)
            {
                if (Overrides[i].Source == irq)
                {
                    activeLow = Overrides[i].ActiveLow;
                    levelTriggered = Overrides[i].LevelTriggered;
                    return Overrides[i].Gsi;
                }
            }
            activeLow = false;
            levelTriggered = false;
            return (uint)irq;
        }
    }
}
