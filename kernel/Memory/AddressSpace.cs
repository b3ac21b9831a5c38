using Keel.Runtime;

namespace Keel.Kernel.Memory
{
    /// <summary>
    /// The kernel's view of physical memory. RAM below 4 GiB is identity mapped at boot; device memory
    /// elsewhere is mapped on demand by <see cref="MapDevice"/>. Every virtual↔physical translation in the
    /// kernel goes through <see cref="ToPhysical"/> and <see cref="ToVirtual"/>, so a non-identity map
    /// later changes only this file.
    /// </summary>
    public static unsafe class AddressSpace
    {
        private const ulong PagePresent = 1;
        private const ulong PageWritable = 2;
        private const ulong PageWriteThrough = 8;
        private const ulong PageCacheDisable = 0x10;
        private const ulong PageLarge = 0x80;
        private const ulong AddressMask = 0x000F_FFFF_FFFF_F000;
        private const ulong LargePageSize = 2 * 1024 * 1024;

        /// <summary>Bytes identity mapped by the boot code.</summary>
        public const ulong BootMappedLimit = 4UL * 1024 * 1024 * 1024;

        /// <summary>Offset between a physical address and the address the kernel uses for it.</summary>
        public const ulong DirectMapOffset = 0;

        public static ulong ToPhysical(void* address) => (ulong)address - DirectMapOffset;

        public static byte* ToVirtual(ulong physical) => (byte*)(physical + DirectMapOffset);

        /// <summary>Unmaps page 0 so null dereferences fault (the boot code leaves it mapped for the loader's data).</summary>
        public static void UnmapNullPage()
        {
            ulong* pml4 = (ulong*)ToVirtual(Native.ReadCr3() & AddressMask);
            ulong* pdpt = (ulong*)ToVirtual(pml4[0] & AddressMask);
            ulong* pd = (ulong*)ToVirtual(pdpt[0] & AddressMask);
            ulong* pt = (ulong*)ToVirtual(pd[0] & AddressMask);
            pt[0] = 0;
            Native.InvalidatePage(0);
        }

        /// <summary>
        /// Makes device memory [physical, physical+length) reachable (uncached) and returns its address.
        /// Page tables for new ranges come from <paramref name="allocatePage"/> (a zeroed page, physical address).
        /// </summary>
        public static byte* MapDevice(ulong physical, ulong length, delegate*<ulong> allocatePage)
        {
            ulong start = physical & ~(LargePageSize - 1);
            ulong end = (physical + length + LargePageSize - 1) & ~(LargePageSize - 1);
            ulong* pml4 = (ulong*)ToVirtual(Native.ReadCr3() & AddressMask);
            for (ulong address = start; address < end; address += LargePageSize)
            {
                ulong* pdpt = NextLevel(pml4, (int)((address >> 39) & 511), allocatePage);
                ulong* pd = NextLevel(pdpt, (int)((address >> 30) & 511), allocatePage);
                int index = (int)((address >> 21) & 511);
                ulong entry = pd[index];
                if ((entry & PagePresent) != 0 && (entry & PageLarge) == 0)
                {
                    // Already split into 4 KiB pages (the first 2 MiB): leave as is.
                    continue;
                }
                // Device registers: uncached, write-through.
                ulong wanted = address | PagePresent | PageWritable | PageLarge | PageCacheDisable | PageWriteThrough;
                if (entry != wanted)
                {
                    pd[index] = wanted;
                    Native.InvalidatePage(address);
                }
            }
            return ToVirtual(physical);
        }

        private static ulong* NextLevel(ulong* table, int index, delegate*<ulong> allocatePage)
        {
            ulong entry = table[index];
            if ((entry & PagePresent) == 0)
            {
                ulong page = allocatePage();
                if (page == 0)
                {
                    Panic.Fail("out of memory for page tables");
                }
                entry = page | PagePresent | PageWritable;
                table[index] = entry;
            }
            return (ulong*)ToVirtual(entry & AddressMask);
        }
    }
}
