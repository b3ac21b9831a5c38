using Keel.Runtime;

namespace Keel.Kernel.Interrupts
{
    /// <summary>The IDT: 256 interrupt gates pointing at the stubs of boot/interrupts.asm.</summary>
    public static unsafe class InterruptDescriptorTable
    {
        private const ushort KernelCodeSelector = 0x08;
        private const byte InterruptGate = 0x8E;
        private const int DoubleFaultVector = 8;
        private const int NmiVector = 2;
        private const int MachineCheckVector = 18;
        private const byte FaultStackIst = 1;

        // Reached only through its fixed buffer's address, which the compiler does not count as a use.
#pragma warning disable CS0169
        private static IdtStorage s_table;
#pragma warning restore CS0169

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.InternalCall)]
        [System.Runtime.RuntimeImport("*", "keel_interrupt_stub_address")]
        private static extern ulong StubAddress(int vector);

        public static void Load()
        {
            fixed (ulong* table = s_table.Entries)
            {
                for (int vector = 0; vector < 256; vector++)
                {
                    ulong handler = StubAddress(vector);
                    byte ist = vector == DoubleFaultVector || vector == NmiVector || vector == MachineCheckVector ? FaultStackIst : (byte)0;
                    ulong low = (handler & 0xFFFF)
                        | ((ulong)KernelCodeSelector << 16)
                        | ((ulong)ist << 32)
                        | ((ulong)InterruptGate << 40)
                        | (((handler >> 16) & 0xFFFF) << 48);
                    table[vector * 2] = low;
                    table[vector * 2 + 1] = handler >> 32;
                }
                byte* pointer = stackalloc byte[10];
                *(ushort*)pointer = 256 * 16 - 1;
                *(ulong*)(pointer + 2) = (ulong)table;
                Native.LoadIdt(pointer);
            }
        }
    }

    /// <summary>Backing store of the IDT (non-reference static, exists before the runtime starts).</summary>
    internal unsafe struct IdtStorage
    {
        internal fixed ulong Entries[512];
    }
}
