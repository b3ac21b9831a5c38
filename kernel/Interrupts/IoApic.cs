using Keel.Kernel.Memory;

namespace Keel.Kernel.Interrupts
{
    /// <summary>
    /// The I/O APICs (addresses and GSI bases from the MADT, else the standard one at GSI 0): route their inputs
    /// to vectors. Callers name inputs by global system interrupt (GSI); each GSI belongs to the I/O APIC whose
    /// range [GSI base, GSI base + inputs) holds it (QEMU microvm with ACPI: a second one for GSIs 24-47).
    /// </summary>
    public static unsafe class IoApic
    {
        /// <summary>Standard physical address of the first I/O APIC on PC-compatible machines.</summary>
        public const ulong DefaultPhysicalBase = 0xFEC00000;

        /// <summary>Most I/O APICs driven.</summary>
        public const int MaxControllers = 4;

        private const int RegisterSelect = 0x00;
        private const int RegisterWindow = 0x10;
        private const uint RegisterVersion = 0x01;
        private const uint RedirectionTableBase = 0x10;
        private const ulong RedirectionMasked = 1UL << 16;
        private const ulong RedirectionLevelTriggered = 1UL << 15;
        private const ulong RedirectionActiveLow = 1UL << 13;

        private static IoApicStorage s_storage;

        /// <summary>I/O APICs set up.</summary>
        public static int ControllerCount;

        /// <summary>Number of inputs of the first I/O APIC.</summary>
        public static int InputCount;

        /// <summary>One past the highest GSI any I/O APIC serves.</summary>
        public static int GsiLimit;

        /// <summary>Sets up every I/O APIC <paramref name="madt"/> lists, or the standard one at GSI 0 when there is no MADT or it lists none.</summary>
        public static void Initialize(Keel.Kernel.Acpi.MadtInfo madt)
        {
            int listed = (object)madt != null ? madt.IoApicsKept : 0;
            for (int i = 0; i < listed; i++)
            {
                if (madt.IoApicAddresses[i] != 0)
                {
                    Add(madt.IoApicAddresses[i], madt.IoApicGsiBases[i]);
                }
            }
            if (ControllerCount == 0)
            {
                Add(DefaultPhysicalBase, 0);
            }
        }

        /// <summary>Maps an I/O APIC at <paramref name="physicalBase"/> whose first input is <paramref name="gsiBase"/> and masks every input.</summary>
        public static void Add(ulong physicalBase, uint gsiBase)
        {
            if (ControllerCount == MaxControllers || gsiBase > 1024)
            {
                return;
            }
            int index = ControllerCount;
            byte* registers = AddressSpace.MapDevice(physicalBase, 4096, &KernelMemory.AllocatePageTablePage);
            int inputs = (int)((Read(registers, RegisterVersion) >> 16) & 0xFF) + 1;
            s_storage.Registers[index] = (ulong)registers;
            s_storage.GsiBase[index] = (int)gsiBase;
            s_storage.Inputs[index] = inputs;
            ControllerCount++;
            if (index == 0)
            {
                InputCount = inputs;
            }
            if ((int)gsiBase + inputs > GsiLimit)
            {
                GsiLimit = (int)gsiBase + inputs;
            }
            for (int i = 0; i < inputs; i++)
            {
                WriteEntry(registers, i, RedirectionMasked);
            }
        }

        /// <summary>True when some I/O APIC has an input for <paramref name="gsi"/>.</summary>
        public static bool Serves(int gsi)
        {
            int input;
            return Find(gsi, out input) != null;
        }

        /// <summary>Routes <paramref name="gsi"/> to <paramref name="vector"/> on the boot CPU and unmasks it.</summary>
        public static void Route(int gsi, int vector, bool levelTriggered, bool activeLow)
        {
            int input;
            byte* registers = Find(gsi, out input);
            if (registers == null)
            {
                return;
            }
            ulong entry = (ulong)(uint)vector | ((ulong)LocalApic.Id << 56);
            if (levelTriggered)
            {
                entry |= RedirectionLevelTriggered;
            }
            if (activeLow)
            {
                entry |= RedirectionActiveLow;
            }
            WriteEntry(registers, input, entry);
        }

        /// <summary>Masks <paramref name="gsi"/>.</summary>
        public static void Mask(int gsi)
        {
            int input;
            byte* registers = Find(gsi, out input);
            if (registers != null)
            {
                WriteEntry(registers, input, RedirectionMasked);
            }
        }

        /// <summary>The registers of the I/O APIC serving <paramref name="gsi"/> and its input number; null when none does.</summary>
        private static byte* Find(int gsi, out int input)
        {
            for (int i = 0; i < ControllerCount; i++)
            {
                int first = s_storage.GsiBase[i];
                if (gsi >= first && gsi < first + s_storage.Inputs[i])
                {
                    input = gsi - first;
                    return (byte*)s_storage.Registers[i];
                }
            }
            input = -1;
            return null;
        }

        private static void WriteEntry(byte* registers, int index, ulong value)
        {
            Write(registers, RedirectionTableBase + (uint)index * 2, (uint)value);
            Write(registers, RedirectionTableBase + (uint)index * 2 + 1, (uint)(value >> 32));
        }

        private static uint Read(byte* registers, uint register)
        {
            *(uint*)(registers + RegisterSelect) = register;
            return *(uint*)(registers + RegisterWindow);
        }

        private static void Write(byte* registers, uint register, uint value)
        {
            *(uint*)(registers + RegisterSelect) = register;
            *(uint*)(registers + RegisterWindow) = value;
        }
    }

    /// <summary>Static backing store of <see cref="IoApic"/> (mapped register addresses, GSI ranges).</summary>
    internal unsafe struct IoApicStorage
    {
        internal fixed ulong Registers[IoApic.MaxControllers];
        internal fixed int GsiBase[IoApic.MaxControllers];
        internal fixed int Inputs[IoApic.MaxControllers];
    }
}
