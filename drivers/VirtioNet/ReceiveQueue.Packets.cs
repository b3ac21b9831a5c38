using System;
using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    public sealed unsafe partial class ReceiveQueue
    {
        // ---- receiving ----

        /// <summary>Takes up to <paramref name="budget"/> frames from the used ring. Returns how many it handled.</summary>
        public int ReceiveBatch(int budget)
        {
            int done = 0;
            while (done < budget && _device.IsRunning)
            {
                ushort head;
                int length;
                UsedResult result = _ring.TryGetUsed(out head, out length);
                if (result == UsedResult.Empty)
                {
                    break;
                }
                if (result == UsedResult.Broken)
                {
                    _device.RequestReset();
                    break;
                }
                if (result == UsedResult.BadId)
                {
                    Stats.BadIds++;
                    Stats.FrameErrors++;
                    continue;
                }
                _posted--;
                done++;
                if (_mode == ReceiveMode.Big)
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
            ReleaseBuffer(head);
            Stats.Drops++;
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
                UsedResult result = _ring.TryGetUsed(out head, out length);
                if (result == UsedResult.Empty)
                {
                    Stats.LengthErrors++;
                    return;
                }
                if (result == UsedResult.Broken)
                {
                    _device.RequestReset();
                    return;
                }
                count--;
                if (result == UsedResult.BadId)
                {
                    Stats.BadIds++;
                    Stats.FrameErrors++;
                    continue;
                }
                _posted--;
                ReleaseBuffer(head);
            }
        }

        /// <summary>Mergeable and small buffers: head buffer at <paramref name="head"/>, <paramref name="length"/> bytes written.</summary>
        private void ReceiveFragments(int head, int length)
        {
            int page = _page[head];
            byte* buffer = Pages.Address(page) + _offset[head];
            int hdr = _headerLength;
            if (length < hdr + EthernetFrame.HeaderLength)
            {
                // Short packet: Linux frees only this buffer (num_buffers cannot be trusted).
                Stats.LengthErrors++;
                DropHead(head);
                return;
            }
            int buffers = 1;
            if (_mode == ReceiveMode.Mergeable)
            {
                buffers = ReadLe16(buffer + VirtioNetHeader.NumBuffers);
                if (buffers == 0)
                {
                    Stats.FrameErrors++;
                    DropHead(head);
                    return;
                }
                if (length > _capacity[head])
                {
                    Stats.LengthErrors++;
                    DropHead(head);
                    DiscardBuffers(buffers - 1);
                    return;
                }
            }
            else if (length - hdr > GoodPacketLength)
            {
                Stats.LengthErrors++;
                DropHead(head);
                return;
            }
            int large = LargeCount(head);
            // The part of the frame contiguous behind the header: a large buffer's first page only.
            int firstLength = (large > 0 && length > PageSize ? PageSize : length) - hdr;
            byte* frame = buffer + hdr;

            IRawReceiveHook hook = _device.RawReceiveHook;
            if (hook != null)
            {
                Stats.HookPackets++;
                if (hook.Inspect(frame, firstLength, buffers) == RawReceiveVerdict.Drop)
                {
                    Stats.HookDrops++;
                    ReleaseBuffer(head);
                    DiscardBuffers(buffers - 1);
                    return;
                }
            }

            byte flags = buffer[VirtioNetHeader.Flags];
            byte gsoType = buffer[VirtioNetHeader.GsoType];
            int csumStart = ReadLe16(buffer + VirtioNetHeader.CsumStart);
            int csumOffset = ReadLe16(buffer + VirtioNetHeader.CsumOffset);

            Packet packet = _preallocated[head];
            _preallocated[head] = null;
            if (packet == null)
            {
                packet = Packets.TryAllocate(RxHeadroom);
                if (packet == null)
                {
                    Stats.PacketAllocFailures++;
                    DropHead(head);
                    DiscardBuffers(buffers - 1);
                    return;
                }
            }
            int copy = CopyLength(frame, firstLength);
            Copy(frame, packet.Put(copy), copy);
            if (large > 0)
            {
                AppendLargeBuffer(packet, head, hdr + copy, length);
            }
            else if (firstLength > copy)
            {
                // The packet takes over this buffer's page reference.
                packet.AppendFragment(Pages, page, _offset[head] + hdr + copy, firstLength - copy, _trueSize[head]);
            }
            else
            {
                Pages.Release(page);
            }

            for (int b = 1; b < buffers; b++)
            {
                ushort next;
                int nextLength;
                UsedResult result = _ring.TryGetUsed(out next, out nextLength);
                if (result != UsedResult.Buffer)
                {
                    // "%d buffers out of %d missing": the device announced more than it returned.
                    if (result == UsedResult.Broken)
                    {
                        _device.RequestReset();
                    }
                    else if (result == UsedResult.BadId)
                    {
                        Stats.BadIds++;
                        Stats.FrameErrors++;
                        DiscardBuffers(buffers - b - 1);
                    }
                    Stats.LengthErrors++;
                    Stats.Drops++;
                    packet.Free();
                    return;
                }
                _posted--;
                Packet extra = _preallocated[next];
                if (extra != null)
                {
                    // Pre-2009 design: each buffer came with a packet that is thrown away here.
                    _preallocated[next] = null;
                    extra.Free();
                }
                if (nextLength > _capacity[next])
                {
                    // "len exceeds truesize".
                    Stats.LengthErrors++;
                    Stats.Drops++;
                    ReleasePages(next);
                    packet.Free();
                    DiscardBuffers(buffers - b - 1);
                    return;
                }
                if (nextLength == 0)
                {
                    ReleasePages(next);
                    continue;
                }
                int nextLarge = LargeCount(next);
                int fragments = nextLarge > 0 ? PagesUsed(nextLength) : 1;
                if (nextLarge == 0 && packet.TryCoalesceFragment(Pages, _page[next], _offset[next], nextLength, _trueSize[next]))
                {
                    // Carved right behind the previous buffer in the same page: one fragment (the packet keeps
                    // the reference it already holds on the page).
                    Pages.Release(_page[next]);
                    Stats.CoalescedFragments++;
                    continue;
                }
                if (packet.FragmentCount + fragments > Packet.MaxFragments)
                {
                    // More fragments than a packet carries (a 64 KiB GSO frame in small buffers before the EWMA
                    // has grown them; Linux chains a second skb instead). Dropped, but the length still counts
                    // towards the EWMA so the buffers grow.
                    Stats.LengthErrors++;
                    Stats.TooManyFragments++;
                    Stats.Drops++;
                    AddPacketLengthSample(packet.Length + nextLength * (buffers - b));
                    ReleasePages(next);
                    packet.Free();
                    DiscardBuffers(buffers - b - 1);
                    return;
                }
                if (nextLarge > 0)
                {
                    AppendLargeBuffer(packet, next, 0, nextLength);
                    continue;
                }
                packet.AppendFragment(Pages, _page[next], _offset[next], nextLength, _trueSize[next]);
            }
            if (_mode == ReceiveMode.Mergeable)
            {
                AddPacketLengthSample(packet.Length);
            }
            Deliver(packet, flags, gsoType, csumStart, csumOffset);
        }

        /// <summary>Big mode: one chain of pages per frame, <paramref name="length"/> bytes written over the chain.</summary>
        private void ReceiveBig(int head, int length)
        {
            int hdr = _headerLength;
            if (length < hdr + EthernetFrame.HeaderLength)
            {
                Stats.LengthErrors++;
                DropHead(head);
                return;
            }
            if (length > _capacity[head])
            {
                Stats.LengthErrors++;
                DropHead(head);
                return;
            }
            int baseIndex = head * _bigPagesPerBuffer;
            int firstPage = _bigPages[baseIndex];
            byte* header = Pages.Address(firstPage);
            byte* frame = header + BigFirstDataOffset;
            int frameLength = length - hdr;
            int firstSpace = PageSize - BigFirstDataOffset;
            int firstLength = frameLength < firstSpace ? frameLength : firstSpace;

            IRawReceiveHook hook = _device.RawReceiveHook;
            if (hook != null)
            {
                Stats.HookPackets++;
                if (hook.Inspect(frame, firstLength, 1) == RawReceiveVerdict.Drop)
                {
                    Stats.HookDrops++;
                    ReleaseBuffer(head);
                    return;
                }
            }
            byte flags = header[VirtioNetHeader.Flags];
            byte gsoType = header[VirtioNetHeader.GsoType];
            int csumStart = ReadLe16(header + VirtioNetHeader.CsumStart);
            int csumOffset = ReadLe16(header + VirtioNetHeader.CsumOffset);

            Packet packet = _preallocated[head];
            _preallocated[head] = null;
            if (packet == null)
            {
                packet = Packets.TryAllocate(RxHeadroom);
                if (packet == null)
                {
                    Stats.PacketAllocFailures++;
                    DropHead(head);
                    return;
                }
            }
            int copy = CopyLength(frame, firstLength);
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
                    packet.AppendFragment(Pages, page, offset, take, PageSize);
                    remaining -= take;
                }
                else
                {
                    Pages.Release(page);
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
                Stats.FrameErrors++;
                Stats.Drops++;
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
                    Stats.FrameErrors++;
                    Stats.Drops++;
                    packet.Free();
                    return;
                }
                Stats.ChecksumPartial++;
                packet.Flags |= Packet.FlagChecksumValid;
            }
            else if ((flags & VirtioNetHeader.FlagDataValid) != 0 && Has(VirtioNetFeatures.GuestCsum))
            {
                Stats.ChecksumValid++;
                packet.Flags |= Packet.FlagChecksumValid;
            }
            if (gso != VirtioNetHeader.GsoNone)
            {
                Stats.GsoPackets++;
            }
            Stats.Packets++;
            Stats.Bytes += packet.Length;
            IPacketReceiver receiver = _device.Receiver;
            if (receiver == null)
            {
                Stats.Drops++;
                packet.Free();
                return;
            }
            receiver.Receive(packet);
        }

        /// <summary>

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
