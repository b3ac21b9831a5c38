using Keel.Hal;
using Keel.Runtime;

namespace Keel.Kernel.Memory
{
    /// <summary>The page allocator's, slab heap's and runtime's counters as one <see cref="IStatisticsSource"/> ("memory").</summary>
    public sealed unsafe class MemoryStatistics : IStatisticsSource
    {
        private static readonly string[] s_names =
        {
            "pages_managed",
            "pages_free",
            "pages_free_min",
            "page_allocations",
            "page_frees",
            "page_alloc_failures",
            "page_bad_frees",
            "heap_objects_in_use",
            "heap_bytes_in_use",
            "heap_pages_held",
            "heap_large_blocks_in_use",
            "heap_alloc_failures",
            "heap_bad_frees",
            "heap_double_frees",
            "runtime_objects_allocated",
            "runtime_bytes_allocated",
            "runtime_objects_freed",
        };

        private static readonly string[] s_help =
        {
            "Pages (4 KiB) the page allocator manages",
            "Pages free",
            "Fewest pages free since boot",
            "Page allocations",
            "Page frees",
            "Page allocations that failed",
            "Frees of pages not allocated",
            "Slab heap objects in use",
            "Slab heap bytes in use",
            "Pages the slab heap holds",
            "Large heap blocks in use",
            "Heap allocations that failed",
            "Frees of heap blocks not allocated",
            "Heap blocks freed twice",
            "Objects the runtime allocated",
            "Bytes the runtime allocated for objects",
            "Objects the runtime freed",
        };

        public int StatisticsCount => s_names.Length;

        public string StatisticName(int index) => s_names[index];

        public string StatisticHelp(int index) => s_help[index];

        /// <summary>Sizes and levels (pages, objects in use) are gauges, the rest count events.</summary>
        public StatisticKind StatisticKind(int index)
        {
            return index <= 2 || (index >= 7 && index <= 10) ? Keel.Hal.StatisticKind.Gauge : Keel.Hal.StatisticKind.Counter;
        }

        public long StatisticValue(int index)
        {
            PhysicalPageAllocator* pages = KernelMemory.Pages;
            SlabHeap* heap = KernelMemory.Heap;
            switch (index)
            {
                case 0: return pages->TotalPages;
                case 1: return pages->FreePages;
                case 2: return pages->MinimumFreePages;
                case 3: return pages->Allocations;
                case 4: return pages->Frees;
                case 5: return pages->Failures;
                case 6: return pages->BadFrees;
                case 7: return heap->ObjectsInUse;
                case 8: return heap->BytesInUse;
                case 9: return heap->PagesHeld;
                case 10: return heap->LargeBlocksInUse;
                case 11: return heap->Failures;
                case 12: return heap->BadFrees;
                case 13: return heap->DoubleFrees;
                case 14: return RuntimeServices.ObjectsAllocated;
                case 15: return RuntimeServices.BytesAllocated;
                case 16: return RuntimeServices.ObjectsFreed;
                default: return 0;
            }
        }
    }
}
