using System.Runtime.InteropServices;
using Keel.Kernel.Console;
using Keel.Kernel.Memory;
using Keel.Runtime;

namespace Keel.Kernel.Boot
{
    /// <summary>
    /// First managed code: boot/entry.asm calls <c>KeelMain</c> in long mode with the PVH start_info address.
    /// Order matters: console, memory (so `new` works), runtime statics, then everything else in <see cref="Kernel"/>.
    /// </summary>
    public static unsafe class KernelEntry
    {
        [UnmanagedCallersOnly(EntryPoint = "KeelMain")]
        private static void KeelMain(ulong startInfoAddress)
        {
            SerialPort.Initialize();
            Keel.Kernel.Interrupts.InterruptDescriptorTable.Load();
            PvhStartInfo* startInfo = (PvhStartInfo*)AddressSpace.ToVirtual(startInfoAddress);
            if (startInfo->Magic != PvhStartInfo.ExpectedMagic)
            {
                Panic.Fail("not started through PVH, magic", startInfo->Magic);
            }
            Panic.StackTop = Native.StackTop();
            BootInfo.Capture(startInfo);
            AddressSpace.UnmapNullPage();
            KernelMemory.Initialize();
            RuntimeServices.InitializeModules();
            Kernel.Run();
        }
    }
}
