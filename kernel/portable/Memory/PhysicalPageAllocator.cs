using System;
using Keel.Hal;
using Keel.Kernel.Text;

namespace Keel.Kernel.Memory
{
    /// <summary>
    /// The kernel's physical page allocator: 4 KiB pages over the usable RAM of the boot memory map.
    /// <para>
    /// State is this unmanaged struct plus two bitmaps (one bit per page between the lowest and the highest
    /// usable page): <c>used</c> (1 = allocated or not available) and <c>usable</c> (1 = RAM this allocator
    /// manages). <see cref="Create"/> places the struct and the bitmaps in pages taken from the memory map
    /// itself, so nothing is allocated from the managed heap and no static field is used: the allocator works
    /// before the runtime is initialised. Call its methods through the returned pointer.
    /// </para>
    /// <para>
    /// Physical memory is reached through a direct map: CPU address = physical address +
    /// <c>directMapOffset</c> (zero when the kernel identity-maps RAM; host tests point it at a native block).
    /// The low 1 MiB is never handed out, so physical address 0 means "no page".
    /// </para>
    /// Not reentrant: the kernel calls it from one context (or with interrupts disabled).
    /// </summary>
    public unsafe partial struct PhysicalPageAllocator
    {
        /// <summary>Size of a page in bytes.</summary>
        public const int PageSize = 4096;

        /// <summary>log2 of <see cref="PageSize"/>.</summary>
        public const int PageShift = 12;

        /// <summary>Physical memory below this address (real-mode IVT, BIOS data, VGA, ROMs) is never handed out.</summary>
        public const ulong LowMemoryEnd = 0x100000;

        /// <summary>Value returned by the allocation methods when they fail (physical page 0 is never managed).</summary>
        public const ulong NoPage = 0;

        /// <summary>Largest run <see cref="AllocateContiguous"/> accepts, in pages (64 MiB).</summary>
        public const int MaxContiguousPages = 16384;

        /// <summary>Marks a live allocator header ("KEELPAGE").</summary>
        private const ulong HeaderMagic = 0x4B45454C50414745UL;

        /// <summary>Bytes reserved for this header in front of the bitmaps.</summary>
        private const ulong HeaderBytes = 256;

        /// <summary>Bits in one bitmap word.</summary>
        private const int BitsPerWord = 64;

        /// <summary>A bitmap word with every bit set.</summary>
        private const ulong AllOnes = ulong.MaxValue;

        /// <summary><see cref="HeaderMagic"/> while initialised.</summary>
        private ulong _magic;

        /// <summary>CPU address minus physical address of every managed page.</summary>
        private ulong _directMapOffset;

        /// <summary>Page frame number described by bit 0 of the bitmaps.</summary>
        private ulong _firstFrame;

        /// <summary>Number of pages (bits) the bitmaps describe.</summary>
        private ulong _pageCount;

        /// <summary>Number of 64-bit words in each bitmap.</summary>
        private ulong _wordCount;

        /// <summary>Bitmap: 1 = page allocated or not available, 0 = free.</summary>
        private ulong* _used;

        /// <summary>Bitmap: 1 = page is RAM managed by this allocator (allocated or free).</summary>
        private ulong* _usable;

        /// <summary>Word index where the next single-page search starts.</summary>
        private ulong _searchHint;

        /// <summary>Physical address of the pages holding this header and the bitmaps.</summary>
        private ulong _metadataBase;

        /// <summary>Number of pages holding this header and the bitmaps.</summary>
        private ulong _metadataPages;

        /// <summary>Pages managed (free plus allocated).</summary>
        private long _totalPages;

        /// <summary>Pages currently free.</summary>
        private long _freePages;

        /// <summary>Successful allocation calls (one per call, whatever the page count).</summary>
        private long _allocations;

        /// <summary>Successful free calls.</summary>
        private long _frees;

        /// <summary>Allocation calls that found no suitable free pages.</summary>
        private long _failures;

        /// <summary>Free calls rejected because the pages were not allocated or not managed (double free, stray pointer).</summary>
        private long _badFrees;

        /// <summary>Fewest free pages seen since start-up (low-water mark).</summary>
        private long _minimumFreePages;

        /// <summary>
        /// Builds an allocator over the RAM entries of <paramref name="memoryMap"/>, minus every non-RAM entry,
        /// every range of <paramref name="reserved"/> (kernel image, boot structures, modules: the Type field
        /// is ignored there), the low 1 MiB and memory at or above <paramref name="physicalLimit"/> (0 = no limit;
        /// use the end of the direct map). The allocator's own header and bitmaps are placed in the lowest
        /// free RAM that fits them, and are reserved too. Returns the allocator (at its CPU address), or null
        /// when there is no usable RAM or no room for the metadata.
        /// </summary>
        public static PhysicalPageAllocator* Create(ReadOnlySpan<MemoryRegion> memoryMap, ReadOnlySpan<MemoryRegion> reserved,
            ulong directMapOffset, ulong physicalLimit)
        {
            if (physicalLimit == 0)
            {
                physicalLimit = ulong.MaxValue;
            }

            ulong lowest = ulong.MaxValue;
            ulong highest = 0;
            for (int i = 0; i < memoryMap.Length; i++)
            {
                ulong start;
                ulong end;
                if (!ClipRam(memoryMap[i], physicalLimit, out start, out end))
                {
                    continue;
                }
                lowest = Math.Min(lowest, start);
                highest = Math.Max(highest, end);
            }
            if (lowest >= highest)
            {
                return null;
            }

            ulong pageCount = (highest - lowest) >> PageShift;
            ulong wordCount = (pageCount + BitsPerWord - 1) / BitsPerWord;
            ulong metadataBytes = HeaderBytes + wordCount * 8 * 2;
            ulong metadataPages = (metadataBytes + PageSize - 1) >> PageShift;
            ulong metadataLength = metadataPages << PageShift;

            ulong placement;
            if (!FindMetadataPlace(memoryMap, reserved, physicalLimit, metadataLength, out placement))
            {
                return null;
            }

            byte* raw = (byte*)(placement + directMapOffset);
            new Span<byte>(raw, (int)HeaderBytes).Clear();
            PhysicalPageAllocator* self = (PhysicalPageAllocator*)raw;
            self->_directMapOffset = directMapOffset;
            self->_firstFrame = lowest >> PageShift;
            self->_pageCount = pageCount;
            self->_wordCount = wordCount;
            self->_used = (ulong*)(raw + HeaderBytes);
            self->_usable = self->_used + wordCount;
            self->_metadataBase = placement;
            self->_metadataPages = metadataPages;

            for (ulong w = 0; w < wordCount; w++)
            {
                self->_used[w] = AllOnes;
                self->_usable[w] = 0;
            }

            // Usable RAM first, then everything that is not usable on top of it (so overlaps resolve to reserved).
            for (int i = 0; i < memoryMap.Length; i++)
            {
                ulong start;
                ulong end;
                if (ClipRam(memoryMap[i], physicalLimit, out start, out end))
                {
                    self->MarkRange(start, end, false);
                }
            }
            for (int i = 0; i < memoryMap.Length; i++)
            {
                if (memoryMap[i].Type != MemoryRegionType.Ram)
                {
                    self->MarkRange(memoryMap[i].Base, memoryMap[i].End, true);
                }
            }
            for (int i = 0; i < reserved.Length; i++)
            {
                self->MarkRange(reserved[i].Base, reserved[i].End, true);
            }
            self->MarkRange(placement, placement + metadataLength, true);

            long total = 0;
            long free = 0;
            for (ulong w = 0; w < wordCount; w++)
            {
                total += Bits.PopCount(self->_usable[w]);
                free += Bits.PopCount(~self->_used[w]);
            }
            self->_totalPages = total;
            self->_freePages = free;
            self->_minimumFreePages = free;
            self->_magic = HeaderMagic;
            return self;
        }

        /// <summary>Pages managed (free plus allocated; reserved ranges and metadata excluded).</summary>
        public long TotalPages => _totalPages;

        /// <summary>Pages currently free.</summary>
        public long FreePages => _freePages;

        /// <summary>Pages currently allocated.</summary>
        public long UsedPages => _totalPages - _freePages;

        /// <summary>Successful allocation calls.</summary>
        public long Allocations => _allocations;

        /// <summary>Successful free calls.</summary>
        public long Frees => _frees;

        /// <summary>Allocation calls that failed (out of memory or no run long enough).</summary>
        public long Failures => _failures;

        /// <summary>Rejected free calls (pages not allocated, not managed, misaligned).</summary>
        public long BadFrees => _badFrees;

        /// <summary>Fewest free pages seen since start-up.</summary>
        public long MinimumFreePages => _minimumFreePages;

        /// <summary>Physical address of the lowest page the bitmaps describe.</summary>
        public ulong LowestAddress => _firstFrame << PageShift;

        /// <summary>Physical address one past the highest page the bitmaps describe.</summary>
        public ulong HighestAddress => (_firstFrame + _pageCount) << PageShift;

        /// <summary>Physical address of the allocator's own header and bitmaps.</summary>
        public ulong MetadataAddress => _metadataBase;

        /// <summary>Pages taken by the allocator's own header and bitmaps.</summary>
        public long MetadataPages => (long)_metadataPages;

        /// <summary>CPU address minus physical address for managed memory.</summary>
        public ulong DirectMapOffset => _directMapOffset;

        /// <summary>True once <see cref="Create"/> has built this allocator.</summary>
        public bool IsInitialized => _magic == HeaderMagic;

        /// <summary>CPU address of physical address <paramref name="physical"/> (direct map).</summary>
        public byte* ToVirtual(ulong physical)
        {
            return (byte*)(physical + _directMapOffset);
        }

        /// <summary>Physical address of CPU address <paramref name="address"/> (direct map).</summary>
        public ulong ToPhysical(void* address)
        {
            return (ulong)address - _directMapOffset;
        }

        /// <summary>
        /// Takes one page. Returns its physical address, or <see cref="NoPage"/> when memory is exhausted.
        /// The page is zeroed when <paramref name="zero"/> is true.
        /// </summary>
        public ulong AllocatePage(bool zero = true)
        {
            for (ulong n = 0; n < _wordCount; n++)
            {
                ulong w = _searchHint + n;
                if (w >= _wordCount)
                {
                    w -= _wordCount;
                }
                ulong word = _used[w];
                if (word == AllOnes)
                {
                    continue;
                }
                int bit = Bits.TrailingZeroCount(~word);
                _used[w] = word | (1UL << bit);
                _searchHint = w;
                ulong physical = (_firstFrame + w * BitsPerWord + (ulong)bit) << PageShift;
                TookPages(1);
                if (zero)
                {
                    new Span<byte>(ToVirtual(physical), PageSize).Clear();
                }
                return physical;
            }
            _failures++;
            return NoPage;
        }

        /// <summary>
        /// Takes <paramref name="count"/> physically contiguous pages whose first page frame number is a multiple
        /// of <paramref name="alignmentPages"/> (a power of two; 0 or 1 = any page). Returns the physical address
        /// of the first page or <see cref="NoPage"/>. Lowest-address first fit; zeroed when <paramref name="zero"/>.
        /// </summary>
        public ulong AllocateContiguous(int count, int alignmentPages = 1, bool zero = true)
        {
            if (alignmentPages <= 1 && count == 1)
            {
                return AllocatePage(zero);
            }
            if (count <= 0 || count > MaxContiguousPages || alignmentPages < 0 || (alignmentPages > 1 && !Bits.IsPowerOfTwo((ulong)alignmentPages)))
            {
                _failures++;
                return NoPage;
            }
            ulong align = alignmentPages <= 1 ? 1UL : (ulong)alignmentPages;
            ulong need = (ulong)count;
            ulong index = AlignIndex(0, align);
            while (index + need <= _pageCount)
            {
                ulong busy = FindUsed(index, index + need);
                if (busy == index + need)
                {
                    SetRange(_used, index, index + need);
                    TookPages(count);
                    ulong physical = (_firstFrame + index) << PageShift;
                    if (zero)
                    {
                        for (int p = 0; p < count; p++)
                        {
                            new Span<byte>(ToVirtual(physical + ((ulong)p << PageShift)), PageSize).Clear();
                        }
                    }
                    return physical;
                }
                ulong free = FindFree(busy + 1, _pageCount);
                index = AlignIndex(free, align);
            }
            _failures++;
            return NoPage;
        }

        /// <summary>
        /// Gives back <paramref name="count"/> pages starting at <paramref name="physical"/>, as obtained from one or
        /// more allocations. Every page must be allocated; otherwise nothing is freed, <see cref="BadFrees"/> is
        /// counted and false is returned.
        /// </summary>
        public bool Free(ulong physical, int count = 1)
        {
            if (count <= 0 || (physical & (PageSize - 1)) != 0)
            {
                _badFrees++;
                return false;
            }
            ulong index;
            if (!TryIndex(physical, out index) || index + (ulong)count > _pageCount)
            {
                _badFrees++;
                return false;
            }
            ulong end = index + (ulong)count;
            for (ulong i = index; i < end; i++)
            {
                if (!TestBit(_used, i) || !TestBit(_usable, i))
                {
                    _badFrees++;
                    return false;
                }
            }
            ClearRange(_used, index, end);
            _freePages += count;
            _frees++;
            ulong word = index / BitsPerWord;
            if (word < _searchHint)
            {
                _searchHint = word;
            }
            return true;
        }

        /// <summary>True when the page holding <paramref name="physical"/> is managed by this allocator and allocated.</summary>
        public bool IsAllocated(ulong physical)
        {
            ulong index;
            return TryIndex(physical, out index) && TestBit(_used, index) && TestBit(_usable, index);
        }

        /// <summary>True when the page holding <paramref name="physical"/> is managed by this allocator (free or allocated).</summary>
        public bool IsManaged(ulong physical)
        {
            ulong index;
            return TryIndex(physical, out index) && TestBit(_usable, index);
        }

        /// <summary>Takes one zeroed page as a <see cref="DmaPage"/> (invalid page on failure). Bus address = physical address.</summary>
        public DmaPage AllocateDmaPage()
        {
            ulong physical = AllocatePage(true);
            if (physical == NoPage)
            {
                return default(DmaPage);
            }
            return new DmaPage(ToVirtual(physical), physical);
        }

        /// <summary>Prints the counters (for the <c>mem</c> shell command).</summary>
        public void Print(ITextOutput output)
        {
            output.Write("pages: total ");
            output.Write(_totalPages);
            output.Write(" free ");
            output.Write(_freePages);
            output.Write(" used ");
            output.Write(UsedPages);
            output.Write(" (");
            TextWriting.WriteKib(output, (ulong)_freePages * PageSize);
            output.Write(" free of ");
            TextWriting.WriteKib(output, (ulong)_totalPages * PageSize);
            output.Write(")");
            output.WriteLine();
            output.Write("pages: allocations ");
            output.Write(_allocations);
            output.Write(" frees ");
            output.Write(_frees);
            output.Write(" failures ");
            output.Write(_failures);
            output.Write(" bad-frees ");
            output.Write(_badFrees);
            output.Write(" min-free ");
            output.Write(_minimumFreePages);
            output.WriteLine();
            output.Write("pages: range 0x");
            TextWriting.WriteHex(output, LowestAddress, 9);
            output.Write("-0x");
            TextWriting.WriteHex(output, HighestAddress, 9);
            output.Write(" metadata 0x");
            TextWriting.WriteHex(output, _metadataBase, 9);
            output.Write(" (");
            output.Write((long)_metadataPages);
            output.Write(" pages)");
            output.WriteLine();
        }
    }
}
