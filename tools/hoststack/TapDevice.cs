using System;
using System.Runtime.InteropServices;
using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Hal;

namespace Keel.HostStack
{
    /// <summary>
    /// An <see cref="INetDevice"/> on a Linux tap (/dev/net/tun, IFF_TAP | IFF_NO_PI, non-blocking): frames are
    /// read into pages of a receive <see cref="PagePool"/> and built like the virtio-net driver builds them (a
    /// short header copy in the packet's linear area, the rest left in the page as a fragment); transmitted
    /// packets are written with writev straight from their segments.
    /// </summary>
    public sealed unsafe class TapDevice : INetDevice
    {
        private const int OReadWrite = 2;
        private const int ONonBlock = 0x800;
        private const uint TunSetIff = 0x400454ca;
        private const short IffTap = 0x0002;
        private const short IffNoPi = 0x1000;
        private const short PollIn = 1;
        private const int EAgain = 11;
        private const int HeaderCopy = 64;

        [StructLayout(LayoutKind.Sequential)]
        private struct IoVec
        {
            public byte* Base;
            public nuint Length;
        }

        [StructLayout(LayoutKind.Sequential)]
        private struct PollFd
        {
            public int Fd;
            public short Events;
            public short Revents;
        }

        [DllImport("libc", SetLastError = true)]
        private static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        private static extern int ioctl(int fd, nuint request, byte* argument);

        [DllImport("libc", SetLastError = true)]
        private static extern nint read(int fd, byte* buffer, nuint count);

        [DllImport("libc", SetLastError = true)]
        private static extern nint writev(int fd, IoVec* vectors, int count);

        [DllImport("libc", SetLastError = true)]
        private static extern int poll(PollFd* fds, nuint count, int timeout);

        [DllImport("libc", SetLastError = true)]
        private static extern int close(int fd);

        private readonly int _fd;
        private readonly byte[] _mac;
        private readonly IoVec* _vectors;

        private TapDevice(int fd, byte[] mac, int mtu, IPageAllocator allocator, int packets, int receivePages)
        {
            _fd = fd;
            _mac = mac;
            Mtu = mtu;
            TransmitPackets = PacketPool.Create(allocator, packets);
            ReceivePackets = PacketPool.Create(allocator, packets);
            ReceivePages = new PagePool(allocator, receivePages);
            _vectors = (IoVec*)NativeMemory.Alloc((nuint)(sizeof(IoVec) * (Packet.MaxFragments + 1)));
        }

        /// <summary>Attaches to tap <paramref name="name"/> (created beforehand, e.g. by tools/netns.sh). Null on failure.</summary>
        public static TapDevice Open(string name, byte[] mac, int mtu, IPageAllocator allocator, int packets, int receivePages, out string error)
        {
            error = null;
            if (mtu + 14 > DmaPage.Size)
            {
                error = "MTU too large for one receive page";
                return null;
            }
            int fd = open("/dev/net/tun", OReadWrite | ONonBlock);
            if (fd < 0)
            {
                error = "open /dev/net/tun: errno " + Marshal.GetLastWin32Error();
                return null;
            }
            byte* ifr = stackalloc byte[40];
            new Span<byte>(ifr, 40).Clear();
            for (int i = 0; i < name.Length && i < 15; i++)
            {
                ifr[i] = (byte)name[i];
            }
            *(short*)(ifr + 16) = IffTap | IffNoPi;
            if (ioctl(fd, TunSetIff, ifr) < 0)
            {
                error = "TUNSETIFF " + name + ": errno " + Marshal.GetLastWin32Error();
                close(fd);
                return null;
            }
            return new TapDevice(fd, mac, mtu, allocator, packets, receivePages);
        }

        public int Mtu { get; }

        public bool LinkUp => true;

        public PacketPool TransmitPackets { get; }

        public PacketPool ReceivePackets { get; }

        public PagePool ReceivePages { get; }

        public IPacketReceiver Receiver { get; set; }

        public bool CanTransmit => true;

        /// <summary>No offloads: the tap is opened without a vnet header.</summary>
        public bool SupportsChecksumOffload => false;

        public int MaxTsoBytes => 0;

        public int MaxTso6Bytes => 0;

        public long FramesReceived;
        public long FramesSent;
        public long BytesReceived;
        public long BytesSent;
        public long ReceiveDrops;
        public long TransmitErrors;
        public long TransmitBusy;

        public void GetMacAddress(byte[] destination)
        {
            for (int i = 0; i < 6; i++)
            {
                destination[i] = _mac[i];
            }
        }

        public bool Transmit(Packet frame)
        {
            int segments = frame.SegmentCount;
            int count = 0;
            for (int i = 0; i < segments; i++)
            {
                int length;
                byte* data = frame.Segment(i, out length);
                if (length > 0)
                {
                    _vectors[count].Base = data;
                    _vectors[count].Length = (nuint)length;
                    count++;
                }
            }
            nint written = writev(_fd, _vectors, count);
            if (written < 0)
            {
                int errno = Marshal.GetLastWin32Error();
                if (errno == EAgain)
                {
                    TransmitBusy++;
                    return false; // the caller keeps the packet and retries
                }
                TransmitErrors++;
            }
            else
            {
                FramesSent++;
                BytesSent += written;
            }
            frame.Free();
            return true;
        }

        /// <summary>Waits up to <paramref name="timeoutMilliseconds"/> for a frame to read (0: just checks).</summary>
        public bool WaitReadable(int timeoutMilliseconds)
        {
            PollFd fd;
            fd.Fd = _fd;
            fd.Events = PollIn;
            fd.Revents = 0;
            return poll(&fd, 1, timeoutMilliseconds) > 0;
        }

        /// <summary>
        /// Reads up to <paramref name="budget"/> frames and hands each to the receiver, then ends the batch
        /// (ReceiveBatchDone) if there was any. Returns the number of frames.
        /// </summary>
        public int PollReceive(int budget)
        {
            int frames = 0;
            while (frames < budget)
            {
                int page;
                if (!ReceivePages.TryAllocate(out page))
                {
                    ReceiveDrops++;
                    break;
                }
                byte* buffer = ReceivePages.Address(page);
                nint length = read(_fd, buffer, (nuint)DmaPage.Size);
                if (length <= 0)
                {
                    ReceivePages.Release(page);
                    break;
                }
                Packet packet = ReceivePackets.TryAllocate(0);
                if (packet == null)
                {
                    ReceivePages.Release(page);
                    ReceiveDrops++;
                    continue;
                }
                int total = (int)length;
                int linear = total < HeaderCopy ? total : HeaderCopy;
                byte* head = packet.Put(linear);
                new ReadOnlySpan<byte>(buffer, linear).CopyTo(new Span<byte>(head, linear));
                if (total > linear)
                {
                    packet.AppendFragment(ReceivePages, page, linear, total - linear, DmaPage.Size);
                }
                else
                {
                    ReceivePages.Release(page);
                }
                FramesReceived++;
                BytesReceived += total;
                frames++;
                Receiver.Receive(packet);
            }
            if (frames > 0)
            {
                Receiver.ReceiveBatchDone();
            }
            return frames;
        }

        public void Close()
        {
            close(_fd);
        }
    }
}
