using Keel.Kernel.Memory;

namespace Keel.Kernel.Interrupts
{
    /// <summary>The I/O APIC (address from the MADT, else the standard one): routes its inputs (GSIs) to vectors.</summary>
    public static unsafe class IoApic
    {
        /// <summary>Standard physical address of the first I/O APIC on PC-compatible machines.</summary>
        public const ulong DefaultPhysicalBase = 0xFEC00000;

        private const int RegisterSelect = 0x00;
        private const int RegisterWindow = 0x10;
        private const uint RegisterVersion = 0x01;
        private const uint RedirectionTableBase = 0x10;
        private const ulong RedirectionMasked = 1UL << 16;
        private const ulong RedirectionLevelTriggered = 1UL << 15;
        private const ulong RedirectionActiveLow = 1UL << 13;

        private static byte* s_registers;

        /// <summary>Number of inputs (GSIs) this I/O APIC has.</summary>
        public static int InputCount;

        public static void Initialize(ulong physicalBase)
        {
            s_registers = AddressSpace.MapDevice(physicalBase, 4096, &KernelMemory.AllocatePageTablePage);
            InputCount = (int)((Read(RegisterVersion) >> 16) & 0xFF) + 1;
            for (int i = 0; i < InputCount; i++)
            {
                WriteEntry(i, RedirectionMasked);
            }
        }

        /// <summary>Routes input <paramref name="gsi"/> to <paramref name="vector"/> on the boot CPU and unmasks it.</summary>
        public static void Route(int gsi, int vector, bool levelTriggered, bool activeLow)
        {
            if (gsi < 0 || gsi >= InputCount)
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
            WriteEntry(gsi, entry);
        }

        /// <summary>Masks input <paramref name="gsi"/>.</summary>
        public static void Mask(int gsi)
        {
            if (gsi >= 0 && gsi < InputCount)
            {
                WriteEntry(gsi, RedirectionMasked);
            }
        }

        private static void WriteEntry(int index, ulong value)
        {
            Write(RedirectionTableBase + (uint)index * 2, (uint)value);
            Write(RedirectionTableBase + (uint)index * 2 + 1, (uint)(value >> 32));
        }

        private static uint Read(uint register)
        {
            *(uint*)(s_registers + RegisterSelect) = register;
            return *(uint*)(s_registers + RegisterWindow);
        }

        private static void Write(uint register, uint value)
        {
            *(uint*)(s_registers + RegisterSelect) = register;
            *(uint*)(s_registers + RegisterWindow) = value;
        }
    }
}
