using System.Runtime.InteropServices;

namespace Keel.Kernel.Memory
{
    /// <summary>State and counters of one size class of the <see cref="SlabHeap"/>.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct SlabCache
    {
        /// <summary>Object size in bytes (a power of two).</summary>
        public int ObjectSize;

        /// <summary>Objects per slab.</summary>
        public int ObjectsPerSlab;

        /// <summary>Slabs that have at least one free object (doubly linked through the slab headers).</summary>
        public SlabHeader* Partial;

        /// <summary>Objects handed out and not freed.</summary>
        public long ObjectsInUse;

        /// <summary>Slabs held (full, partial and empty).</summary>
        public long Slabs;

        /// <summary>Slabs held with no object in use (kept to avoid page-allocator churn).</summary>
        public long EmptySlabs;

        /// <summary>Successful allocations from this class.</summary>
        public long Allocations;

        /// <summary>Successful frees to this class.</summary>
        public long Frees;
    }
}
