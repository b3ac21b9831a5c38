using Keel.Buffers;
using Keel.Hal;

namespace Keel.Tests.Net
{
    /// <summary>
    /// A fake NIC: transmitted frames are copied out (to a <see cref="TestLink"/> or a capture list) and the
    /// packet freed, as a driver would after the device is done; received frames are built like a virtio-net
    /// driver builds them: a short header copy in the linear area and the rest in a page fragment.
    /// </summary>
    public sealed unsafe class TestNetDevice : INetDevice
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
            Mtu = 1500;
            LinkUp = true;
        }

        public PacketPool TransmitPackets { get; }

        public PacketPool ReceivePackets { get; }

        public PagePool ReceivePages { get; }

        public int Mtu { get; set; }

        public bool LinkUp { get; set; }

        public IPacketReceiver Receiver { get; set; }

        /// <summary>Where transmitted frames go (null: dropped after counting).</summary>
        public ITestFrameSink Sink;

        /// <summary>When true, Transmit refuses frames (ring full).</summary>
        public bool Busy;

        /// <summary>Set FlagChecksumValid on received frames (device vouched for the checksum).</summary>
        public bool ChecksumOffload;

        public long FramesSent;

        public long ReceiveDrops;

        public bool CanTransmit => !Busy;

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
                return false;
            }
            FramesSent++;
            if (Sink != null)
            {
                Sink.Accept(this, frame);
            }
            frame.Free();
            return true;
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
    }

    public interface ITestFrameSink
    {
        void Accept(TestNetDevice from, Packet frame);
    }
}
