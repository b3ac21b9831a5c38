using System.Runtime.InteropServices;
using Keel.Kernel.Console;
using Keel.Kernel.Memory;
using Keel.Runtime;

namespace Keel.Kernel.Boot
{
    /// <summary>
    /// First managed code: boot/entry.asm calls <c>KeelMain</c> in long mode with the PVH start_info address, or
    /// the multiboot2 information address and the multiboot2 magic when GRUB started us.
    /// Order matters: console, memory (so `new` works), runtime statics, then everything else in <see cref="Kernel"/>.
    /// </summary>
    public static unsafe class KernelEntry
    {
        [UnmanagedCallersOnly(EntryPoint = "KeelMain")]
        private static void KeelMain(ulong startInfoAddress, ulong bootMagic)
        {
            SerialPort.Initialize();
            Keel.Kernel.Interrupts.InterruptDescriptorTable.Load();
            Panic.StackTop = Native.StackTop();
            if ((uint)bootMagic == Multiboot2.BootloaderMagic)
            {
                BootInfo.CaptureMultiboot2(AddressSpace.ToVirtual(startInfoAddress));
            }
            else
            {
                PvhStartInfo* startInfo = (PvhStartInfo*)AddressSpace.ToVirtual(startInfoAddress);
                if (startInfo->Magic != PvhStartInfo.ExpectedMagic)
                {
                    Panic.Fail("not started through PVH or multiboot2, magic", startInfo->Magic);
                }
                BootInfo.Capture(startInfo);
            }
            AddressSpace.UnmapNullPage();
            KernelMemory.Initialize();
            RuntimeServices.InitializeModules();
            Kernel.Run();
        }
    }
}
