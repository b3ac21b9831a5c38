using Keel.Kernel.Memory;

namespace Keel.Kernel.Acpi
{
    /// <summary>Firmware tables read through the boot identity map (physical 4 KiB .. 4 GiB; page 0 is unmapped).</summary>
    public sealed unsafe class IdentityMappedMemory : IPhysicalMemoryReader
    {
        public bool CanRead(ulong address, uint length)
        {
            return address >= 4096 && address + length >= address && address + length <= AddressSpace.BootMappedLimit;
        }

        public byte Read8(ulong address)
        {
            return *AddressSpace.ToVirtual(address);
        }
    }
}
