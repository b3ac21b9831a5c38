using Keel.Kernel.Config;
using Keel.Runtime;

namespace Keel.Kernel.Diagnostics
{
    /// <summary>
    /// Deliberate faults selected with <c>test=</c> on the command line, so the boot tests can check that
    /// each kind of failure is reported with its reason and ends QEMU with the failure status.
    /// </summary>
    public static unsafe class FaultTests
    {
        private sealed class Victim
        {
            public int Value;
        }

        private static Victim s_nothing;
        private static int[] s_small;

        public static void Run(KernelTest test)
        {
            switch (test)
            {
                case KernelTest.PageFault:
                    Kernel.Console.Write("test: touching unmapped memory\n");
                    *(ulong*)0x7FF000000000UL = 1;
                    break;
                case KernelTest.NullReference:
                    Kernel.Console.Write("test: null dereference\n");
                    s_nothing.Value = 1;
                    break;
                case KernelTest.Bounds:
                    Kernel.Console.Write("test: array index out of range\n");
                    s_small = new int[4];
                    int index = 4 + (int)(Native.ReadTimestampCounter() & 1);
                    s_small[index] = 1;
                    break;
                case KernelTest.Throw:
                    Kernel.Console.Write("test: throw\n");
                    ThrowSomething();
                    break;
            }
        }

        private static void ThrowSomething()
        {
            throw new System.Exception("deliberate test exception");
        }
    }
}
