using System;
using Keel.Buffers;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    public sealed unsafe partial class ReceiveQueue
    {
        // ---- buffers of several pages: big-mode chains and large mergeable buffers ----
        //
        // Mergeable buffers are page-sized at most in Linux, so a 64 KiB TCP segment from the host (GUEST_TSO) takes
        // 17 of them: the device pops 17 ring entries for it, and a 256-entry ring holds 1 MiB. When the EWMA of
        // packet length says packets are longer than a page, and indirect descriptors are in use, a buffer here is a
        // chain of whole pages in one ring slot (the way big mode posts its chains, but still mergeable: the device
        // fills as many of them as a frame needs and says how many in num_buffers). The frame's pages become the
        // packet's fragments one by one, each charged a whole page of truesize; pages a short frame did not reach go
        // straight back to the pool.

        /// <summary>
        /// Posts one big-mode chain (Linux add_recvbuf_big): a header descriptor at the start of the first page,
        /// the rest of the first page, then whole pages. Each page holds one pool reference.
        /// </summary>
        private bool AddBigBuffer()
        {
            int pages = _bigPagesPerBuffer;
            int head = _ring.NextHead;
            int baseIndex = head * pages;
            if (!TryAllocatePages(_bigPages, baseIndex, pages))
            {
                return false;
            }
            Packet preallocated = null;
            if (_options.PreallocatePackets)
            {
                preallocated = Packets.TryAllocate(RxHeadroom);
                if (preallocated == null)
                {
                    ReleasePageRange(_bigPages, baseIndex, pages);
                    return false;
                }
            }
            ScatterList list = _scatter;
            list.Clear();
            int first = _bigPages[baseIndex];
            list.Add(Pages.Physical(first), _headerLength, true);
            list.Add(Pages.Physical(first) + BigFirstDataOffset, PageSize - BigFirstDataOffset, true);
            for (int k = 1; k < pages; k++)
            {
                list.Add(Pages.Physical(_bigPages[baseIndex + k]), PageSize, true);
            }
            ushort added;
            bool ok = _ring.IndirectEntries > 0 ? _ring.TryAddIndirect(list, out added) : _ring.TryAdd(list, out added);
            if (!ok || added != head)
            {
                ReleasePageRange(_bigPages, baseIndex, pages);
                if (preallocated != null)
                {
                    preallocated.Free();
                }
                return false;
            }
            _page[head] = first;
            _offset[head] = 0;
            _trueSize[head] = pages * PageSize;
            _capacity[head] = _headerLength + pages * PageSize - BigFirstDataOffset;
            _preallocated[head] = preallocated;
            _posted++;
            return true;
        }

        /// <summary>Most pages in one large mergeable buffer (0: page-sized buffers only).</summary>
        private int _largePagesMax;

        /// <summary>Pages of each large buffer, <c>_largePages[head * _largePagesMax + k]</c>.</summary>
        private int[] _largePages;

        /// <summary>
        /// Mergeable mode, first start: allows large buffers when indirect descriptors were agreed and the pool can
        /// pin two pages per ring slot while keeping as many for packets in flight. False when memory ran out.
        /// </summary>
        private bool AllocateLargeBuffers(int ringSize, int poolPages)
        {
            int most = _options.RxBufferPagesMax;
            int byPool = poolPages / (2 * ringSize);
            if (most > byPool)
            {
                most = byPool;
            }
            if (most > Packet.MaxFragments / 2)
            {
                most = Packet.MaxFragments / 2;
            }
            if (most < 2 || !Has(VirtioFeatures.IndirectDescriptors))
            {
                return true;
            }
            int tablePages = (ringSize * most * 16 + PageSize - 1) / PageSize;
            if (!_platform.Dma.TryAllocateContiguous(tablePages, out _indirect))
            {
                return false;
            }
            _ring.SetIndirectTables(_indirect, most);
            _largePagesMax = most;
            _largePages = new int[ringSize * most];
            _scatter = new ScatterList(most);
            return true;
        }

        /// <summary>Most pages one large buffer may have right now (0: large buffers are off).</summary>
        public int LargeBufferPagesMax => _largePagesMax;

        /// <summary>
        /// Pages for the next mergeable buffer: header + EWMA of packet length rounded up to pages, at most
        /// <see cref="_largePagesMax"/>; 0 when one page or less is enough (a carved buffer is posted then).
        /// </summary>
        private int LargeBufferPages()
        {
            if (_largePagesMax == 0)
            {
                return 0;
            }
            int pages = (int)((_headerLength + _averagePacketLength + PageSize - 1) / PageSize);
            if (pages < 2)
            {
                return 0;
            }
            return pages < _largePagesMax ? pages : _largePagesMax;
        }

        /// <summary>Posts one large buffer of <paramref name="pages"/> whole pages as an indirect chain.</summary>
        private bool AddLargeBuffer(int pages)
        {
            int head = _ring.NextHead;
            int baseIndex = head * _largePagesMax;
            if (!TryAllocatePages(_largePages, baseIndex, pages))
            {
                return false;
            }
            Packet preallocated = null;
            if (_options.PreallocatePackets)
            {
                preallocated = Packets.TryAllocate(RxHeadroom);
                if (preallocated == null)
                {
                    ReleasePageRange(_largePages, baseIndex, pages);
                    return false;
                }
            }
            ScatterList list = _scatter;
            list.Clear();
            for (int k = 0; k < pages; k++)
            {
                list.Add(Pages.Physical(_largePages[baseIndex + k]), PageSize, true);
            }
            ushort added;
            if (!_ring.TryAddIndirect(list, out added) || added != head)
            {
                ReleasePageRange(_largePages, baseIndex, pages);
                if (preallocated != null)
                {
                    preallocated.Free();
                }
                return false;
            }
            _page[head] = _largePages[baseIndex];
            _offset[head] = 0;
            _trueSize[head] = pages * PageSize;
            _capacity[head] = pages * PageSize;
            _preallocated[head] = preallocated;
            _posted++;
            Stats.LargeBuffers++;
            return true;
        }

        /// <summary>
        /// Takes <paramref name="count"/> pool pages into <paramref name="pages"/> from <paramref name="baseIndex"/>
        /// (a big chain's or a large buffer's); when the pool runs dry, gives back those taken and returns false.
        /// </summary>
        private bool TryAllocatePages(int[] pages, int baseIndex, int count)
        {
            for (int k = 0; k < count; k++)
            {
                int page;
                if (!Pages.TryAllocate(out page))
                {
                    ReleasePageRange(pages, baseIndex, k);
                    return false;
                }
                pages[baseIndex + k] = page;
            }
            return true;
        }

        private void ReleasePageRange(int[] pages, int baseIndex, int count)
        {
            for (int k = 0; k < count; k++)
            {
                Pages.Release(pages[baseIndex + k]);
            }
        }

        /// <summary>Pages in the buffer of <paramref name="head"/> (0: a carved buffer).</summary>
        /// <remarks>
        /// Read from the capacity, which the receive path reads anyway: only a large buffer holds more than a page
        /// (a carved buffer's true size never exceeds its page, a small buffer is 12 + 1518 bytes), so small
        /// frames touch no extra per-id array.
        /// </remarks>
        private int LargeCount(int head)
        {
            int capacity = _capacity[head];
            return capacity > PageSize ? capacity / PageSize : 0;
        }

        /// <summary>Gives back the page references a mergeable or small buffer holds (not its ablation packet).</summary>
        private void ReleasePages(int head)
        {
            int count = LargeCount(head);
            if (count == 0)
            {
                Pages.Release(_page[head]);
                return;
            }
            ReleasePageRange(_largePages, head * _largePagesMax, count);
        }

        /// <summary>
        /// Appends bytes [<paramref name="from"/>, <paramref name="to"/>) of the large buffer of
        /// <paramref name="head"/> to <paramref name="packet"/>, one fragment per page; the packet takes over the
        /// reference of every page it gets a fragment of, the other pages go back to the pool.
        /// </summary>
        private void AppendLargeBuffer(Packet packet, int head, int from, int to)
        {
            int baseIndex = head * _largePagesMax;
            int count = LargeCount(head);
            for (int k = 0; k < count; k++)
            {
                int page = _largePages[baseIndex + k];
                int start = k * PageSize;
                int begin = from > start ? from : start;
                int end = to < start + PageSize ? to : start + PageSize;
                if (end > begin)
                {
                    packet.AppendFragment(Pages, page, begin - start, end - begin, PageSize);
                }
                else
                {
                    Pages.Release(page);
                }
            }
        }

        /// <summary>Pages of a large buffer that hold data when <paramref name="length"/> bytes were written.</summary>
        private static int PagesUsed(int length) => (length + PageSize - 1) / PageSize;
    }
}
