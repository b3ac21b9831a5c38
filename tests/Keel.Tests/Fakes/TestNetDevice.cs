using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// A fake NIC: transmitted frames are copied out (to a <see cref="TestLink"/> or a capture list) and the
    /// packet freed, as a driver would after the device is done; received frames are built like a virtio-net
    /// driver builds them: a short header copy in the linear area and the rest in a page fragment.
    /// </summary>
    public sealed unsafe class TestNetDevice : INetDevice, IMulticastFilter
    {
        private readonly byte[] _mac;
        private readonly int _headerCopy;

        public TestNetDevice(IPageAllocator allocator, byte lastMacByte, int packets = 2048, int rxPages = 2048, int headerCopy = 64)
        {
            _mac = new byte[] { 0x02, 0, 0, 0, 0, lastMacByte };
            TransmitPackets = PacketPool.Create(allocator, packets);
            ReceivePackets = PacketPool.Create(allocator, packets);
            ReceivePages = new PagePool(allocator, rxPages);
            _headerCopy = headerCopy;
            _segmentPackets = PacketPool.Create(allocator, 8);
            Mtu = 1500;
            LinkUp = true;
        }

        public PacketPool TransmitPackets { get; }

        public PacketPool ReceivePackets { get; }

        public PagePool ReceivePages { get; }

        public int Mtu { get; set; }

        public bool LinkUp { get; set; }

        public IPacketReceiver Receiver { get; set; }

        /// <summary>The multicast addresses the stack last asked for (6 bytes each), as "33:33:00:00:00:01"-style text; null before.</summary>
        public string[] MulticastFilter;

        public bool SetMulticastFilter(byte[] addresses, int count)
        {
            MulticastFilter = new string[count];
            for (int i = 0; i < count; i++)
            {
                MulticastFilter[i] = System.BitConverter.ToString(addresses, 6 * i, 6).Replace('-', ':').ToLowerInvariant();
            }
            return true;
        }

        /// <summary>Where transmitted frames go (null: dropped after counting).</summary>
        public ITestFrameSink Sink;

        /// <summary>When true, Transmit refuses frames (ring full).</summary>
        public bool Busy;

        /// <summary>
        /// 0: frames leave at once. Otherwise a transmit ring of this many frames, like virtio-net's: an accepted
        /// frame stays queued (its packet held) until <see cref="CompleteTransmits"/> (the device sending it), and
        /// Transmit refuses while the ring is full. <see cref="NetPair.Step"/> completes them between polls.
        /// </summary>
        public int RingSize;

        private Packet[] _ring;
        private int _ringHead;
        private int _ringCount;

        /// <summary>Transmit calls refused (busy or ring full).</summary>
        public long TransmitRefusals;

        /// <summary>Times an accepted frame filled the ring.</summary>
        public long RingFull;

        /// <summary>Frames waiting in the ring.</summary>
        public int RingCount => _ringCount;

        /// <summary>Set FlagChecksumValid on received frames (device vouched for the checksum).</summary>
        public bool ChecksumOffload;

        /// <summary>Offer transmit checksum offload: the device completes NEEDS_CSUM frames before they leave.</summary>
        public bool TransmitChecksumOffload;

        /// <summary>Offer TSO: the device cuts TCP frames up to this IP length into MSS segments (0 = no TSO).</summary>
        public int TsoBytes;

        public bool SupportsChecksumOffload => TransmitChecksumOffload;

        public int MaxTsoBytes => TsoBytes;

        /// <summary>TSO is offered for IPv6 as for IPv4.</summary>
        public int MaxTso6Bytes => TsoBytes;

        public long FramesSent;

        public long ReceiveDrops;

        public bool CanTransmit => !Busy && (RingSize == 0 || _ringCount < RingSize);

        public void GetMacAddress(byte[] destination)
        {
            for (int i = 0; i < 6; i++)
            {
                destination[i] = _mac[i];
            }
        }

        public bool Transmit(Packet frame)
        {
            if (Busy)
            {
                TransmitRefusals++;
                return false;
            }
            if (RingSize > 0)
            {
                if (_ring == null || _ring.Length != RingSize)
                {
                    CompleteTransmits();
                    _ring = new Packet[RingSize];
                    _ringHead = 0;
                }
                if (_ringCount == RingSize)
                {
                    TransmitRefusals++;
                    return false;
                }
                _ring[(_ringHead + _ringCount) % RingSize] = frame;
                _ringCount++;
                if (_ringCount == RingSize)
                {
                    RingFull++;
                }
                return true;
            }
            Send(frame);
            return true;
        }

        private readonly PacketPool _segmentPackets;

        /// <summary>Frames that asked for checksum completion / segmentation (what a NIC would do for them).</summary>
        public long ChecksumRequests;
        public long TsoRequests;

        /// <summary>Requests the device did not offer (a stack bug): counted, the frame is dropped.</summary>
        public long OffloadViolations;

        private void Send(Packet frame)
        {
            FramesSent++;
            int flags = frame.Flags;
            if ((flags & Packet.FlagTcpSegmentation) != 0)
            {
                TsoRequests++;
                if (TsoBytes == 0 || frame.Length - 14 > TsoBytes || (flags & Packet.FlagNeedsChecksum) == 0)
                {
                    OffloadViolations++;
                }
                else
                {
                    SegmentAndSend(frame);
                }
                frame.Free();
                return;
            }
            if ((flags & Packet.FlagNeedsChecksum) != 0)
            {
                ChecksumRequests++;
                if (!TransmitChecksumOffload)
                {
                    OffloadViolations++;
                    frame.Free();
                    return;
                }
                CompleteChecksum(frame, frame.ChecksumStart, frame.ChecksumOffset);
            }
            if (Sink != null)
            {
                Sink.Accept(this, frame);
            }
            frame.Free();
        }

        /// <summary>What a NIC does for NEEDS_CSUM (the shared emulator).</summary>
        private static void CompleteChecksum(Packet frame, int start, int offset)
        {
            OffloadEmulator.CompleteChecksum(frame, start, offset);
        }

        /// <summary>
        /// What a NIC does for TSO: cuts the payload into GsoSize pieces, each with the headers copied and fixed up
        /// (IP length, id, header checksum; TCP sequence, FIN/PSH on the last only, checksum). Payload fragments
        /// are shared, not copied.
        /// </summary>
        private void SegmentAndSend(Packet frame)
        {
            int tcpStart = frame.ChecksumStart;
            OffloadEmulator.TsoFrame t = OffloadEmulator.Parse(frame.Data, tcpStart);
            int headers = t.Headers;
            int payload = frame.Length - headers;
            int done = 0;
            int index = 0;
            while (done < payload)
            {
                int take = System.Math.Min(frame.GsoSize, payload - done);
                bool last = done + take == payload;
                Packet piece = _segmentPackets.TryAllocate(0);
                if (piece == null)
                {
                    OffloadViolations++;
                    return;
                }
                byte* h = piece.Put(headers);
                frame.CopyTo(0, h, headers);
                if (!AppendRange(piece, frame, headers + done, take))
                {
                    OffloadViolations++;
                    piece.Free();
                    return;
                }
                OffloadEmulator.FixSegmentHeaders(h, t, tcpStart, index, done, take, last);
                CompleteChecksum(piece, tcpStart, 16);
                if (Sink != null)
                {
                    Sink.Accept(this, piece);
                }
                piece.Free();
                done += take;
                index++;
            }
        }

        /// <summary>Appends bytes [offset, offset+count) of <paramref name="source"/>: fragments shared (one more reference).</summary>
        private static bool AppendRange(Packet target, Packet source, int offset, int count)
        {
            for (int i = 0; i < source.SegmentCount && count > 0; i++)
            {
                int length;
                byte* p = source.Segment(i, out length);
                if (offset >= length)
                {
                    offset -= length;
                    continue;
                }
                int take = System.Math.Min(length - offset, count);
                if (i == 0)
                {
                    byte* d = target.Put(take);
                    if (d == null)
                    {
                        return false;
                    }
                    new System.ReadOnlySpan<byte>(p + offset, take).CopyTo(new System.Span<byte>(d, take));
                }
                else
                {
                    ref PageFragment fragment = ref source.Fragment(i - 1);
                    fragment.Pool.AddRef(fragment.Page, 1);
                    if (!target.AppendFragment(fragment.Pool, fragment.Page, fragment.Offset + offset, take, 0))
                    {
                        fragment.Pool.Release(fragment.Page);
                        return false;
                    }
                }
                count -= take;
                offset = 0;
            }
            return count == 0;
        }

        /// <summary>The device sends every frame in the ring and frees its packet. Returns how many.</summary>
        public int CompleteTransmits()
        {
            int done = 0;
            while (_ringCount > 0)
            {
                Packet frame = _ring[_ringHead];
                _ring[_ringHead] = null;
                _ringHead = (_ringHead + 1) % _ring.Length;
                _ringCount--;
                Send(frame);
                done++;
            }
            return done;
        }

        /// <summary>Builds a received packet from <paramref name="length"/> bytes and hands it to the receiver.</summary>
        public bool Inject(byte* frame, int length)
        {
            Packet packet = ReceivePackets.TryAllocate(0);
            if (packet == null)
            {
                ReceiveDrops++;
                return false;
            }
            int linear = length < _headerCopy ? length : _headerCopy;
            byte* d = packet.Put(linear);
            new System.ReadOnlySpan<byte>(frame, linear).CopyTo(new System.Span<byte>(d, linear));
            int rest = length - linear;
            if (rest > 0)
            {
                int page;
                if (!ReceivePages.TryAllocate(out page))
                {
                    packet.Free();
                    ReceiveDrops++;
                    return false;
                }
                new System.ReadOnlySpan<byte>(frame + linear, rest).CopyTo(new System.Span<byte>(ReceivePages.Address(page), rest));
                packet.AppendFragment(ReceivePages, page, 0, rest, DmaPage.Size);
            }
            if (ChecksumOffload)
            {
                packet.Flags |= Packet.FlagChecksumValid;
            }
            Receiver.Receive(packet);
            return true;
        }

        public bool Inject(byte[] frame)
        {
            fixed (byte* p = frame)
            {
                return Inject(p, frame.Length);
            }
        }

        /// <summary>Every packet and page of the device's own pools is back.</summary>
        public bool PoolsIdle => TransmitPackets.InUse == 0 && ReceivePackets.InUse == 0 && ReceivePages.InFlight == 0;

        /// <summary>Gives every page of the device's pools back to the allocator; false when something is still out.</summary>
        public bool DestroyPools()
        {
            bool packets = TransmitPackets.Destroy() & ReceivePackets.Destroy() & _segmentPackets.Destroy();
            return packets && ReceivePages.ReleaseFreePages() == 0;
        }
    }

    public interface ITestFrameSink
    {
        void Accept(TestNetDevice from, Packet frame);
    }
}
