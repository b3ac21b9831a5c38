using System;
using Keel.Hal;
using Keel.Kernel.Boot;
using Keel.Runtime;

namespace Keel.Kernel.Memory
{
    /// <summary>
    /// Owns the physical page allocator and the slab heap, and plugs the heap into the runtime so `new`
    /// works. Runs before the runtime's statics exist, so it keeps its state in non-reference statics.
    /// </summary>
    public static unsafe class KernelMemory
    {
        /// <summary>Low memory (real-mode area, BIOS data) is never handed out.</summary>
        private const ulong LowMemoryLimit = 0x100000;

        private const int MaxRegions = 64;

        private static PhysicalPageAllocator* s_pages;
        private static SlabHeap* s_heap;

        /// <summary>Bytes of RAM the memory map reported.</summary>
        public static ulong TotalRam;

        /// <summary>The page allocator (valid after <see cref="Initialize"/>).</summary>
        public static PhysicalPageAllocator* Pages => s_pages;

        /// <summary>The slab heap (valid after <see cref="Initialize"/>).</summary>
        public static SlabHeap* Heap => s_heap;

        /// <summary>Builds the allocators from the PVH memory map and installs the heap as the runtime allocator.</summary>
        public static void Initialize()
        {
            MemoryRegion* map = stackalloc MemoryRegion[MaxRegions];
            int count = 0;
            PvhMemoryMapEntry* entries = BootInfo.MemoryMap;
            for (int i = 0; i < BootInfo.MemoryMapCount && count < MaxRegions; i++)
            {
                map[count++] = new MemoryRegion(entries[i].Address, entries[i].Size, entries[i].Type);
                if (entries[i].Type == MemoryRegionType.Ram)
                {
                    TotalRam += entries[i].Size;
                }
            }
            ulong* extent = stackalloc ulong[2];
            Native.KernelExtent(extent);
            MemoryRegion* reserved = stackalloc MemoryRegion[2];
            reserved[0] = new MemoryRegion(0, LowMemoryLimit, MemoryRegionType.Reserved);
            reserved[1] = new MemoryRegion(extent[0], extent[1] - extent[0], MemoryRegionType.Reserved);
            s_pages = PhysicalPageAllocator.Create(new ReadOnlySpan<MemoryRegion>(map, count),
                new ReadOnlySpan<MemoryRegion>(reserved, 2), AddressSpace.DirectMapOffset, AddressSpace.BootMappedLimit);
            if (s_pages == null)
            {
                Panic.Fail("no usable memory in the memory map");
            }
            s_heap = SlabHeap.Create(s_pages);
            if (s_heap == null)
            {
                Panic.Fail("cannot create the kernel heap");
            }
            RuntimeServices.SetAllocator(&AllocateObject, &FreeObject);
        }

        /// <summary>One zeroed page for page tables; returns its physical address or 0.</summary>
        public static ulong AllocatePageTablePage()
        {
            ulong page = s_pages->AllocatePage(true);
            return page == PhysicalPageAllocator.NoPage ? 0 : page;
        }

        private static void* AllocateObject(nuint size) => s_heap->Allocate(size);

        private static void FreeObject(void* address)
        {
            s_heap->Free(address);
        }
    }
}
