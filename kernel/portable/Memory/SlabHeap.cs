using System;
using Keel.Hal;
using Keel.Kernel.Text;

namespace Keel.Kernel.Memory
{
    /// <summary>
    /// The kernel's object allocator (what <c>new</c> ends up calling). Requests up to <see cref="MaxSmallSize"/> bytes
    /// come from size classes of 16..2048 bytes (powers of two) carved from slabs: <see cref="SlabSize"/>-aligned runs
    /// of <see cref="SlabPages"/> pages from the <see cref="PhysicalPageAllocator"/>, each starting with a
    /// <see cref="SlabHeader"/>. Larger requests take whole contiguous pages, aligned the same way, behind a
    /// <see cref="LargeBlockHeader"/>. <see cref="Free"/> finds the header by rounding the pointer down to the slab
    /// alignment, so objects carry no metadata of their own.
    /// <para>
    /// Every pointer returned is 16-byte aligned and points to zeroed memory. Free lists are intrusive. A slab that
    /// becomes empty is kept (one per class) or returned to the page allocator. A free of a pointer the heap did not
    /// hand out, of an interior pointer, or a double free is detected, counted and ignored.
    /// </para>
    /// State lives in one page taken from the page allocator (no managed allocation, no static field), so the heap
    /// works before the runtime is initialised. Not reentrant.
    /// </summary>
    public unsafe struct SlabHeap
    {
        /// <summary>Number of size classes.</summary>
        public const int ClassCount = 8;

        /// <summary>Smallest object size (and the alignment of every pointer returned).</summary>
        public const int MinObjectSize = 16;

        /// <summary>log2 of <see cref="MinObjectSize"/>.</summary>
        public const int MinObjectShift = 4;

        /// <summary>Largest request served from a size class; larger ones take whole pages.</summary>
        public const int MaxSmallSize = 2048;

        /// <summary>Alignment of every pointer returned.</summary>
        public const int Alignment = 16;

        /// <summary>Pages per slab.</summary>
        public const int SlabPages = 4;

        /// <summary>Bytes per slab; also the alignment of slabs and large blocks, which lets a pointer find its header.</summary>
        public const int SlabSize = SlabPages * PhysicalPageAllocator.PageSize;

        /// <summary>Bytes reserved for the <see cref="SlabHeader"/> in front of a slab's objects.</summary>
        public const int SlabHeaderSize = 192;

        /// <summary>Bytes reserved for the <see cref="LargeBlockHeader"/> in front of a large block's data.</summary>
        public const int LargeHeaderSize = 64;

        /// <summary>Empty slabs a class keeps before it gives pages back to the page allocator.</summary>
        public const int MaxEmptySlabsPerClass = 1;

        /// <summary>Marks an initialised heap ("KEELHEAP").</summary>
        private const ulong HeapMagic = 0x4B45454C48454150UL;

        /// <summary>Marks a slab header ("SLABSLAB"), XORed with the slab's physical address.</summary>
        private const ulong SlabMagic = 0x534C4142534C4142UL;

        /// <summary>Marks a large block header ("LARGEBLK"), XORed with the block's physical address.</summary>
        private const ulong LargeMagic = 0x4C41524745424C4BUL;

        /// <summary><see cref="HeapMagic"/> while initialised.</summary>
        private ulong _magic;

        /// <summary>Where slabs and large blocks come from.</summary>
        private PhysicalPageAllocator* _pages;

        /// <summary><see cref="ClassCount"/> class states, right after this struct in the heap's page.</summary>
        private SlabCache* _classes;

        /// <summary>Physical address of the page holding this struct.</summary>
        private ulong _selfPhysical;

        /// <summary>Large blocks in use.</summary>
        private long _largeInUse;

        /// <summary>Pages held by large blocks in use.</summary>
        private long _largePages;

        /// <summary>Bytes requested by large blocks in use.</summary>
        private long _largeBytes;

        /// <summary>Successful large allocations.</summary>
        private long _largeAllocations;

        /// <summary>Successful large frees.</summary>
        private long _largeFrees;

        /// <summary>Allocations that failed because the page allocator had no suitable pages.</summary>
        private long _failures;

        /// <summary>Frees of pointers the heap did not hand out (outside the heap, interior, misaligned).</summary>
        private long _badFrees;

        /// <summary>Frees of objects that were already free.</summary>
        private long _doubleFrees;

        /// <summary>
        /// Builds a heap on top of <paramref name="pages"/>; its state takes one page. Returns null when that page
        /// cannot be had.
        /// </summary>
        public static SlabHeap* Create(PhysicalPageAllocator* pages)
        {
            ulong physical = pages->AllocatePage(true);
            if (physical == PhysicalPageAllocator.NoPage)
            {
                return null;
            }
            SlabHeap* self = (SlabHeap*)pages->ToVirtual(physical);
            self->_pages = pages;
            self->_selfPhysical = physical;
            self->_classes = (SlabCache*)((byte*)self + Bits.AlignUp((ulong)sizeof(SlabHeap), 64));
            for (int i = 0; i < ClassCount; i++)
            {
                SlabCache* cache = &self->_classes[i];
                cache->ObjectSize = MinObjectSize << i;
                cache->ObjectsPerSlab = (SlabSize - SlabHeaderSize) / cache->ObjectSize;
            }
            self->_magic = HeapMagic;
            return self;
        }

        /// <summary>True once <see cref="Create"/> has built this heap.</summary>
        public bool IsInitialized => _magic == HeapMagic;

        /// <summary>The page allocator behind this heap.</summary>
        public PhysicalPageAllocator* PageAllocator => _pages;

        /// <summary>
        /// Returns a zeroed, 16-byte aligned block of at least <paramref name="size"/> bytes (a zero size gets the
        /// smallest class), or null when memory is exhausted.
        /// </summary>
        public void* Allocate(ulong size)
        {
            if (size > MaxSmallSize)
            {
                return AllocateLarge(size);
            }
            int classIndex = ClassFor(size);
            SlabCache* cache = &_classes[classIndex];
            SlabHeader* slab = cache->Partial;
            if (slab == null)
            {
                slab = NewSlab(classIndex);
                if (slab == null)
                {
                    _failures++;
                    return null;
                }
            }

            byte* objects = (byte*)slab + SlabHeaderSize;
            byte* result;
            if (slab->FreeList != null)
            {
                result = (byte*)slab->FreeList;
                slab->FreeList = *(void**)result;
            }
            else
            {
                result = objects + slab->BumpIndex * slab->ObjectSize;
                slab->BumpIndex++;
            }
            int index = (int)((result - objects) / slab->ObjectSize);
            slab->Allocated[index >> 6] |= 1UL << (index & 63);
            if (slab->InUse == 0)
            {
                cache->EmptySlabs--;
            }
            slab->InUse++;
            if (slab->InUse == slab->Capacity)
            {
                Unlink(cache, slab);
            }
            cache->ObjectsInUse++;
            cache->Allocations++;
            new Span<byte>(result, slab->ObjectSize).Clear();
            return result;
        }

        /// <summary>
        /// Gives back a block from <see cref="Allocate"/>. Null is ignored (true). A pointer the heap did not hand out,
        /// or one already freed, is counted (<see cref="BadFrees"/>, <see cref="DoubleFrees"/>) and ignored (false).
        /// </summary>
        public bool Free(void* pointer)
        {
            if (pointer == null)
            {
                return true;
            }
            if (((ulong)pointer & (Alignment - 1)) != 0)
            {
                _badFrees++;
                return false;
            }
            ulong physical = _pages->ToPhysical(pointer);
            ulong blockPhysical = physical & ~(ulong)(SlabSize - 1);
            if (!_pages->IsAllocated(physical) || !_pages->IsAllocated(blockPhysical))
            {
                _badFrees++;
                return false;
            }
            byte* block = _pages->ToVirtual(blockPhysical);
            ulong magic = *(ulong*)block;
            if (magic == (SlabMagic ^ blockPhysical))
            {
                return FreeSmall((SlabHeader*)block, (byte*)pointer);
            }
            if (magic == (LargeMagic ^ blockPhysical) && (byte*)pointer == block + LargeHeaderSize)
            {
                LargeBlockHeader* header = (LargeBlockHeader*)block;
                int pages = header->Pages;
                _largeInUse--;
                _largePages -= pages;
                _largeBytes -= (long)header->RequestedSize;
                _largeFrees++;
                header->Magic = 0;
                _pages->Free(blockPhysical, pages);
                return true;
            }
            _badFrees++;
            return false;
        }

        /// <summary>
        /// Bytes usable at <paramref name="pointer"/> (the class size, or the large block's capacity); 0 when the
        /// pointer is not a live heap block.
        /// </summary>
        public ulong UsableSize(void* pointer)
        {
            if (pointer == null || ((ulong)pointer & (Alignment - 1)) != 0)
            {
                return 0;
            }
            ulong physical = _pages->ToPhysical(pointer);
            ulong blockPhysical = physical & ~(ulong)(SlabSize - 1);
            if (!_pages->IsAllocated(physical) || !_pages->IsAllocated(blockPhysical))
            {
                return 0;
            }
            byte* block = _pages->ToVirtual(blockPhysical);
            ulong magic = *(ulong*)block;
            if (magic == (SlabMagic ^ blockPhysical))
            {
                SlabHeader* slab = (SlabHeader*)block;
                int index;
                return ObjectIndex(slab, (byte*)pointer, out index) && IsObjectAllocated(slab, index) ? (ulong)slab->ObjectSize : 0;
            }
            if (magic == (LargeMagic ^ blockPhysical) && (byte*)pointer == block + LargeHeaderSize)
            {
                return ((ulong)((LargeBlockHeader*)block)->Pages << PhysicalPageAllocator.PageShift) - LargeHeaderSize;
            }
            return 0;
        }

        /// <summary>Returns every empty slab to the page allocator. Returns the number of pages released.</summary>
        public long Trim()
        {
            long released = 0;
            for (int i = 0; i < ClassCount; i++)
            {
                SlabCache* cache = &_classes[i];
                SlabHeader* slab = cache->Partial;
                while (slab != null)
                {
                    SlabHeader* next = slab->Next;
                    if (slab->InUse == 0)
                    {
                        ReleaseSlab(cache, slab);
                        released += SlabPages;
                    }
                    slab = next;
                }
            }
            return released;
        }

        /// <summary>Size class index serving <paramref name="size"/> bytes (size at most <see cref="MaxSmallSize"/>).</summary>
        public static int ClassFor(ulong size)
        {
            int index = 0;
            ulong classSize = MinObjectSize;
            while (classSize < size)
            {
                classSize <<= 1;
                index++;
            }
            return index;
        }

        /// <summary>Object size of class <paramref name="classIndex"/>.</summary>
        public int ClassObjectSize(int classIndex) => _classes[classIndex].ObjectSize;

        /// <summary>Objects of class <paramref name="classIndex"/> in use.</summary>
        public long ClassObjectsInUse(int classIndex) => _classes[classIndex].ObjectsInUse;

        /// <summary>Slabs held by class <paramref name="classIndex"/>.</summary>
        public long ClassSlabs(int classIndex) => _classes[classIndex].Slabs;

        /// <summary>Pages held by class <paramref name="classIndex"/>.</summary>
        public long ClassPages(int classIndex) => _classes[classIndex].Slabs * SlabPages;

        /// <summary>Empty slabs kept by class <paramref name="classIndex"/>.</summary>
        public long ClassEmptySlabs(int classIndex) => _classes[classIndex].EmptySlabs;

        /// <summary>Successful allocations from class <paramref name="classIndex"/>.</summary>
        public long ClassAllocations(int classIndex) => _classes[classIndex].Allocations;

        /// <summary>Successful frees to class <paramref name="classIndex"/>.</summary>
        public long ClassFrees(int classIndex) => _classes[classIndex].Frees;

        /// <summary>Large blocks in use.</summary>
        public long LargeBlocksInUse => _largeInUse;

        /// <summary>Pages held by large blocks in use.</summary>
        public long LargePages => _largePages;

        /// <summary>Successful large allocations.</summary>
        public long LargeAllocations => _largeAllocations;

        /// <summary>Successful large frees.</summary>
        public long LargeFrees => _largeFrees;

        /// <summary>Allocations that failed (page allocator exhausted).</summary>
        public long Failures => _failures;

        /// <summary>Rejected frees of pointers the heap did not hand out.</summary>
        public long BadFrees => _badFrees;

        /// <summary>Rejected frees of blocks already free.</summary>
        public long DoubleFrees => _doubleFrees;

        /// <summary>Objects and large blocks in use.</summary>
        public long ObjectsInUse
        {
            get
            {
                long total = _largeInUse;
                for (int i = 0; i < ClassCount; i++)
                {
                    total += _classes[i].ObjectsInUse;
                }
                return total;
            }
        }

        /// <summary>Bytes in use: class sizes of live objects plus requested sizes of live large blocks.</summary>
        public long BytesInUse
        {
            get
            {
                long total = _largeBytes;
                for (int i = 0; i < ClassCount; i++)
                {
                    total += _classes[i].ObjectsInUse * _classes[i].ObjectSize;
                }
                return total;
            }
        }

        /// <summary>Pages the heap holds from the page allocator (its own page, slabs and large blocks).</summary>
        public long PagesHeld
        {
            get
            {
                long total = 1 + _largePages;
                for (int i = 0; i < ClassCount; i++)
                {
                    total += _classes[i].Slabs * SlabPages;
                }
                return total;
            }
        }

        /// <summary>Prints per-class and total counters (for the <c>mem</c> shell command).</summary>
        public void Print(ITextOutput output)
        {
            output.Write("heap:  class   in-use    slabs    pages   allocs    frees");
            output.WriteLine();
            for (int i = 0; i < ClassCount; i++)
            {
                SlabCache* cache = &_classes[i];
                output.Write("heap: ");
                TextWriting.WriteDecimal(output, cache->ObjectSize, 6);
                TextWriting.WriteDecimal(output, cache->ObjectsInUse, 9);
                TextWriting.WriteDecimal(output, cache->Slabs, 9);
                TextWriting.WriteDecimal(output, cache->Slabs * SlabPages, 9);
                TextWriting.WriteDecimal(output, cache->Allocations, 9);
                TextWriting.WriteDecimal(output, cache->Frees, 9);
                output.WriteLine();
            }
            output.Write("heap:  large");
            TextWriting.WriteDecimal(output, _largeInUse, 9);
            TextWriting.WriteDecimal(output, 0, 9);
            TextWriting.WriteDecimal(output, _largePages, 9);
            TextWriting.WriteDecimal(output, _largeAllocations, 9);
            TextWriting.WriteDecimal(output, _largeFrees, 9);
            output.WriteLine();
            output.Write("heap: objects ");
            output.Write(ObjectsInUse);
            output.Write(" bytes ");
            output.Write(BytesInUse);
            output.Write(" pages ");
            output.Write(PagesHeld);
            output.Write(" failures ");
            output.Write(_failures);
            output.Write(" bad-frees ");
            output.Write(_badFrees);
            output.Write(" double-frees ");
            output.Write(_doubleFrees);
            output.WriteLine();
        }

        /// <summary>Takes the pages of a large block and returns the caller's pointer, or null.</summary>
        private void* AllocateLarge(ulong size)
        {
            ulong bytes = size + LargeHeaderSize;
            if (size > (ulong)PhysicalPageAllocator.MaxContiguousPages * PhysicalPageAllocator.PageSize)
            {
                _failures++;
                return null;
            }
            int pages = (int)((bytes + PhysicalPageAllocator.PageSize - 1) >> PhysicalPageAllocator.PageShift);
            ulong physical = _pages->AllocateContiguous(pages, SlabPages, true);
            if (physical == PhysicalPageAllocator.NoPage)
            {
                _failures++;
                return null;
            }
            byte* block = _pages->ToVirtual(physical);
            LargeBlockHeader* header = (LargeBlockHeader*)block;
            header->Magic = LargeMagic ^ physical;
            header->Pages = pages;
            header->RequestedSize = size;
            _largeInUse++;
            _largePages += pages;
            _largeBytes += (long)size;
            _largeAllocations++;
            return block + LargeHeaderSize;
        }

        /// <summary>Returns an object to its slab after checking it is a live object of that slab.</summary>
        private bool FreeSmall(SlabHeader* slab, byte* pointer)
        {
            int index;
            if (!ObjectIndex(slab, pointer, out index))
            {
                _badFrees++;
                return false;
            }
            if (!IsObjectAllocated(slab, index))
            {
                _doubleFrees++;
                return false;
            }
            SlabCache* cache = &_classes[slab->ClassIndex];
            slab->Allocated[index >> 6] &= ~(1UL << (index & 63));
            *(void**)pointer = slab->FreeList;
            slab->FreeList = pointer;
            if (slab->InUse == slab->Capacity)
            {
                LinkFront(cache, slab);
            }
            slab->InUse--;
            cache->ObjectsInUse--;
            cache->Frees++;
            if (slab->InUse == 0)
            {
                cache->EmptySlabs++;
                if (cache->EmptySlabs > MaxEmptySlabsPerClass)
                {
                    ReleaseSlab(cache, slab);
                }
            }
            return true;
        }

        /// <summary>Index of the object at <paramref name="pointer"/>; false when it is not the start of a handed-out object slot.</summary>
        private static bool ObjectIndex(SlabHeader* slab, byte* pointer, out int index)
        {
            long offset = pointer - ((byte*)slab + SlabHeaderSize);
            index = 0;
            if (offset < 0 || offset % slab->ObjectSize != 0)
            {
                return false;
            }
            long slot = offset / slab->ObjectSize;
            if (slot >= slab->BumpIndex)
            {
                return false;
            }
            index = (int)slot;
            return true;
        }

        /// <summary>True when object <paramref name="index"/> of <paramref name="slab"/> is allocated.</summary>
        private static bool IsObjectAllocated(SlabHeader* slab, int index)
        {
            return (slab->Allocated[index >> 6] & (1UL << (index & 63))) != 0;
        }

        /// <summary>Takes a fresh slab for class <paramref name="classIndex"/> and puts it on the partial list; null when out of pages.</summary>
        private SlabHeader* NewSlab(int classIndex)
        {
            ulong physical = _pages->AllocateContiguous(SlabPages, SlabPages, false);
            if (physical == PhysicalPageAllocator.NoPage)
            {
                return null;
            }
            SlabCache* cache = &_classes[classIndex];
            SlabHeader* slab = (SlabHeader*)_pages->ToVirtual(physical);
            new Span<byte>(slab, SlabHeaderSize).Clear();
            slab->Magic = SlabMagic ^ physical;
            slab->ClassIndex = classIndex;
            slab->ObjectSize = cache->ObjectSize;
            slab->Capacity = cache->ObjectsPerSlab;
            cache->Slabs++;
            cache->EmptySlabs++;
            LinkFront(cache, slab);
            return slab;
        }

        /// <summary>Removes an empty slab from its class and gives its pages back.</summary>
        private void ReleaseSlab(SlabCache* cache, SlabHeader* slab)
        {
            Unlink(cache, slab);
            cache->Slabs--;
            cache->EmptySlabs--;
            ulong physical = _pages->ToPhysical(slab);
            slab->Magic = 0;
            _pages->Free(physical, SlabPages);
        }

        /// <summary>Puts a slab at the head of its class's partial list.</summary>
        private static void LinkFront(SlabCache* cache, SlabHeader* slab)
        {
            slab->Previous = null;
            slab->Next = cache->Partial;
            if (cache->Partial != null)
            {
                cache->Partial->Previous = slab;
            }
            cache->Partial = slab;
            slab->OnPartialList = 1;
        }

        /// <summary>Takes a slab off its class's partial list (no-op when it is not on it).</summary>
        private static void Unlink(SlabCache* cache, SlabHeader* slab)
        {
            if (slab->OnPartialList == 0)
            {
                return;
            }
            if (slab->Previous != null)
            {
                slab->Previous->Next = slab->Next;
            }
            else
            {
                cache->Partial = slab->Next;
            }
            if (slab->Next != null)
            {
                slab->Next->Previous = slab->Previous;
            }
            slab->Next = null;
            slab->Previous = null;
            slab->OnPartialList = 0;
        }
    }
}
