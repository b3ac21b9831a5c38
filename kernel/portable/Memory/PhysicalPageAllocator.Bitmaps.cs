using System;

namespace Keel.Kernel.Memory
{
    /// <summary>The allocator's bitmap operations and the placement of its metadata at creation.</summary>
    public unsafe partial struct PhysicalPageAllocator
    {
        /// <summary>Books <paramref name="count"/> pages as allocated by one successful call.</summary>
        private void TookPages(int count)
        {
            _freePages -= count;
            _allocations++;
            if (_freePages < _minimumFreePages)
            {
                _minimumFreePages = _freePages;
            }
        }

        /// <summary>Bitmap index of <paramref name="physical"/>'s page, false when outside the bitmaps.</summary>
        private bool TryIndex(ulong physical, out ulong index)
        {
            ulong frame = physical >> PageShift;
            if (frame < _firstFrame || frame - _firstFrame >= _pageCount)
            {
                index = 0;
                return false;
            }
            index = frame - _firstFrame;
            return true;
        }

        /// <summary>Smallest bitmap index at or after <paramref name="index"/> whose frame number is a multiple of <paramref name="align"/>.</summary>
        private ulong AlignIndex(ulong index, ulong align)
        {
            return Bits.AlignUp(_firstFrame + index, align) - _firstFrame;
        }

        /// <summary>
        /// Marks the pages overlapping [<paramref name="start"/>, <paramref name="end"/>) (physical, rounded outwards
        /// to pages, clipped to the bitmaps) as reserved (not usable) or as free usable RAM.
        /// </summary>
        private void MarkRange(ulong start, ulong end, bool reserve)
        {
            if (end <= start)
            {
                return;
            }
            ulong firstFrame = start >> PageShift;
            ulong endFrame = end >= ulong.MaxValue - PageSize ? ulong.MaxValue >> PageShift : (end + PageSize - 1) >> PageShift;
            ulong lastFrame = _firstFrame + _pageCount;
            if (endFrame <= _firstFrame || firstFrame >= lastFrame)
            {
                return;
            }
            ulong from = Math.Max(firstFrame, _firstFrame) - _firstFrame;
            ulong to = Math.Min(endFrame, lastFrame) - _firstFrame;
            if (reserve)
            {
                SetRange(_used, from, to);
                ClearRange(_usable, from, to);
            }
            else
            {
                ClearRange(_used, from, to);
                SetRange(_usable, from, to);
            }
        }

        /// <summary>First index in [<paramref name="from"/>, <paramref name="to"/>) whose used bit is set, or <paramref name="to"/>.</summary>
        private ulong FindUsed(ulong from, ulong to)
        {
            ulong i = from;
            while (i < to)
            {
                ulong w = i / BitsPerWord;
                int shift = (int)(i % BitsPerWord);
                ulong word = _used[w] >> shift;
                if (word != 0)
                {
                    ulong hit = i + (ulong)Bits.TrailingZeroCount(word);
                    return hit < to ? hit : to;
                }
                i = (w + 1) * BitsPerWord;
            }
            return to;
        }

        /// <summary>First index in [<paramref name="from"/>, <paramref name="to"/>) whose used bit is clear, or <paramref name="to"/>.</summary>
        private ulong FindFree(ulong from, ulong to)
        {
            ulong i = from;
            while (i < to)
            {
                ulong w = i / BitsPerWord;
                int shift = (int)(i % BitsPerWord);
                ulong word = ~_used[w] >> shift;
                if (word != 0)
                {
                    ulong hit = i + (ulong)Bits.TrailingZeroCount(word);
                    return hit < to ? hit : to;
                }
                i = (w + 1) * BitsPerWord;
            }
            return to;
        }

        /// <summary>True when bit <paramref name="index"/> of <paramref name="bitmap"/> is set.</summary>
        private static bool TestBit(ulong* bitmap, ulong index)
        {
            return (bitmap[index / BitsPerWord] & (1UL << (int)(index % BitsPerWord))) != 0;
        }

        /// <summary>Sets bits [<paramref name="from"/>, <paramref name="to"/>).</summary>
        private static void SetRange(ulong* bitmap, ulong from, ulong to)
        {
            for (ulong i = from; i < to; i++)
            {
                if (i % BitsPerWord == 0 && i + BitsPerWord <= to)
                {
                    bitmap[i / BitsPerWord] = AllOnes;
                    i += BitsPerWord - 1;
                    continue;
                }
                bitmap[i / BitsPerWord] |= 1UL << (int)(i % BitsPerWord);
            }
        }

        /// <summary>Clears bits [<paramref name="from"/>, <paramref name="to"/>).</summary>
        private static void ClearRange(ulong* bitmap, ulong from, ulong to)
        {
            for (ulong i = from; i < to; i++)
            {
                if (i % BitsPerWord == 0 && i + BitsPerWord <= to)
                {
                    bitmap[i / BitsPerWord] = 0;
                    i += BitsPerWord - 1;
                    continue;
                }
                bitmap[i / BitsPerWord] &= ~(1UL << (int)(i % BitsPerWord));
            }
        }

        /// <summary>
        /// The page-aligned part of a RAM entry above the low 1 MiB and below <paramref name="limit"/>;
        /// false when the entry is not RAM or nothing is left.
        /// </summary>
        private static bool ClipRam(MemoryRegion region, ulong limit, out ulong start, out ulong end)
        {
            start = 0;
            end = 0;
            if (region.Type != MemoryRegionType.Ram || region.Length == 0)
            {
                return false;
            }
            ulong s = Math.Max(region.Base, LowMemoryEnd);
            ulong e = Math.Min(region.End, limit);
            if (s >= ulong.MaxValue - PageSize)
            {
                return false;
            }
            s = Bits.AlignUp(s, PageSize);
            e = Bits.AlignDown(e, PageSize);
            if (s >= e)
            {
                return false;
            }
            start = s;
            end = e;
            return true;
        }

        /// <summary>True when [<paramref name="start"/>, <paramref name="end"/>) overlaps [<paramref name="otherStart"/>, <paramref name="otherEnd"/>).</summary>
        private static bool Overlaps(ulong start, ulong end, ulong otherStart, ulong otherEnd)
        {
            return start < otherEnd && otherStart < end;
        }

        /// <summary>
        /// Lowest page-aligned physical address where <paramref name="length"/> bytes fit inside one clipped RAM entry
        /// without touching a non-RAM entry or a reserved range. Candidates are the starts of RAM entries and the
        /// (page-rounded) ends of everything that blocks.
        /// </summary>
        private static bool FindMetadataPlace(ReadOnlySpan<MemoryRegion> memoryMap, ReadOnlySpan<MemoryRegion> reserved,
            ulong limit, ulong length, out ulong placement)
        {
            placement = 0;
            bool found = false;
            int candidates = memoryMap.Length + reserved.Length;
            for (int c = 0; c < candidates; c++)
            {
                ulong candidate;
                if (c < memoryMap.Length)
                {
                    ulong ignoredEnd;
                    if (memoryMap[c].Type == MemoryRegionType.Ram)
                    {
                        if (!ClipRam(memoryMap[c], limit, out candidate, out ignoredEnd))
                        {
                            continue;
                        }
                    }
                    else
                    {
                        candidate = memoryMap[c].End;
                    }
                }
                else
                {
                    candidate = reserved[c - memoryMap.Length].End;
                }
                if (candidate >= ulong.MaxValue - length - PageSize)
                {
                    continue;
                }
                candidate = Bits.AlignUp(candidate, PageSize);
                if (found && candidate >= placement)
                {
                    continue;
                }
                if (FitsAt(memoryMap, reserved, limit, candidate, candidate + length))
                {
                    placement = candidate;
                    found = true;
                }
            }
            return found;
        }

        /// <summary>True when [<paramref name="start"/>, <paramref name="end"/>) lies inside one clipped RAM entry and overlaps nothing reserved.</summary>
        private static bool FitsAt(ReadOnlySpan<MemoryRegion> memoryMap, ReadOnlySpan<MemoryRegion> reserved, ulong limit, ulong start, ulong end)
        {
            bool inside = false;
            for (int i = 0; i < memoryMap.Length; i++)
            {
                if (memoryMap[i].Type != MemoryRegionType.Ram)
                {
                    if (Overlaps(start, end, memoryMap[i].Base, memoryMap[i].End))
                    {
                        return false;
                    }
                    continue;
                }
                ulong s;
                ulong e;
                if (ClipRam(memoryMap[i], limit, out s, out e) && start >= s && end <= e)
                {
                    inside = true;
                }
            }
            if (!inside)
            {
                return false;
            }
            for (int i = 0; i < reserved.Length; i++)
            {
                if (Overlaps(start, end, reserved[i].Base, reserved[i].End))
                {
                    return false;
                }
            }
            return true;
        }
    }
}
