using Keel.Kernel.Memory;
using Keel.Runtime;

namespace Keel.Kernel.Interrupts
{
    /// <summary>The local APIC (xAPIC, memory mapped): enable, end-of-interrupt, and its one-shot timer.</summary>
    public static unsafe class LocalApic
    {
        private const uint ApicBaseMsr = 0x1B;
        private const ulong ApicBaseEnable = 1UL << 11;
        private const ulong ApicBaseAddressMask = 0xFFFFF000;
        private const int RegisterId = 0x20;
        private const int RegisterTaskPriority = 0x80;
        private const int RegisterEndOfInterrupt = 0xB0;
        private const int RegisterSpurious = 0xF0;
        private const int RegisterLvtTimer = 0x320;
        private const int RegisterLvtLint0 = 0x350;
        private const int RegisterLvtLint1 = 0x360;
        private const int RegisterLvtError = 0x370;
        private const int RegisterTimerInitialCount = 0x380;
        private const int RegisterTimerCurrentCount = 0x390;
        private const int RegisterTimerDivide = 0x3E0;
        private const uint SpuriousEnable = 0x100;
        private const uint LvtMasked = 0x10000;
        private const uint TimerDivideBy16 = 0x3;

        /// <summary>Vector for spurious interrupts (no EOI).</summary>
        public const int SpuriousVector = 0xFF;

        /// <summary>Vector of the local APIC timer.</summary>
        public const int TimerVector = 0xF0;

        private static byte* s_registers;

        /// <summary>Physical address of the registers (also the MSI target address base).</summary>
        public static ulong PhysicalBase;

        /// <summary>APIC id of this CPU.</summary>
        public static uint Id;

        /// <summary>Enables the local APIC at <paramref name="madtAddress"/> (the MADT's; 0 = keep the MSR's base).</summary>
        public static void Initialize(ulong madtAddress)
        {
            ulong msr = Native.ReadMsr(ApicBaseMsr);
            if (madtAddress != 0 && (madtAddress & ~ApicBaseAddressMask) == 0)
            {
                msr = (msr & ~ApicBaseAddressMask) | madtAddress;
            }
            PhysicalBase = msr & ApicBaseAddressMask;
            Native.WriteMsr(ApicBaseMsr, msr | ApicBaseEnable);
            s_registers = AddressSpace.MapDevice(PhysicalBase, 4096, &KernelMemory.AllocatePageTablePage);
            Id = Read(RegisterId) >> 24;
            Write(RegisterTaskPriority, 0);
            Write(RegisterLvtLint0, LvtMasked);
            Write(RegisterLvtLint1, LvtMasked);
            Write(RegisterLvtError, LvtMasked);
            Write(RegisterLvtTimer, LvtMasked);
            Write(RegisterSpurious, SpuriousEnable | SpuriousVector);
        }

        public static void EndOfInterrupt()
        {
            Write(RegisterEndOfInterrupt, 0);
        }

        /// <summary>Arms the timer to fire once after <paramref name="ticks"/> timer ticks (divider 16).</summary>
        public static void StartOneShot(uint ticks)
        {
            Write(RegisterTimerDivide, TimerDivideBy16);
            Write(RegisterLvtTimer, TimerVector);
            Write(RegisterTimerInitialCount, ticks == 0 ? 1 : ticks);
        }

        /// <summary>Stops the timer.</summary>
        public static void StopTimer()
        {
            Write(RegisterTimerInitialCount, 0);
        }

        /// <summary>Starts the timer counting down from the maximum with interrupts masked (for calibration).</summary>
        public static void StartFreeRunning()
        {
            Write(RegisterTimerDivide, TimerDivideBy16);
            Write(RegisterLvtTimer, LvtMasked | TimerVector);
            Write(RegisterTimerInitialCount, 0xFFFFFFFF);
        }

        /// <summary>Current count of the timer.</summary>
        public static uint TimerCurrentCount => Read(RegisterTimerCurrentCount);

        private static uint Read(int register) => *(uint*)(s_registers + register);

        private static void Write(int register, uint value)
        {
            *(uint*)(s_registers + register) = value;
        }
    }
}
