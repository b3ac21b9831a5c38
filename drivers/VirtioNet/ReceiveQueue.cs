using System;
using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// One receive queue of a virtio-net device (Linux struct receive_queue): its virtqueue, page pool and packet
    /// pool, the per-descriptor-id buffer context, the mergeable-length EWMA, refill with its retry timer, the
    /// NAPI interrupt state and its counters. Buffers follow Linux drivers/net/virtio_net.c: mergeable page
    /// fragments carved from a premapped <see cref="PagePool"/> sized by an EWMA of packet length; packets are
    /// built only when data arrives (header copy + page fragments); small buffers and big page chains as
    /// fallbacks; large mergeable buffers of several pages when packets are longer than a page; every
    /// device-supplied value is checked and counted.
    /// Files: this one (buffers, refill), <c>ReceiveQueue.LargeBuffers.cs</c> (big chains, large mergeable
    /// buffers), <c>ReceiveQueue.Packets.cs</c> (building packets), <c>ReceiveQueue.Napi.cs</c> (poll state).
    /// </summary>
    public sealed unsafe partial class ReceiveQueue
    {
        /// <summary>Frames up to this length are copied whole into a packet's linear area (Linux GOOD_COPY_LEN).</summary>
        public const int GoodCopyLength = 128;

        /// <summary>
        /// Bytes of a frame's first buffer copied into the linear area: all of a frame of up to
        /// <see cref="GoodCopyLength"/>, else its headers only (Linux eth_get_headlen, as igb/ixgbe use it):
        /// Ethernet, IPv4 or IPv6 (with its hop-by-hop, routing, fragment and destination options headers, at most
        /// <see cref="MaxExtensionHeaders"/>) and the TCP or UDP header of a first fragment, read from the frame
        /// with every length checked against <paramref name="firstLength"/>; only the Ethernet header for anything
        /// else (Linux page_to_skb), the
        /// stack pulling the rest with <c>Packet.EnsureLinear</c>. A segment's payload is then entirely in page
        /// fragments, so TCP can coalesce it with its neighbours without a copy, and the stack finds its headers
        /// without copying them out of the fragment.
        /// </summary>
        internal static int CopyLength(byte* frame, int firstLength)
        {
            if (firstLength <= GoodCopyLength)
            {
                return firstLength;
            }
            const int Ip = EthernetFrame.HeaderLength;
            int l4;
            int protocol;
            bool firstFragment;
            if (frame[12] == 0x08 && frame[13] == 0x00 && (frame[Ip] >> 4) == 4)
            {
                int ipLength = (frame[Ip] & 15) * 4;
                if (ipLength < 20)
                {
                    return EthernetFrame.HeaderLength;
                }
                l4 = Ip + ipLength;
                protocol = frame[Ip + 9];
                firstFragment = (frame[Ip + 6] & 0x1F) == 0 && frame[Ip + 7] == 0;
            }
            else if (frame[12] == 0x86 && frame[13] == 0xDD && (frame[Ip] >> 4) == 6 && Ip + 40 <= firstLength)
            {
                l4 = Ipv6TransportOffset(frame, firstLength, out protocol, out firstFragment);
                if (l4 < 0)
                {
                    return EthernetFrame.HeaderLength;
                }
            }
            else
            {
                return EthernetFrame.HeaderLength;
            }
            int length = l4;
            if (firstFragment && protocol == 6 && l4 + 13 < firstLength)
            {
                int tcpLength = (frame[l4 + 12] >> 4) * 4;
                length = tcpLength >= 20 ? l4 + tcpLength : l4;
            }
            else if (firstFragment && protocol == 17)
            {
                length = l4 + 8;
            }
            return length < firstLength && length <= GoodCopyLength ? length : EthernetFrame.HeaderLength;
        }

        /// <summary>Extension headers the header copy walks behind an IPv6 header; a longer chain is left to the stack.</summary>
        public const int MaxExtensionHeaders = 4;

        /// <summary>
        /// Where the upper-layer header of an IPv6 frame starts (frame-relative), behind the extension headers
        /// that lie within <paramref name="firstLength"/>; its type in <paramref name="protocol"/>, and whether the
        /// packet is unfragmented or a first fragment. -1 when the chain is longer than
        /// <see cref="MaxExtensionHeaders"/> or leaves the first buffer.
        /// </summary>
        private static int Ipv6TransportOffset(byte* frame, int firstLength, out int protocol, out bool firstFragment)
        {
            const int Ip = EthernetFrame.HeaderLength;
            int at = Ip + 40;
            int next = frame[Ip + 6];
            firstFragment = true;
            for (int headers = 0; headers <= MaxExtensionHeaders; headers++)
            {
                if (next != 0 && next != 43 && next != 44 && next != 60)
                {
                    protocol = next;
                    return at;
                }
                if (headers == MaxExtensionHeaders || at + 8 > firstLength)
                {
                    break;
                }
                if (next == 44)
                {
                    // Fragment header: offset in the upper 13 bits of bytes 2-3.
                    firstFragment = ((frame[at + 2] << 8 | frame[at + 3]) & 0xFFF8) == 0;
                    next = frame[at];
                    at += 8;
                }
                else
                {
                    next = frame[at];
                    at += (frame[at + 1] + 1) * 8;
                }
            }
            protocol = -1;
            return -1;
        }

        /// <summary>Largest frame a small buffer holds: 1514 + VLAN tag (Linux GOOD_PACKET_LEN).</summary>
        public const int GoodPacketLength = 1518;

        /// <summary>Headroom of received packets: room for <see cref="Packet.EnsureLinear"/> behind 128 copied bytes.</summary>
        public const int RxHeadroom = 64;

        /// <summary>Receive buffer sizes are rounded up to this (Linux L1_CACHE_BYTES).</summary>
        public const int CacheLine = 64;

        /// <summary>Largest IP packet (Linux IP_MAX_MTU), the packet size a mergeable ring must hold with GSO.</summary>
        private const int IpMaxMtu = 65535;

        /// <summary>VLAN tag length (Linux VLAN_HLEN).</summary>
        private const int VlanHeaderLength = 4;

        /// <summary>Big mode: payload starts this far into the first page (the header has its own descriptor).</summary>
        private const int BigFirstDataOffset = 64;

        /// <summary>Big mode: pages per buffer chain when GSO packets (64 KiB) must fit.</summary>
        private const int BigPagesForGso = 17;

        private const int PageSize = DmaPage.Size;


        private readonly VirtioNetDevice _device;
        private readonly VirtioNetOptions _options;
        private readonly VirtioNetPlatform _platform;
        private readonly IVirtioTransport _transport;
        private readonly RefillTimerWork _refillTimerWork;
        private readonly int _refillTimer;
        private readonly Interrupt _interrupt;
        private readonly NapiWork _napiWork;
        private readonly int _napiHandle;
        private readonly int _pair;
        private Virtqueue _ring;
        private ReceiveMode _mode;
        private int _headerLength;
        private ulong _features;

        /// <summary>Counters of this queue (Linux virtnet_rq_stats).</summary>
        internal ReceiveQueueStats Stats;

        public ReceiveQueue(VirtioNetDevice device, int pair, VirtioNetOptions options, VirtioNetPlatform platform)
        {
            _pair = pair;
            _device = device;
            _options = options;
            _platform = platform;
            _transport = device.Core.Transport;
            _refillTimerWork = new RefillTimerWork(this);
            _refillTimer = platform.Timers.CreateTimer(_refillTimerWork);
            _interrupt = new Interrupt(this);
            _napiWork = new NapiWork(this);
            _napiHandle = platform.Work.Register(_napiWork);
        }

        /// <summary>Queue pair number (receive queue 2 × pair).</summary>
        public int Pair => _pair;

        /// <summary>Schedules this queue pair's NAPI poll (Linux napi_schedule).</summary>
        internal void ScheduleNapi()
        {
            _platform.Work.Schedule(_napiHandle);
        }

        /// <summary>The virtqueue (null before the first start).</summary>
        public Virtqueue Ring => _ring;

        /// <summary>Polls so far and whether used buffers wait (for a stall watchdog; nothing waits before the first start).</summary>
        public ReceiveProgress Progress => new ReceiveProgress(Stats.Polls, _ring != null && _ring.HasUsed);

        /// <summary>Receive page pool (premapped pages; recycling per <see cref="VirtioNetOptions.PagePoolRecycling"/>).</summary>
        public PagePool Pages { get; private set; }

        /// <summary>Packets built on receive come from here.</summary>
        public PacketPool Packets { get; private set; }

        /// <summary>Interrupt handler of this queue (MSI-X vector, or called from the INTx demultiplexer).</summary>
        internal IInterruptHandler InterruptHandler => _interrupt;

        private bool Has(ulong feature) => (_features & feature) != 0;

        /// <summary>Big mode: pages in each buffer chain (first page holds header + start of data).</summary>
        private int _bigPagesPerBuffer;

        /// <summary>Descriptors one receive buffer uses (1, or 1 + pages in big mode).</summary>
        private int _descriptorsPerBuffer;

        /// <summary>Smallest mergeable buffer payload: a full ring must hold one maximum-size packet (Linux min_buf_len).</summary>
        private int _mergeableMinLength;

        /// <summary>
        /// EWMA of received packet length, Linux DECLARE_EWMA(pkt_len, 0, 64): precision 0, weight 1/64,
        /// 0 before the first sample.
        /// </summary>
        private uint _averagePacketLength;

        // Per-descriptor-id receive context. A receive buffer is named by the head id of its descriptor
        // chain; these arrays (made at start-up, sized to the ring) say what memory that id carries, so
        // posting and taking buffers never allocates.

        /// <summary>Pool page of the buffer whose head descriptor is the index (big mode: the first page).</summary>
        private int[] _page;

        /// <summary>Offset of the buffer inside its page (where the virtio header is written).</summary>
        private int[] _offset;

        /// <summary>
        /// True size of the buffer: the bytes it pins (descriptor length plus any page tail given to it,
        /// Linux truesize); charged to packets built from it and the limit for the device's used length.
        /// </summary>
        private int[] _trueSize;

        /// <summary>Bytes the device may write into the buffer (the descriptor chain's total length).</summary>
        private int[] _capacity;

        /// <summary>Ablation only: the packet taken when the buffer was posted (pre-2009 design); else null.</summary>
        private Packet[] _preallocated;

        /// <summary>Big mode: pages of each chain, <c>_bigPages[head * _bigPagesPerBuffer + k]</c>.</summary>
        private int[] _bigPages;

        /// <summary>Scatter list for big-mode chains (header + one element per page).</summary>
        private ScatterList _scatter;

        /// <summary>Page being carved into mergeable/small buffers (the carver holds one reference on it), or -1.</summary>
        private int _carvePage = -1;

        /// <summary>Next free byte in <see cref="_carvePage"/>.</summary>
        private int _carveOffset;

        /// <summary>Receive buffers currently posted to the device.</summary>
        private int _posted;

        /// <summary>True while the refill timer is armed after running out of memory.</summary>
        private bool _refillTimerArmed;

        /// <summary>Current mergeable buffer length (header included), for tests and statistics.</summary>
        public int MergeableBufferLength => _mode == ReceiveMode.Mergeable ? MergeableLength() : 0;

        /// <summary>Receive buffers posted to the device right now.</summary>
        public int BuffersPosted => _posted;

        /// <summary>Big mode with indirect descriptors: most chains posted at once.</summary>
        private const int BigIndirectChains = 64;

        /// <summary>Most receive buffers posted at once (the ring size, except big mode with indirect tables).</summary>
        private int _maxPosted;

        /// <summary>Indirect tables of the receive queue (big mode only).</summary>
        private DmaRegion _indirect;

        /// <summary>
        /// Takes <paramref name="ring"/> and makes every array and pool this queue will ever need, shaped for the
        /// receive mode (first start only). False when memory ran out.
        /// </summary>
        public bool Allocate(Virtqueue ring)
        {
            _ring = ring;
            int ringSize = ring.Size;
            _mode = _device.Mode;
            _headerLength = _device.HeaderLength;
            _features = _device.NegotiatedFeatures;
            _maxPosted = ringSize;
            _page = new int[ringSize];
            _offset = new int[ringSize];
            _trueSize = new int[ringSize];
            _capacity = new int[ringSize];
            _preallocated = new Packet[ringSize];
            _descriptorsPerBuffer = 1;
            int poolPages = _options.RxPoolPages > 0 ? _options.RxPoolPages : 4 * ringSize;
            if (_mode == ReceiveMode.Big)
            {
                bool guestGso = Has(VirtioNetFeatures.GuestTso4) || Has(VirtioNetFeatures.GuestTso6);
                int frame = EthernetFrame.HeaderLength + VlanHeaderLength + _device.Mtu;
                int pages = guestGso ? BigPagesForGso : (frame + BigFirstDataOffset + PageSize - 1) / PageSize;
                if (pages > Packet.MaxFragments - 1)
                {
                    pages = Packet.MaxFragments - 1;
                }
                _bigPagesPerBuffer = pages;
                _descriptorsPerBuffer = 1 + pages;
                _bigPages = new int[ringSize * pages];
                _scatter = new ScatterList(1 + pages);
                if (Has(VirtioFeatures.IndirectDescriptors))
                {
                    // One ring slot per chain through an indirect table (Linux add_recvbuf_big with indirect
                    // descriptors); the number of chains posted is capped instead, or a ring of 64 KiB chains
                    // would pin 17 pages per slot.
                    int tablePages = (ringSize * (1 + pages) * 16 + PageSize - 1) / PageSize;
                    if (!_platform.Dma.TryAllocateContiguous(tablePages, out _indirect))
                    {
                        return false;
                    }
                    _ring.SetIndirectTables(_indirect, 1 + pages);
                    _descriptorsPerBuffer = 1;
                    _maxPosted = BigIndirectChains < ringSize ? BigIndirectChains : ringSize;
                }
                int chains = _maxPosted < ringSize / _descriptorsPerBuffer ? _maxPosted : ringSize / _descriptorsPerBuffer;
                if (_options.RxPoolPages <= 0)
                {
                    poolPages = 2 * (chains + 1) * pages + 64;
                }
            }
            else if (_mode == ReceiveMode.Mergeable)
            {
                int packetLength = _device.BigPackets || !Has(VirtioNetFeatures.Mtu) ? IpMaxMtu : _device.Mtu;
                int bufferLength = _headerLength + EthernetFrame.HeaderLength + VlanHeaderLength + packetLength;
                int minimum = (bufferLength + ringSize - 1) / ringSize;
                if (minimum < _headerLength)
                {
                    minimum = _headerLength;
                }
                minimum -= _headerLength;
                if (minimum < GoodPacketLength)
                {
                    minimum = GoodPacketLength;
                }
                if (minimum > PageSize - _headerLength)
                {
                    minimum = PageSize - _headerLength;
                }
                _mergeableMinLength = minimum;
            }
            Pages = new PagePool(_platform.Pages, poolPages);
            Pages.RecycleEnabled = _options.PagePoolRecycling;
            int packets = _options.RxPackets > 0 ? _options.RxPackets : 2 * ringSize;
            if (_options.PreallocatePackets && packets < ringSize + 64)
            {
                packets = ringSize + 64;
            }
            Packets = PacketPool.Create(_platform.Pages, packets);
            if (Packets == null)
            {
                return false;
            }
            // Last, so the pools above land where they would without large buffers.
            return _mode != ReceiveMode.Mergeable || AllocateLargeBuffers(ringSize, poolPages);
        }

        /// <summary>Cancels the refill retry (stop, reset).</summary>
        internal void CancelTimers()
        {
            _platform.Timers.Cancel(_refillTimer);
            _refillTimerArmed = false;
        }

        /// <summary>After a device reset: every buffer still in the ring comes back (pages to the pool).</summary>
        internal void TakeBackAll()
        {
            ushort head;
            while (_ring.DetachUnused(out head))
            {
                ReleaseBuffer(head);
                _posted--;
            }
            ReleaseCarvePage();
        }

        /// <summary>Gives the indirect tables back (ring memory is the device core's).</summary>
        internal void ReleaseDma()
        {
            if (_indirect.IsValid)
            {
                _platform.Dma.FreeContiguous(_indirect);
                _indirect = default;
            }
        }


        // ---- posting buffers ----

        /// <summary>
        /// Mergeable buffer length (Linux get_mergeable_buf_len): header + EWMA of packet length clamped to
        /// [minimum for a full ring to hold a maximum packet, page − header], rounded up to a cache line.
        /// </summary>
        private int MergeableLength()
        {
            int average = (int)_averagePacketLength;
            int payload = average < _mergeableMinLength ? _mergeableMinLength : average;
            if (payload > PageSize - _headerLength)
            {
                payload = PageSize - _headerLength;
            }
            return (_headerLength + payload + CacheLine - 1) & ~(CacheLine - 1);
        }

        private void AddPacketLengthSample(int length)
        {
            uint value = (uint)length;
            uint internalValue = _averagePacketLength;
            _averagePacketLength = internalValue == 0 ? value : ((internalValue << 6) - internalValue + value) >> 6;
        }

        /// <summary>
        /// Fills the receive ring until it is full or memory runs out (Linux try_fill_recv), then notifies the
        /// device once. Out of memory arms the refill timer, so an empty ring is always retried.
        /// Returns false when memory ran out.
        /// </summary>
        public bool Refill(bool kick)
        {
            bool outOfMemory = false;
            int added = 0;
            while (_ring.FreeCount >= _descriptorsPerBuffer && _posted < _maxPosted)
            {
                bool ok;
                if (_mode == ReceiveMode.Big)
                {
                    ok = AddBigBuffer();
                }
                else
                {
                    ok = AddFragmentBuffer();
                }
                if (!ok)
                {
                    outOfMemory = true;
                    break;
                }
                added++;
            }
            if (added > 0 && kick)
            {
                Kick();
            }
            if (outOfMemory)
            {
                Stats.RefillFailures++;
                if (!_refillTimerArmed)
                {
                    _refillTimerArmed = true;
                    _platform.Timers.Start(_refillTimer, Duration.FromNanoseconds(_options.RefillRetryNanoseconds));
                }
            }
            return !outOfMemory;
        }

        internal void OnRefillTimer()
        {
            _refillTimerArmed = false;
            if (!_device.IsRunning)
            {
                return;
            }
            Stats.RefillRetries++;
            Refill(true);
        }

        public void Kick()
        {
            if (_device.IsRunning && _ring.KickPrepare())
            {
                _transport.NotifyQueue(_ring.QueueIndex);
                Stats.Kicks++;
            }
        }

        /// <summary>
        /// Carves one buffer of <paramref name="length"/> bytes from the current page (Linux page_frag): each
        /// buffer holds one page reference; when the rest of the page could not hold another buffer of this
        /// length it is given to this one (so truesize is not under-counted) and the carver lets go of the page.
        /// </summary>
        private bool TryCarve(int length, out int page, out int offset, out int trueSize)
        {
            if (_carvePage < 0)
            {
                int fresh;
                if (!Pages.TryAllocate(out fresh))
                {
                    page = -1;
                    offset = 0;
                    trueSize = 0;
                    return false;
                }
                _carvePage = fresh;
                _carveOffset = 0;
            }
            page = _carvePage;
            offset = _carveOffset;
            Pages.AddRef(page, 1);
            _carveOffset += length;
            trueSize = length;
            int hole = PageSize - _carveOffset;
            if (hole < length)
            {
                trueSize += hole;
                ReleaseCarvePage();
            }
            return true;
        }

        internal void ReleaseCarvePage()
        {
            if (_carvePage >= 0)
            {
                Pages.Release(_carvePage);
                _carvePage = -1;
                _carveOffset = 0;
            }
        }

        /// <summary>Posts one mergeable or small buffer (one descriptor, carved from a pool page).</summary>
        private bool AddFragmentBuffer()
        {
            int largePages = _mode == ReceiveMode.Mergeable ? LargeBufferPages() : 0;
            if (largePages > 0)
            {
                return AddLargeBuffer(largePages);
            }
            int length = _mode == ReceiveMode.Mergeable
                ? MergeableLength()
                : (_headerLength + GoodPacketLength + CacheLine - 1) & ~(CacheLine - 1);
            int page, offset, trueSize;
            if (!TryCarve(length, out page, out offset, out trueSize))
            {
                return false;
            }
            Packet preallocated = null;
            if (_options.PreallocatePackets)
            {
                preallocated = Packets.TryAllocate(RxHeadroom);
                if (preallocated == null)
                {
                    Pages.Release(page);
                    return false;
                }
            }
            // Mergeable: the device may fill the whole true size. Small: exactly header + GOOD_PACKET_LEN.
            int capacity = _mode == ReceiveMode.Mergeable ? trueSize : _headerLength + GoodPacketLength;
            ushort head;
            if (!_ring.TryAddOne(Pages.Physical(page) + (ulong)offset, capacity, true, out head))
            {
                Pages.Release(page);
                if (preallocated != null)
                {
                    preallocated.Free();
                }
                return false;
            }
            _page[head] = page;
            _offset[head] = offset;
            _trueSize[head] = trueSize;
            _capacity[head] = capacity;
            _preallocated[head] = preallocated;
            _posted++;
            return true;
        }

        /// <summary>Gives back everything a posted buffer holds (its page references, an ablation packet).</summary>
        private void ReleaseBuffer(int head)
        {
            if (_mode == ReceiveMode.Big)
            {
                ReleasePageRange(_bigPages, head * _bigPagesPerBuffer, _bigPagesPerBuffer);
            }
            else
            {
                ReleasePages(head);
            }
            Packet preallocated = _preallocated[head];
            if (preallocated != null)
            {
                _preallocated[head] = null;
                preallocated.Free();
            }
        }

    }
}
