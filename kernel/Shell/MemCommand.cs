using Keel.Hal;
using Keel.Kernel.Memory;
using Keel.Runtime;

namespace Keel.Kernel.Shell
{
    /// <summary><c>mem</c>: page allocator and slab heap counters, runtime allocation totals.</summary>
    public sealed unsafe class MemCommand : IShellCommand
    {
        public string Name => "mem";

        public string Help => "page allocator and slab heap counters";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            output.Write("RAM (memory map): ");
            output.Write((long)(KernelMemory.TotalRam / 1024));
            output.Write(" KiB\n");
            KernelMemory.Pages->Print(output);
            KernelMemory.Heap->Print(output);
            output.Write("runtime: objects allocated ");
            output.Write(RuntimeServices.ObjectsAllocated);
            output.Write(", bytes ");
            output.Write(RuntimeServices.BytesAllocated);
            output.Write(", objects freed ");
            output.Write(RuntimeServices.ObjectsFreed);
            output.Write(", interface dispatch misses ");
            output.Write(RuntimeServices.InterfaceDispatchMisses);
            output.WriteLine();
        }
    }
}
