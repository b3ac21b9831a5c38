using Keel.Hal;
using Keel.Kernel.Memory;

namespace Keel.Kernel.Pci
{
    /// <summary>Maps BARs for drivers: I/O BARs become <see cref="PortRegion"/>s, memory BARs uncached <see cref="MmioRegion"/>s.</summary>
    public sealed unsafe class KernelBarMapper : IPciBarMapper
    {
        public IRegisterRegion Map(PciDevice device, int index, PciBar bar)
        {
            if (bar.Size == 0)
            {
                return null;
            }
            if (bar.IsPortIo)
            {
                return new PortRegion((ushort)bar.Address, (int)bar.Size);
            }
            byte* address = AddressSpace.MapDevice(bar.Address, bar.Size, &KernelMemory.AllocatePageTablePage);
            return new MmioRegion(address, (int)bar.Size);
        }
    }
}
