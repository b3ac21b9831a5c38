using System.Runtime.InteropServices;
using Keel.Runtime;

namespace Keel.Kernel.Boot
{
    /// <summary>First managed code: called by boot/entry.asm in long mode with the PVH start_info address.</summary>
    public static unsafe class KernelEntry
    {
        private static byte* s_bump;
        private static ulong s_bumpEnd;

        [UnmanagedCallersOnly(EntryPoint = "KeelMain")]
        private static void KeelMain(ulong startInfo)
        {
            Panic.WriteText("Keel booting\r\n");
            s_bump = (byte*)0x400000;
            s_bumpEnd = 0x800000;
            RuntimeServices.SetAllocator(&Allocate, &Free);
            RuntimeServices.InitializeModules();
            Test t = new Test();
            t.Value = 42;
            Panic.WriteText("allocated\r\n");
            Panic.Exit(0);
        }

        private static void* Allocate(nuint size)
        {
            byte* p = s_bump;
            s_bump += (size + 15) & ~(nuint)15;
            for (nuint i = 0; i < size; i++) p[i] = 0;
            return p;
        }

        private static void Free(void* p) { }

        [UnmanagedCallersOnly(EntryPoint = "KeelInterruptDispatch")]
        private static void KeelInterruptDispatch(void* frame)
        {
            Panic.Fail("interrupt");
        }

        private sealed class Test { public int Value; }
    }
}
