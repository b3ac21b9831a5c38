using Keel.Buffers;
using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>
    /// Mergeable receive buffers of several pages in one ring slot (an indirect chain of whole pages), posted when
    /// the EWMA of packet length exceeds a page. Values from the virtio spec (5.1.6.3 "Setting Up Receive
    /// Buffers", 5.1.6.4 num_buffers; 2.7.5.3 indirect descriptors) and the 12-byte modern header.
    /// </summary>
    public class VirtioNetLargeBufferTests
    {
        private const int Page = 4096;
        private const int Header = 12;
        private Bench _bench;

        private Bench Make(VirtioNetOptions options)
        {
            _bench = new Bench(options);
            Assert.That(_bench.Start(), Is.True);
            return _bench;
        }

        private static VirtioNetOptions Large(int pages = 4) => new VirtioNetOptions
        {
            GuestTso = true,
            RxPoolPages = 2048,
            RxBufferPagesMax = pages,
        };

        [TearDown]
        public void TearDown()
        {
            if (_bench != null)
            {
                Assert.That(_bench.Memory.FirstViolation, Is.Null, "device-side violation");
                _bench.Dispose();
                _bench = null;
            }
        }

        private void AssertCleanShutdown() => VirtioNetReceiveTests.AssertCleanShutdown(_bench);

        /// <summary>Sends 64 KiB GSO frames until every buffer in the 256-entry ring has been posted since the EWMA grew.</summary>
        private void GrowToLargeBuffers(int frames = 200)
        {
            _bench.Device.RxGsoType = VirtioNetHeader.GsoTcpV4;
            _bench.Device.RxHeaderFlags = VirtioNetHeader.FlagDataValid;
            _bench.Receiver.ExpectedLength = 65000;
            for (int i = 0; i < frames; i++)
            {
                Assert.That(_bench.Inject(65000), Is.True);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            Assert.That(_bench.Stat("rx_queue_0_drops"), Is.Zero);
        }

        private int BuffersUsedBy(int length)
        {
            int available = _bench.Device.RxBuffersAvailable;
            Assert.That(_bench.Inject(length), Is.True);
            return available - _bench.Device.RxBuffersAvailable;
        }

        [Test]
        public void SixtyFourKilobyteFramesTakeFourSixteenKilobyteBuffers()
        {
            Make(Large());
            Assert.That(_bench.Driver.NegotiatedFeatures & VirtioFeatures.IndirectDescriptors, Is.Not.Zero);
            Assert.That(_bench.Driver.RxLargeBufferPagesMax, Is.EqualTo(4));
            Assert.That(_bench.Device.IndirectChains, Is.Zero, "the first fill is carved buffers");
            GrowToLargeBuffers();
            Assert.That(_bench.Stat("rx_queue_0_large_buffers"), Is.GreaterThan(256));
            Assert.That(_bench.Device.IndirectChains, Is.EqualTo(_bench.Stat("rx_queue_0_large_buffers")), "one indirect chain each");
            // 12 + 65000 bytes in buffers of 4 × 4096 bytes: num_buffers = 4 (a page-sized ring needs 16).
            _bench.Receiver.Hold = true;
            Assert.That(BuffersUsedBy(65000), Is.EqualTo(4));
            _bench.Kernel.RunPending();
            Packet packet = _bench.Receiver.TakeHeld();
            Assert.That(packet.Length, Is.EqualTo(65000));
            // The frame's bytes lie in 16 pages (12 + 65000 ≤ 16 × 4096), one fragment each, a whole page of truesize.
            Assert.That(packet.FragmentCount, Is.EqualTo(16));
            Assert.That(packet.TrueSize, Is.EqualTo(Packet.LinearCapacity + 16 * Page));
            packet.Free();
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown();
        }

        [Test]
        public void ShortFrameInALargeBufferHoldsOnePageAndReturnsTheOthers()
        {
            Make(Large());
            GrowToLargeBuffers();
            long inFlight = _bench.Driver.RxPagePool.InFlight;
            _bench.Receiver.Hold = true;
            _bench.Receiver.ExpectedLength = 1000;
            Assert.That(BuffersUsedBy(1000), Is.EqualTo(1));
            _bench.Kernel.RunPending();
            Packet packet = _bench.Receiver.TakeHeld();
            Assert.That(packet.FragmentCount, Is.EqualTo(1));
            Assert.That(packet.TrueSize, Is.EqualTo(Packet.LinearCapacity + Page));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            // One 4-page buffer left the ring (one buffer is below the refill threshold): the packet pins one
            // page, the other three went back to the pool.
            Assert.That(_bench.Driver.RxPagePool.InFlight, Is.EqualTo(inFlight - 3));
            packet.Free();
            Assert.That(_bench.Driver.RxPagePool.InFlight, Is.EqualTo(inFlight - 4));
            AssertCleanShutdown();
        }

        [Test]
        public void FramesOfTwoAndAHalfPagesTakeThreePageBuffers()
        {
            Make(Large());
            _bench.Receiver.ExpectedLength = 10000;
            for (int i = 0; i < 400; i++)
            {
                Assert.That(_bench.Inject(10000), Is.True);
                _bench.Kernel.RunPending();
            }
            // EWMA 10000: 12 + 10000 bytes round up to 3 pages, so each frame fills exactly one buffer.
            Assert.That(BuffersUsedBy(10000), Is.EqualTo(1));
            _bench.Kernel.RunPending();
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(401));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown();
        }

        [Test]
        public void SmallFramesShrinkTheBuffersBackToCarvedOnes()
        {
            Make(Large());
            GrowToLargeBuffers();
            _bench.Device.RxGsoType = 0;
            _bench.Receiver.ExpectedLength = 64;
            for (int i = 0; i < 3000; i++)
            {
                Assert.That(_bench.Inject(64), Is.True);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(1536), "12 + GOOD_PACKET_LEN rounded to 64");
            long large = _bench.Stat("rx_queue_0_large_buffers");
            Assert.That(_bench.InjectMany(600, 64), Is.EqualTo(600));
            Assert.That(_bench.Stat("rx_queue_0_large_buffers"), Is.EqualTo(large));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown();
        }

        [Test]
        public void ShutdownWithLargeBuffersPostedAndPacketsHeldReturnsEveryPage()
        {
            Make(Large());
            GrowToLargeBuffers(100);
            _bench.Receiver.Hold = true;
            for (int i = 0; i < 10; i++)
            {
                Assert.That(_bench.Inject(65000), Is.True);
            }
            _bench.Kernel.RunPending();
            Assert.That(_bench.Receiver.HeldCount, Is.EqualTo(10));
            AssertCleanShutdown();
        }

        [TestCase(1, true)]
        [TestCase(4, false)]
        public void PageSizedBuffersWhenSwitchedOffOrWithoutIndirectDescriptors(int pages, bool indirect)
        {
            VirtioNetOptions options = Large(pages);
            options.IndirectDescriptors = indirect;
            Make(options);
            Assert.That(_bench.Driver.RxLargeBufferPagesMax, Is.Zero);
            GrowToLargeBuffers(100);
            Assert.That(_bench.Stat("rx_queue_0_large_buffers"), Is.Zero);
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(Page));
            // 12 + 65000 bytes in page-sized buffers: 16 of them.
            Assert.That(BuffersUsedBy(65000), Is.EqualTo(16));
            _bench.Kernel.RunPending();
            AssertCleanShutdown();
        }

        [Test]
        public void ThePoolLimitsBufferPagesToHalfOfItsPagesPerRingSlot()
        {
            VirtioNetOptions options = Large(8);
            options.RxPoolPages = 1024;
            Make(options);
            // 1024 pool pages / (2 × 256 ring slots) = 2 pages per buffer.
            Assert.That(_bench.Driver.RxLargeBufferPagesMax, Is.EqualTo(2));
            GrowToLargeBuffers();
            Assert.That(BuffersUsedBy(65000), Is.EqualTo(8));
            _bench.Kernel.RunPending();
            AssertCleanShutdown();
        }

        [Test]
        public void LengthBeyondALargeBufferIsCountedAndDropped()
        {
            Make(Large());
            GrowToLargeBuffers();
            _bench.Device.NextRxFault = RxFault.LengthOverCapacityLastBuffer;
            Assert.That(_bench.Inject(65000), Is.True);
            _bench.Kernel.RunPending();
            Assert.That(_bench.Stat("rx_length_errors"), Is.EqualTo(1));
            Assert.That(_bench.Stat("rx_queue_0_drops"), Is.EqualTo(1));
            long packets = _bench.Receiver.Packets;
            _bench.Device.NextRxFault = RxFault.LengthOverCapacity;
            Assert.That(_bench.Inject(65000), Is.True);
            _bench.Kernel.RunPending();
            Assert.That(_bench.Stat("rx_length_errors"), Is.EqualTo(2));
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(packets));
            for (int i = 0; i < 50; i++)
            {
                Assert.That(_bench.Inject(65000), Is.True);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(packets + 50));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown();
        }
    }
}
