using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Kernel.Net;
using Keel.Tests.Net;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// The raw receive hook behind hook=drop and hook=echo-count (kernel/portable/Net/FrameHook.cs), fed frames
    /// laid out as tools/framegen's header comment specifies: Ethernet, IPv4, UDP, then "KFG1", the sequence
    /// number (u64 BE), the frame size (u16 BE), a run id (u16 BE) and byte i = (byte)(i + sequence) from 16 on.
    /// </summary>
    public unsafe class FrameHookTests
    {
        private static readonly byte[] HostMac = { 0x02, 0, 0, 0, 0, 1 };
        private static readonly byte[] GuestMac = { 0x02, 0, 0, 0, 0, 2 };
        private static readonly byte[] HostIp = { 198, 18, 0, 1 };
        private static readonly byte[] GuestIp = { 198, 18, 0, 2 };
        private const int SourcePort = 40000;
        private const int DestinationPort = 9;

        private NativePageAllocator _allocator;
        private TestNetDevice _device;
        private FrameCapture _sent;

        [SetUp]
        public void SetUp()
        {
            _allocator = new NativePageAllocator();
            _device = new TestNetDevice(_allocator, 2);
            _sent = new FrameCapture();
            _device.Sink = _sent;
        }

        /// <summary>A framegen frame of <paramref name="size"/> bytes (60..1514) with sequence <paramref name="sequence"/>.</summary>
        private static byte[] GeneratorFrame(int size, ulong sequence)
        {
            int payloadLength = size - 42;
            byte[] f = Frames.IPv4(Frames.ProtocolUdp, 8 + payloadLength, HostIp, GuestIp, HostMac, GuestMac, (ushort)sequence);
            Frames.Put16(f, 34, SourcePort);
            Frames.Put16(f, 36, DestinationPort);
            Frames.Put16(f, 38, 8 + payloadLength);
            int p = 42;
            f[p] = (byte)'K';
            f[p + 1] = (byte)'F';
            f[p + 2] = (byte)'G';
            f[p + 3] = (byte)'1';
            for (int i = 0; i < 8; i++)
            {
                f[p + 4 + i] = (byte)(sequence >> (56 - 8 * i));
            }
            Frames.Put16(f, p + 12, size);
            Frames.Put16(f, p + 14, 0x1234);
            for (int i = 16; i < payloadLength; i++)
            {
                f[p + i] = (byte)(i + (int)sequence);
            }
            return f;
        }

        private static RawReceiveVerdict Inspect(FrameHook hook, byte[] frame, int bufferCount = 1)
        {
            fixed (byte* p = frame)
            {
                return hook.Inspect(p, frame.Length, bufferCount);
            }
        }

        [Test]
        public void DropModeCountsEveryFrameAndSendsNothing()
        {
            var hook = new FrameHook(_device, null);
            Assert.That(Inspect(hook, GeneratorFrame(60, 0)), Is.EqualTo(RawReceiveVerdict.Drop));
            Assert.That(Inspect(hook, GeneratorFrame(1514, 1)), Is.EqualTo(RawReceiveVerdict.Drop));
            Assert.That(hook.Frames, Is.EqualTo(2));
            Assert.That(hook.Bytes, Is.EqualTo(60 + 1514));
            Assert.That(hook.MinimumSize, Is.EqualTo(60));
            Assert.That(hook.MaximumSize, Is.EqualTo(1514));
            Assert.That(_sent.Frames, Is.Empty);
        }

        [TestCase(60)]
        [TestCase(300)]
        [TestCase(1514)]
        public void EchoModeSendsAGoodFrameBackWithEndpointsSwapped(int size)
        {
            var hook = new FrameHook(_device, new PagePool(_allocator, 16));
            byte[] frame = GeneratorFrame(size, 7);
            Inspect(hook, frame);
            Assert.That(hook.Good, Is.EqualTo(1));
            Assert.That(hook.Echoed, Is.EqualTo(1));
            Assert.That(hook.LastSequence, Is.EqualTo(7UL));
            Assert.That(_sent.Frames.Count, Is.EqualTo(1));
            byte[] echo = _sent.Frames[0];
            Assert.That(echo.Length, Is.EqualTo(size));
            Assert.That(echo[0..6], Is.EqualTo(HostMac), "destination: the sender");
            Assert.That(echo[6..12], Is.EqualTo(GuestMac));
            Assert.That(echo[26..30], Is.EqualTo(GuestIp), "source address: ours");
            Assert.That(echo[30..34], Is.EqualTo(HostIp));
            Assert.That((echo[34] << 8) | echo[35], Is.EqualTo(DestinationPort));
            Assert.That((echo[36] << 8) | echo[37], Is.EqualTo(SourcePort));
            Assert.That(echo[38..], Is.EqualTo(frame[38..]), "length, checksum and payload unchanged");
            Assert.That(_device.TransmitPackets.InUse, Is.EqualTo(0));
        }

        [Test]
        public void CorruptPayloadIsBadAndForeignFramesAreCountedNotEchoed()
        {
            var hook = new FrameHook(_device, new PagePool(_allocator, 4));
            byte[] bad = GeneratorFrame(200, 3);
            bad[42 + 100] ^= 0xFF;
            Inspect(hook, bad);
            byte[] notGenerator = GeneratorFrame(200, 3);
            notGenerator[42] = (byte)'X';
            Inspect(hook, notGenerator);
            byte[] arp = new byte[60];
            arp[12] = 0x08;
            arp[13] = 0x06;
            Inspect(hook, arp);
            byte[] wrongSize = GeneratorFrame(200, 4);
            Frames.Put16(wrongSize, 42 + 12, 300);
            Inspect(hook, wrongSize);
            Assert.That(hook.Bad, Is.EqualTo(2));
            Assert.That(hook.Foreign, Is.EqualTo(2));
            Assert.That(hook.Good, Is.EqualTo(0));
            Assert.That(_sent.Frames, Is.Empty);
        }

        [Test]
        public void FullTransmitRingSkipsTheEchoAndCountsIt()
        {
            var hook = new FrameHook(_device, new PagePool(_allocator, 4));
            _device.Busy = true;
            Inspect(hook, GeneratorFrame(100, 1));
            Assert.That(hook.Good, Is.EqualTo(1));
            Assert.That(hook.EchoSkipped, Is.EqualTo(1));
            Assert.That(hook.Echoed + hook.EchoFailures, Is.EqualTo(0));
            Assert.That(_device.TransmitPackets.InUse, Is.EqualTo(0));
        }

        [Test]
        public void FrameSpreadOverBuffersIsCheckedButNotEchoed()
        {
            var hook = new FrameHook(_device, new PagePool(_allocator, 4));
            byte[] whole = GeneratorFrame(1514, 9);
            byte[] first = whole[0..1000];
            Inspect(hook, first, bufferCount: 2);
            Assert.That(hook.MultiBuffer, Is.EqualTo(1));
            Assert.That(hook.Good, Is.EqualTo(1), "size field larger than the first buffer is right for a multi-buffer frame");
            Assert.That(_sent.Frames, Is.Empty);
        }

        [Test]
        public void EchoOfLongFrameFailsCleanlyWithoutPages()
        {
            var hook = new FrameHook(_device, new PagePool(new NativePageAllocator(0), 4));
            Inspect(hook, GeneratorFrame(1514, 2));
            Assert.That(hook.EchoFailures, Is.EqualTo(1));
            Assert.That(_device.TransmitPackets.InUse, Is.EqualTo(0), "the packet went back to the pool");
            var output = new TextCapture();
            hook.Print(output);
            Assert.That(output.Text, Does.Contain("echo_failures 1"));
        }
    }
}
