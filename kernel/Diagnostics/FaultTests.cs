using Keel.Hal;
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

        // Never assigned on purpose: the null-reference test dereferences it.
#pragma warning disable CS0649
        private static Victim s_nothing;
#pragma warning restore CS0649
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
                case KernelTest.Other:
                    if (AsciiText.Matches(Kernel.CommandLine.TestName, "stackoverflow"))
                    {
                        Kernel.Console.Write("test: unbounded recursion into the stack guard page\n");
                        Recurse(1);
                    }
                    break;
            }
        }

        private static long Recurse(long depth)
        {
            byte* scratch = stackalloc byte[256];
            scratch[0] = (byte)depth;
            return Recurse(depth + 1) + scratch[0];
        }

        private static void ThrowSomething()
        {
            throw new System.Exception("deliberate test exception");
        }
    }
}
