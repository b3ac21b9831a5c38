using System;
using System.Runtime.InteropServices;
using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// Simulated physical memory: one big native block whose bytes have "physical" addresses
    /// <see cref="PhysicalBase"/> + offset (deliberately not equal to the CPU address, so a driver that hands
    /// the device a virtual address is caught). Implements the DMA HAL (<see cref="IPageAllocator"/>,
    /// <see cref="IDmaMemory"/>) and gives the simulated device checked access:
    /// <list type="bullet">
    /// <item>every device access must lie in pages the driver currently holds (else a violation is recorded);</item>
    /// <item>freed pages are poisoned (0xEE) so use-after-free shows up as corrupt data;</item>
    /// <item>an ownership map (16-byte granules) records which bytes the device owns (receive buffers
    /// published and not yet returned): publishing memory the device already owns is a violation, and the
    /// device poisons buffers when they are published (0xA5), so a driver that publishes memory it still uses
    /// (a page recycled while a packet points into it) sees its data destroyed, as with bounce buffers.</item>
    /// </list>
    /// Allocation can be made to fail on command (<see cref="FailAllocations"/>, <see cref="FailAfter"/>).
    /// </summary>
    public sealed unsafe class SimulatedMemory : IPageAllocator, IDmaMemory, IDisposable
    {
        public const ulong PhysicalBase = 0x4000_0000;
        public const int Granule = 16;
        private const byte PageFree = 0;
        private const byte PageSingle = 1;
        private const byte PageContiguous = 2;

        private readonly byte* _base;
        private readonly int _pageCount;
        private readonly byte[] _pageState;
        private readonly byte[] _owner;
        private int _cursor;

        public SimulatedMemory(int megabytes = 64)
        {
            _pageCount = megabytes * 256;
            _base = (byte*)NativeMemory.AlignedAlloc((nuint)(_pageCount * DmaPage.Size), DmaPage.Size);
            new Span<byte>(_base, _pageCount * DmaPage.Size).Fill(0xEE);
            _pageState = new byte[_pageCount];
            _owner = new byte[_pageCount * (DmaPage.Size / Granule)];
            FailAfter = -1;
        }

        public void Dispose()
        {
            NativeMemory.AlignedFree(_base);
        }

        /// <summary>
        /// Makes the memory as new for the next user (a fuzz target reuses it between inputs rather than map and
        /// poison megabytes each time): false, and nothing changed, when a page is still allocated or any byte
        /// is still owned by the device. Free pages are already poisoned; allocation restarts at the first page.
        /// </summary>
        public bool Reset()
        {
            if (AllocatedPages != 0 || new ReadOnlySpan<byte>(_owner).ContainsAnyExcept((byte)0))
            {
                return false;
            }
            _cursor = 0;
            FailAllocations = false;
            FailAfter = -1;
            FailedAllocations = 0;
            Violations = 0;
            FirstViolation = null;
            return true;
        }

        /// <summary>Pages currently allocated in contiguous regions.</summary>
        public int ContiguousPages { get; private set; }

        /// <summary>Pages currently allocated (single and contiguous).</summary>
        public int AllocatedPages { get; private set; }

        /// <summary>When true every allocation fails.</summary>
        public bool FailAllocations;

        /// <summary>When ≥ 0: that many more single-page allocations succeed, then they fail (until reset to -1).</summary>
        public int FailAfter;

        public long FailedAllocations { get; private set; }

        /// <summary>Device accesses outside allocated memory, ownership violations and other device-side findings.</summary>
        public long Violations { get; private set; }

        /// <summary>Description of the first violation (null when none).</summary>
        public string FirstViolation { get; private set; }

        public void RecordViolation(string what)
        {
            Violations++;
            if (FirstViolation == null)
            {
                FirstViolation = what;
            }
        }

        public ulong ToPhysical(byte* address) => PhysicalBase + (ulong)(address - _base);

        public bool TryAllocatePage(out DmaPage page)
        {
            page = default;
            if (FailAllocations || FailAfter == 0)
            {
                FailedAllocations++;
                return false;
            }
            for (int n = 0; n < _pageCount; n++)
            {
                int index = _cursor;
                _cursor = _cursor + 1 == _pageCount ? 0 : _cursor + 1;
                if (_pageState[index] == PageFree)
                {
                    _pageState[index] = PageSingle;
                    AllocatedPages++;
                    if (FailAfter > 0)
                    {
                        FailAfter--;
                    }
                    byte* address = _base + (long)index * DmaPage.Size;
                    new Span<byte>(address, DmaPage.Size).Clear();
                    page = new DmaPage(address, ToPhysical(address));
                    return true;
                }
            }
            FailedAllocations++;
            return false;
        }

        public void FreePage(DmaPage page)
        {
            int index = PageIndex(page.Physical);
            if (index < 0 || _pageState[index] != PageSingle || page.Virtual != _base + (long)index * DmaPage.Size)
            {
                RecordViolation("FreePage of a page that is not allocated (or mismatched addresses)");
                return;
            }
            CheckNotOwned(index, 1, "FreePage of a page the device still owns");
            _pageState[index] = PageFree;
            AllocatedPages--;
            new Span<byte>(page.Virtual, DmaPage.Size).Fill(0xEE);
        }

        public bool TryAllocateContiguous(int pageCount, out DmaRegion region)
        {
            region = default;
            if (FailAllocations || pageCount <= 0)
            {
                FailedAllocations++;
                return false;
            }
            int run = 0;
            for (int index = _pageCount - 1; index >= 0; index--)
            {
                run = _pageState[index] == PageFree ? run + 1 : 0;
                if (run == pageCount)
                {
                    for (int p = index; p < index + pageCount; p++)
                    {
                        _pageState[p] = PageContiguous;
                    }
                    AllocatedPages += pageCount;
                    ContiguousPages += pageCount;
                    byte* address = _base + (long)index * DmaPage.Size;
                    new Span<byte>(address, pageCount * DmaPage.Size).Clear();
                    region = new DmaRegion(address, ToPhysical(address), pageCount * DmaPage.Size);
                    return true;
                }
            }
            FailedAllocations++;
            return false;
        }

        public void FreeContiguous(DmaRegion region)
        {
            int first = PageIndex(region.Physical);
            int count = region.Length / DmaPage.Size;
            if (first < 0 || first + count > _pageCount || region.Virtual != _base + (long)first * DmaPage.Size)
            {
                RecordViolation("FreeContiguous of a region that was not allocated");
                return;
            }
            for (int p = first; p < first + count; p++)
            {
                if (_pageState[p] != PageContiguous)
                {
                    RecordViolation("FreeContiguous over pages that are not a contiguous allocation");
                    return;
                }
            }
            for (int p = first; p < first + count; p++)
            {
                _pageState[p] = PageFree;
            }
            AllocatedPages -= count;
            ContiguousPages -= count;
            new Span<byte>(region.Virtual, region.Length).Fill(0xEE);
        }

        private int PageIndex(ulong physical)
        {
            if (physical < PhysicalBase)
            {
                return -1;
            }
            ulong page = (physical - PhysicalBase) / DmaPage.Size;
            return page < (ulong)_pageCount ? (int)page : -1;
        }

        /// <summary>
        /// The device's view of [physical, physical + length): the CPU pointer when every page of the range is
        /// allocated; otherwise a violation is recorded and null returned.
        /// </summary>
        public byte* DeviceAccess(ulong physical, long length, string what)
        {
            if (length <= 0 || physical < PhysicalBase)
            {
                RecordViolation(what);
                return null;
            }
            ulong offset = physical - PhysicalBase;
            if (offset + (ulong)length > (ulong)_pageCount * DmaPage.Size)
            {
                RecordViolation(what);
                return null;
            }
            int first = (int)(offset / DmaPage.Size);
            int last = (int)((offset + (ulong)length - 1) / DmaPage.Size);
            for (int p = first; p <= last; p++)
            {
                if (_pageState[p] == PageFree)
                {
                    RecordViolation(what);
                    return null;
                }
            }
            return _base + (long)offset;
        }

        /// <summary>Marks [physical, +length) as owned by device queue <paramref name="owner"/> (1-based). False if any part already was.</summary>
        public bool MarkOwned(ulong physical, int length, byte owner)
        {
            long first = (long)(physical - PhysicalBase) / Granule;
            long last = ((long)(physical - PhysicalBase) + length - 1) / Granule;
            bool clean = true;
            for (long g = first; g <= last; g++)
            {
                if (_owner[g] != 0)
                {
                    clean = false;
                }
                _owner[g] = owner;
            }
            return clean;
        }

        /// <summary>Checks the range is owned by <paramref name="owner"/>.</summary>
        public bool IsOwned(ulong physical, int length, byte owner)
        {
            long first = (long)(physical - PhysicalBase) / Granule;
            long last = ((long)(physical - PhysicalBase) + length - 1) / Granule;
            for (long g = first; g <= last; g++)
            {
                if (_owner[g] != owner)
                {
                    return false;
                }
            }
            return true;
        }

        public void ClearOwned(ulong physical, int length)
        {
            long first = (long)(physical - PhysicalBase) / Granule;
            long last = ((long)(physical - PhysicalBase) + length - 1) / Granule;
            for (long g = first; g <= last; g++)
            {
                _owner[g] = 0;
            }
        }

        private void CheckNotOwned(int page, int count, string what)
        {
            int per = DmaPage.Size / Granule;
            for (int g = page * per; g < (page + count) * per; g++)
            {
                if (_owner[g] != 0)
                {
                    RecordViolation(what);
                    return;
                }
            }
        }
    }
}
