using System.Runtime.InteropServices;

namespace Keel.Kernel.Memory
{
    /// <summary>
    /// Header at the start of every slab (a <see cref="SlabHeap.SlabSize"/>-aligned run of pages holding objects of
    /// one size class). Objects follow it at <see cref="SlabHeap.SlabHeaderSize"/>. Free objects are chained
    /// through their first 8 bytes (intrusive list); <see cref="Allocated"/> has one bit per object so a double
    /// free or an interior pointer is caught instead of corrupting the list.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public unsafe struct SlabHeader
    {
        /// <summary>Bits in <see cref="Allocated"/> (most objects a slab can hold).</summary>
        public const int MaxObjects = 1024;

        /// <summary><see cref="SlabHeap"/>'s slab magic XOR the slab's physical address; anything else means "not a slab".</summary>
        public ulong Magic;

        /// <summary>Next slab on the owning class's partial list.</summary>
        public SlabHeader* Next;

        /// <summary>Previous slab on the owning class's partial list.</summary>
        public SlabHeader* Previous;

        /// <summary>Head of the intrusive list of freed objects.</summary>
        public void* FreeList;

        /// <summary>Index of the size class.</summary>
        public int ClassIndex;

        /// <summary>Object size in bytes.</summary>
        public int ObjectSize;

        /// <summary>Objects this slab holds.</summary>
        public int Capacity;

        /// <summary>Objects handed out and not freed.</summary>
        public int InUse;

        /// <summary>Objects [0, BumpIndex) have been handed out at least once; the rest have never been used.</summary>
        public int BumpIndex;

        /// <summary>1 while the slab is on its class's partial list.</summary>
        public int OnPartialList;

        /// <summary>One bit per object: 1 = allocated.</summary>
        public fixed ulong Allocated[MaxObjects / 64];
    }
}
