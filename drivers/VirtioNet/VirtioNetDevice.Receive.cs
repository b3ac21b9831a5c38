using System;
using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    public sealed unsafe partial class VirtioNetDevice
    {
        /// <summary>Bytes copied into a packet's linear area (Linux GOOD_COPY_LEN).</summary>
        public const int GoodCopyLength = 128;

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

        /// <summary>True when the device may send packets larger than 1514 bytes (GUEST_TSO or MTU &gt; 1500).</summary>
        private bool _bigPackets;

        /// <summary>Big mode: pages in each buffer chain (first page holds header + start of data).</summary>
        private int _bigPagesPerBuffer;

        /// <summary>Descriptors one receive buffer uses (1, or 1 + pages in big mode).</summary>
        private int _rxDescriptorsPerBuffer;

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
        private int[] _rxPage;

        /// <summary>Offset of the buffer inside its page (where the virtio header is written).</summary>
        private int[] _rxOffset;

        /// <summary>
        /// True size of the buffer: the bytes it pins (descriptor length plus any page tail given to it,
        /// Linux truesize); charged to packets built from it and the limit for the device's used length.
        /// </summary>
        private int[] _rxTrueSize;

        /// <summary>Bytes the device may write into the buffer (the descriptor chain's total length).</summary>
        private int[] _rxCapacity;

        /// <summary>Ablation only: the packet taken when the buffer was posted (pre-2009 design); else null.</summary>
        private Packet[] _rxPacket;

        /// <summary>Big mode: pages of each chain, <c>_bigPages[head * _bigPagesPerBuffer + k]</c>.</summary>
        private int[] _bigPages;

        /// <summary>Scatter list for big-mode chains (header + one element per page).</summary>
        private ScatterList _rxScatter;

        /// <summary>Page being carved into mergeable/small buffers (the carver holds one reference on it), or -1.</summary>
        private int _carvePage = -1;

        /// <summary>Next free byte in <see cref="_carvePage"/>.</summary>
        private int _carveOffset;

        /// <summary>Receive buffers currently posted to the device.</summary>
        private int _rxPosted;

        /// <summary>True while the refill timer is armed after running out of memory.</summary>
        private bool _refillTimerArmed;

        /// <summary>Current mergeable buffer length (header included), for tests and statistics.</summary>
        public int MergeableBufferLength => Mode == ReceiveMode.Mergeable ? MergeableLength() : 0;

        /// <summary>Receive buffers posted to the device right now.</summary>
        public int RxBuffersPosted => _rxPosted;

        /// <summary>Big mode with indirect descriptors: most chains posted at once.</summary>
        private const int BigIndirectChains = 64;

        /// <summary>Most receive buffers posted at once (the ring size, except big mode with indirect tables).</summary>
        private int _rxMaxPosted;

        /// <summary>Indirect tables of the receive queue (big mode only).</summary>
        private DmaRegion _rxIndirect;

        private bool AllocateReceiveResources(int ringSize)
        {
            _rxMaxPosted = ringSize;
            _rxPage = new int[ringSize];
            _rxOffset = new int[ringSize];
            _rxTrueSize = new int[ringSize];
            _rxCapacity = new int[ringSize];
            _rxPacket = new Packet[ringSize];
            _rxDescriptorsPerBuffer = 1;
            int poolPages = _options.RxPoolPages > 0 ? _options.RxPoolPages : 4 * ringSize;
            if (Mode == ReceiveMode.Big)
            {
                bool guestGso = Has(VirtioNetFeatures.GuestTso4) || Has(VirtioNetFeatures.GuestTso6);
                int frame = EthernetHeaderLength + VlanHeaderLength + Mtu;
                int pages = guestGso ? BigPagesForGso : (frame + BigFirstDataOffset + PageSize - 1) / PageSize;
                if (pages > Packet.MaxFragments - 1)
                {
                    pages = Packet.MaxFragments - 1;
                }
                _bigPagesPerBuffer = pages;
                _rxDescriptorsPerBuffer = 1 + pages;
                _bigPages = new int[ringSize * pages];
                _rxScatter = new ScatterList(1 + pages);
                if (Has(VirtioFeatures.IndirectDescriptors))
                {
                    // One ring slot per chain through an indirect table (Linux add_recvbuf_big with indirect
                    // descriptors); the number of chains posted is capped instead, or a ring of 64 KiB chains
                    // would pin 17 pages per slot.
                    int tablePages = (ringSize * (1 + pages) * 16 + PageSize - 1) / PageSize;
                    if (!_platform.Dma.TryAllocateContiguous(tablePages, out _rxIndirect))
                    {
                        return false;
                    }
                    _rxQueue.SetIndirectTables(_rxIndirect, 1 + pages);
                    _rxDescriptorsPerBuffer = 1;
                    _rxMaxPosted = BigIndirectChains < ringSize ? BigIndirectChains : ringSize;
                }
                int chains = _rxMaxPosted < ringSize / _rxDescriptorsPerBuffer ? _rxMaxPosted : ringSize / _rxDescriptorsPerBuffer;
                if (_options.RxPoolPages <= 0)
                {
                    poolPages = 2 * (chains + 1) * pages + 64;
                }
            }
            else if (Mode == ReceiveMode.Mergeable)
            {
                int packetLength = _bigPackets || !Has(VirtioNetFeatures.Mtu) ? IpMaxMtu : Mtu;
                int bufferLength = HeaderLength + EthernetHeaderLength + VlanHeaderLength + packetLength;
                int minimum = (bufferLength + ringSize - 1) / ringSize;
                if (minimum < HeaderLength)
                {
                    minimum = HeaderLength;
                }
                minimum -= HeaderLength;
                if (minimum < GoodPacketLength)
                {
                    minimum = GoodPacketLength;
                }
                if (minimum > PageSize - HeaderLength)
                {
                    minimum = PageSize - HeaderLength;
                }
                _mergeableMinLength = minimum;
            }
            RxPagePool = new PagePool(_platform.Pages, poolPages);
            RxPagePool.RecycleEnabled = _options.PagePoolRecycling;
            int packets = _options.RxPackets > 0 ? _options.RxPackets : 2 * ringSize;
            if (_options.PreallocatePackets && packets < ringSize + 64)
            {
                packets = ringSize + 64;
            }
            RxPackets = PacketPool.Create(_platform.Pages, packets);
            return RxPackets != null;
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
            if (payload > PageSize - HeaderLength)
            {
                payload = PageSize - HeaderLength;
            }
            return (HeaderLength + payload + CacheLine - 1) & ~(CacheLine - 1);
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
        private bool RefillRx(bool kick)
        {
            bool outOfMemory = false;
            int added = 0;
            while (_rxQueue.FreeCount >= _rxDescriptorsPerBuffer && _rxPosted < _rxMaxPosted)
            {
                bool ok;
                if (Mode == ReceiveMode.Big)
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
                KickRx();
            }
            if (outOfMemory)
            {
                _refillFailures++;
                if (!_refillTimerArmed)
                {
                    _refillTimerArmed = true;
                    _platform.Timers.Start(_refillTimer, _options.RefillRetryNanoseconds);
                }
            }
            return !outOfMemory;
        }

        private void OnRefillTimer()
        {
            _refillTimerArmed = false;
            if (!_running)
            {
                return;
            }
            _refillTimerRuns++;
            RefillRx(true);
        }

        private void KickRx()
        {
            if (_running && _rxQueue.KickPrepare())
            {
                _transport.NotifyQueue(RxQueueIndex);
                _rxKicks++;
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
                if (!RxPagePool.TryAllocate(out fresh))
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
            RxPagePool.AddRef(page, 1);
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

        private void ReleaseCarvePage()
        {
            if (_carvePage >= 0)
            {
                RxPagePool.Release(_carvePage);
                _carvePage = -1;
                _carveOffset = 0;
            }
        }

        /// <summary>Posts one mergeable or small buffer (one descriptor, carved from a pool page).</summary>
        private bool AddFragmentBuffer()
        {
            int length = Mode == ReceiveMode.Mergeable
                ? MergeableLength()
                : (HeaderLength + GoodPacketLength + CacheLine - 1) & ~(CacheLine - 1);
            int page, offset, trueSize;
            if (!TryCarve(length, out page, out offset, out trueSize))
            {
                return false;
            }
            Packet preallocated = null;
            if (_options.PreallocatePackets)
            {
                preallocated = RxPackets.TryAllocate(RxHeadroom);
                if (preallocated == null)
                {
                    RxPagePool.Release(page);
                    return false;
                }
            }
            // Mergeable: the device may fill the whole true size. Small: exactly header + GOOD_PACKET_LEN.
            int capacity = Mode == ReceiveMode.Mergeable ? trueSize : HeaderLength + GoodPacketLength;
            ushort head;
            if (!_rxQueue.TryAddOne(RxPagePool.Physical(page) + (ulong)offset, capacity, true, out head))
            {
                RxPagePool.Release(page);
                if (preallocated != null)
                {
                    preallocated.Free();
                }
                return false;
            }
            _rxPage[head] = page;
            _rxOffset[head] = offset;
            _rxTrueSize[head] = trueSize;
            _rxCapacity[head] = capacity;
            _rxPacket[head] = preallocated;
            _rxPosted++;
            return true;
        }

        /// <summary>
        /// Posts one big-mode chain (Linux add_recvbuf_big): a header descriptor at the start of the first page,
        /// the rest of the first page, then whole pages. Each page holds one pool reference.
        /// </summary>
        private bool AddBigBuffer()
        {
            int pages = _bigPagesPerBuffer;
            int head = _rxQueue.NextHead;
            int baseIndex = head * pages;
            for (int k = 0; k < pages; k++)
            {
                int page;
                if (!RxPagePool.TryAllocate(out page))
                {
                    for (int j = 0; j < k; j++)
                    {
                        RxPagePool.Release(_bigPages[baseIndex + j]);
                    }
                    return false;
                }
                _bigPages[baseIndex + k] = page;
            }
            Packet preallocated = null;
            if (_options.PreallocatePackets)
            {
                preallocated = RxPackets.TryAllocate(RxHeadroom);
                if (preallocated == null)
                {
                    for (int j = 0; j < pages; j++)
                    {
                        RxPagePool.Release(_bigPages[baseIndex + j]);
                    }
                    return false;
                }
            }
            ScatterList list = _rxScatter;
            list.Clear();
            int first = _bigPages[baseIndex];
            list.Add(RxPagePool.Physical(first), HeaderLength, true);
            list.Add(RxPagePool.Physical(first) + BigFirstDataOffset, PageSize - BigFirstDataOffset, true);
            for (int k = 1; k < pages; k++)
            {
                list.Add(RxPagePool.Physical(_bigPages[baseIndex + k]), PageSize, true);
            }
            ushort added;
            bool ok = _rxQueue.IndirectEntries > 0 ? _rxQueue.TryAddIndirect(list, out added) : _rxQueue.TryAdd(list, out added);
            if (!ok || added != head)
            {
                for (int j = 0; j < pages; j++)
                {
                    RxPagePool.Release(_bigPages[baseIndex + j]);
                }
                if (preallocated != null)
                {
                    preallocated.Free();
                }
                return false;
            }
            _rxPage[head] = first;
            _rxOffset[head] = 0;
            _rxTrueSize[head] = pages * PageSize;
            _rxCapacity[head] = HeaderLength + pages * PageSize - BigFirstDataOffset;
            _rxPacket[head] = preallocated;
            _rxPosted++;
            return true;
        }

        /// <summary>Gives back everything a posted buffer holds (its page references, an ablation packet).</summary>
        private void ReleaseRxBuffer(int head)
        {
            if (Mode == ReceiveMode.Big)
            {
                int baseIndex = head * _bigPagesPerBuffer;
                for (int k = 0; k < _bigPagesPerBuffer; k++)
                {
                    RxPagePool.Release(_bigPages[baseIndex + k]);
                }
            }
            else
            {
                RxPagePool.Release(_rxPage[head]);
            }
            Packet preallocated = _rxPacket[head];
            if (preallocated != null)
            {
                _rxPacket[head] = null;
                preallocated.Free();
            }
        }

        // ---- receiving ----

        /// <summary>Takes up to <paramref name="budget"/> frames from the used ring. Returns how many it handled.</summary>
        private int ReceiveBatch(int budget)
        {
            int done = 0;
            while (done < budget && _running)
            {
                ushort head;
                int length;
                UsedResult result = _rxQueue.TryGetUsed(out head, out length);
                if (result == UsedResult.Empty)
                {
                    break;
                }
                if (result == UsedResult.Broken)
                {
                    RequestReset();
                    break;
                }
                if (result == UsedResult.BadId)
                {
                    _rxBadIds++;
                    _rxFrameErrors++;
                    continue;
                }
                _rxPosted--;
                done++;
                if (Mode == ReceiveMode.Big)
                {
                    ReceiveBig(head, length);
                }
                else
                {
                    ReceiveFragments(head, length);
                }
            }
            return done;
        }

        /// <summary>Drops a frame whose head buffer has been taken: counts it, frees its buffers.</summary>
        private void DropHead(int head)
        {
            ReleaseRxBuffer(head);
            _rxDrops++;
        }

        /// <summary>
        /// Takes and frees the <paramref name="count"/> further buffers of a dropped mergeable frame (Linux
        /// mergeable_buf_free). Missing buffers are counted as length errors.
        /// </summary>
        private void DiscardBuffers(int count)
        {
            while (count > 0)
            {
                ushort head;
                int length;
                UsedResult result = _rxQueue.TryGetUsed(out head, out length);
                if (result == UsedResult.Empty)
                {
                    _rxLengthErrors++;
                    return;
                }
                if (result == UsedResult.Broken)
                {
                    RequestReset();
                    return;
                }
                count--;
                if (result == UsedResult.BadId)
                {
                    _rxBadIds++;
                    _rxFrameErrors++;
                    continue;
                }
                _rxPosted--;
                ReleaseRxBuffer(head);
            }
        }

        /// <summary>Mergeable and small buffers: head buffer at <paramref name="head"/>, <paramref name="length"/> bytes written.</summary>
        private void ReceiveFragments(int head, int length)
        {
            int page = _rxPage[head];
            byte* buffer = RxPagePool.Address(page) + _rxOffset[head];
            int hdr = HeaderLength;
            if (length < hdr + EthernetHeaderLength)
            {
                // Short packet: Linux frees only this buffer (num_buffers cannot be trusted).
                _rxLengthErrors++;
                DropHead(head);
                return;
            }
            int buffers = 1;
            if (Mode == ReceiveMode.Mergeable)
            {
                buffers = ReadLe16(buffer + VirtioNetHeader.NumBuffers);
                if (buffers == 0)
                {
                    _rxFrameErrors++;
                    DropHead(head);
                    return;
                }
                if (length > _rxCapacity[head])
                {
                    _rxLengthErrors++;
                    DropHead(head);
                    DiscardBuffers(buffers - 1);
                    return;
                }
            }
            else if (length - hdr > GoodPacketLength)
            {
                _rxLengthErrors++;
                DropHead(head);
                return;
            }
            int firstLength = length - hdr;
            byte* frame = buffer + hdr;

            IRawReceiveHook hook = RawReceiveHook;
            if (hook != null)
            {
                _rxHookPackets++;
                if (hook.Inspect(frame, firstLength, buffers) == RawReceiveVerdict.Drop)
                {
                    _rxHookDrops++;
                    ReleaseRxBuffer(head);
                    DiscardBuffers(buffers - 1);
                    return;
                }
            }

            byte flags = buffer[VirtioNetHeader.Flags];
            byte gsoType = buffer[VirtioNetHeader.GsoType];
            int csumStart = ReadLe16(buffer + VirtioNetHeader.CsumStart);
            int csumOffset = ReadLe16(buffer + VirtioNetHeader.CsumOffset);

            Packet packet = _rxPacket[head];
            _rxPacket[head] = null;
            if (packet == null)
            {
                packet = RxPackets.TryAllocate(RxHeadroom);
                if (packet == null)
                {
                    _rxPacketAllocFailures++;
                    DropHead(head);
                    DiscardBuffers(buffers - 1);
                    return;
                }
            }
            int copy = firstLength < GoodCopyLength ? firstLength : GoodCopyLength;
            Copy(frame, packet.Put(copy), copy);
            if (firstLength > copy)
            {
                // The packet takes over this buffer's page reference.
                packet.AppendFragment(RxPagePool, page, _rxOffset[head] + hdr + copy, firstLength - copy, _rxTrueSize[head]);
            }
            else
            {
                RxPagePool.Release(page);
            }

            for (int b = 1; b < buffers; b++)
            {
                ushort next;
                int nextLength;
                UsedResult result = _rxQueue.TryGetUsed(out next, out nextLength);
                if (result != UsedResult.Buffer)
                {
                    // "%d buffers out of %d missing": the device announced more than it returned.
                    if (result == UsedResult.Broken)
                    {
                        RequestReset();
                    }
                    else if (result == UsedResult.BadId)
                    {
                        _rxBadIds++;
                        _rxFrameErrors++;
                        DiscardBuffers(buffers - b - 1);
                    }
                    _rxLengthErrors++;
                    _rxDrops++;
                    packet.Free();
                    return;
                }
                _rxPosted--;
                Packet extra = _rxPacket[next];
                if (extra != null)
                {
                    // Pre-2009 design: each buffer came with a packet that is thrown away here.
                    _rxPacket[next] = null;
                    extra.Free();
                }
                if (nextLength > _rxCapacity[next])
                {
                    // "len exceeds truesize".
                    _rxLengthErrors++;
                    _rxDrops++;
                    RxPagePool.Release(_rxPage[next]);
                    packet.Free();
                    DiscardBuffers(buffers - b - 1);
                    return;
                }
                if (nextLength == 0)
                {
                    RxPagePool.Release(_rxPage[next]);
                    continue;
                }
                if (packet.TryCoalesceFragment(RxPagePool, _rxPage[next], _rxOffset[next], nextLength, _rxTrueSize[next]))
                {
                    // Carved right behind the previous buffer in the same page: one fragment (the packet keeps
                    // the reference it already holds on the page).
                    RxPagePool.Release(_rxPage[next]);
                    _rxCoalescedFragments++;
                    continue;
                }
                if (packet.FragmentCount == Packet.MaxFragments)
                {
                    // More fragments than a packet carries (a 64 KiB GSO frame in small buffers before the EWMA
                    // has grown them; Linux chains a second skb instead). Dropped, but the length still counts
                    // towards the EWMA so the buffers grow.
                    _rxLengthErrors++;
                    _rxTooManyFragments++;
                    _rxDrops++;
                    AddPacketLengthSample(packet.Length + nextLength * (buffers - b));
                    RxPagePool.Release(_rxPage[next]);
                    packet.Free();
                    DiscardBuffers(buffers - b - 1);
                    return;
                }
                packet.AppendFragment(RxPagePool, _rxPage[next], _rxOffset[next], nextLength, _rxTrueSize[next]);
            }
            if (Mode == ReceiveMode.Mergeable)
            {
                AddPacketLengthSample(packet.Length);
            }
            Deliver(packet, flags, gsoType, csumStart, csumOffset);
        }

        /// <summary>Big mode: one chain of pages per frame, <paramref name="length"/> bytes written over the chain.</summary>
        private void ReceiveBig(int head, int length)
        {
            int hdr = HeaderLength;
            if (length < hdr + EthernetHeaderLength)
            {
                _rxLengthErrors++;
                DropHead(head);
                return;
            }
            if (length > _rxCapacity[head])
            {
                _rxLengthErrors++;
                DropHead(head);
                return;
            }
            int baseIndex = head * _bigPagesPerBuffer;
            int firstPage = _bigPages[baseIndex];
            byte* header = RxPagePool.Address(firstPage);
            byte* frame = header + BigFirstDataOffset;
            int frameLength = length - hdr;
            int firstSpace = PageSize - BigFirstDataOffset;
            int firstLength = frameLength < firstSpace ? frameLength : firstSpace;

            IRawReceiveHook hook = RawReceiveHook;
            if (hook != null)
            {
                _rxHookPackets++;
                if (hook.Inspect(frame, firstLength, 1) == RawReceiveVerdict.Drop)
                {
                    _rxHookDrops++;
                    ReleaseRxBuffer(head);
                    return;
                }
            }
            byte flags = header[VirtioNetHeader.Flags];
            byte gsoType = header[VirtioNetHeader.GsoType];
            int csumStart = ReadLe16(header + VirtioNetHeader.CsumStart);
            int csumOffset = ReadLe16(header + VirtioNetHeader.CsumOffset);

            Packet packet = _rxPacket[head];
            _rxPacket[head] = null;
            if (packet == null)
            {
                packet = RxPackets.TryAllocate(RxHeadroom);
                if (packet == null)
                {
                    _rxPacketAllocFailures++;
                    DropHead(head);
                    return;
                }
            }
            int copy = firstLength < GoodCopyLength ? firstLength : GoodCopyLength;
            Copy(frame, packet.Put(copy), copy);
            int remaining = frameLength - copy;
            for (int k = 0; k < _bigPagesPerBuffer; k++)
            {
                int page = _bigPages[baseIndex + k];
                int offset = k == 0 ? BigFirstDataOffset + copy : 0;
                int space = PageSize - offset;
                int take = remaining < space ? remaining : space;
                if (take > 0)
                {
                    packet.AppendFragment(RxPagePool, page, offset, take, PageSize);
                    remaining -= take;
                }
                else
                {
                    RxPagePool.Release(page);
                }
            }
            Deliver(packet, flags, gsoType, csumStart, csumOffset);
        }

        /// <summary>Checks the header's offload fields, completes a partial checksum, and hands the packet up.</summary>
        private void Deliver(Packet packet, byte flags, byte gsoType, int csumStart, int csumOffset)
        {
            byte gso = (byte)(gsoType & ~VirtioNetHeader.GsoEcn);
            bool gsoOk = gso == VirtioNetHeader.GsoNone
                || (gso == VirtioNetHeader.GsoTcpV4 && Has(VirtioNetFeatures.GuestTso4))
                || (gso == VirtioNetHeader.GsoTcpV6 && Has(VirtioNetFeatures.GuestTso6));
            if (!gsoOk || ((flags & VirtioNetHeader.FlagNeedsCsum) != 0 && !Has(VirtioNetFeatures.GuestCsum)))
            {
                // Bad GSO/checksum header (Linux virtio_net_hdr_to_skb failure).
                _rxFrameErrors++;
                _rxDrops++;
                packet.Free();
                return;
            }
            if ((flags & VirtioNetHeader.FlagNeedsCsum) != 0)
            {
                // A partial checksum from the host's own stack (Linux CHECKSUM_PARTIAL): the data never crossed a
                // wire, so for local delivery it is as good as verified (virtio spec "Processing of Incoming
                // Packets"; Linux does not complete it either). Only the offsets are checked.
                if (csumStart + csumOffset + 2 > packet.Length || csumOffset > 0xFFFF)
                {
                    _rxFrameErrors++;
                    _rxDrops++;
                    packet.Free();
                    return;
                }
                _rxChecksumPartial++;
                packet.Flags |= Packet.FlagChecksumValid;
            }
            else if ((flags & VirtioNetHeader.FlagDataValid) != 0 && Has(VirtioNetFeatures.GuestCsum))
            {
                _rxChecksumValid++;
                packet.Flags |= Packet.FlagChecksumValid;
            }
            if (gso != VirtioNetHeader.GsoNone)
            {
                _rxGsoFrames++;
            }
            _rxPackets++;
            _rxBytes += packet.Length;
            IPacketReceiver receiver = Receiver;
            if (receiver == null)
            {
                _rxDrops++;
                packet.Free();
                return;
            }
            receiver.Receive(packet);
        }

        /// <summary>
        /// Completes a partial checksum (virtio NEEDS_CSUM, Linux skb_checksum_help): the field at
        /// start + offset holds the pseudo-header sum; the one's complement sum from start to the end of the
        /// packet is folded and stored there. False when the offsets lie outside the packet.
        /// </summary>
        private static bool CompleteChecksum(Packet packet, int start, int offset)
        {
            int field = start + offset;
            if (field + 2 > packet.Length || offset > 0xFFFF)
            {
                return false;
            }
            ulong sum = 0;
            int position = 0;
            int segments = packet.SegmentCount;
            for (int s = 0; s < segments; s++)
            {
                int length;
                byte* data = packet.Segment(s, out length);
                for (int i = 0; i < length; i++)
                {
                    int at = position + i;
                    if (at < start)
                    {
                        continue;
                    }
                    sum += ((at - start) & 1) == 0 ? (ulong)data[i] << 8 : data[i];
                }
                position += length;
            }
            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
            ushort result = (ushort)~sum;
            if (result == 0)
            {
                result = 0xFFFF;
            }
            WriteByteAt(packet, field, (byte)(result >> 8));
            WriteByteAt(packet, field + 1, (byte)result);
            return true;
        }

        private static void WriteByteAt(Packet packet, int at, byte value)
        {
            int segments = packet.SegmentCount;
            for (int s = 0; s < segments; s++)
            {
                int length;
                byte* data = packet.Segment(s, out length);
                if (at < length)
                {
                    data[at] = value;
                    return;
                }
                at -= length;
            }
        }

        private static ushort ReadLe16(byte* p) => (ushort)(p[0] | (p[1] << 8));

        private static void Copy(byte* source, byte* destination, int count)
        {
            if (count > 0)
            {
                new ReadOnlySpan<byte>(source, count).CopyTo(new Span<byte>(destination, count));
            }
        }
    }
}
