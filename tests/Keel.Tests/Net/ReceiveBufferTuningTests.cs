using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>Dynamic right-sizing alone: the receiver's RTT from one advertised window, then growth per RTT.</summary>
    public class ReceiveBufferTuningTests
    {
        private const int Mss = 1000;
        private const int Max = 1 << 20;

        private static Instant At(long ms) => Instant.FromNanoseconds(1_000_000_000L + ms * 1_000_000L);

        [Test]
        public void TheReceiverRttIsTheTimeOneAdvertisedWindowTakesToArrive()
        {
            NativePageAllocator allocator = new NativePageAllocator();
            PacketPool pool = PacketPool.Create(allocator, 64);
            Packet p = pool.TryAllocate();
            ReceiveBufferTuning t = new ReceiveBufferTuning();
            t.Reset(true);
            t.DataArrived(p, Mss, 1000, 65000, At(0));   // window up to 65000 advertised at 0 ms: timing starts
            t.DataArrived(p, Mss, 30000, 65000, At(10)); // not there yet
            Assert.That(t.Rtt, Is.EqualTo(Duration.Zero));
            t.DataArrived(p, Mss, 65000, 130000, At(25)); // the window's right edge arrived after 25 ms
            Assert.That(t.Rtt, Is.EqualTo(Duration.FromMilliseconds(25)));
            p.Free();
        }

        [Test]
        public void ReadsGrowTheBufferOncePerRttToTwiceWhatWasRead()
        {
            NativePageAllocator allocator = new NativePageAllocator();
            PacketPool pool = PacketPool.Create(allocator, 1024);
            Packet p = pool.TryAllocate();
            ReceiveBufferTuning t = new ReceiveBufferTuning();
            t.Reset(true);
            t.DataArrived(p, Mss, 0, 10000, At(0));
            t.DataArrived(p, Mss, 10000, 20000, At(10)); // RTT 10 ms
            int size = 64 * 1024;
            Assert.That(t.Read(5000, size, Mss, Max, At(10)), Is.EqualTo(size), "the first read starts the measurement");
            Assert.That(t.Read(40000, size, Mss, Max, At(15)), Is.EqualTo(size), "not one RTT yet");
            // One RTT later 40000 bytes were read in it: 2 * 40000 + 16 segments.
            Assert.That(t.Read(1000, size, Mss, Max, At(21)), Is.EqualTo(2 * 41000 + 16 * Mss));
            p.Free();
        }

        [Test]
        public void RightSizingFollowsTheDrainedRateTimesTheMinimumRttAndShrinks()
        {
            NativePageAllocator allocator = new NativePageAllocator();
            PacketPool pool = PacketPool.Create(allocator, 1024);
            Packet p = pool.TryAllocate();
            ReceiveBufferTuning t = new ReceiveBufferTuning();
            t.Reset(true);
            t.RightSizing = true;
            t.MarginPercent = 200;
            t.DataArrived(p, Mss, 0, 10000, At(0));
            t.DataArrived(p, Mss, 10000, 50000, At(10));  // a window in 10 ms: the minimum RTT
            t.DataArrived(p, Mss, 50000, 90000, At(40));  // one in 30 ms (a queue in front): the minimum stays
            Assert.That(t.MinRtt, Is.EqualTo(Duration.FromMilliseconds(10)));
            Assert.That(t.Rtt, Is.EqualTo(Duration.FromMicroseconds(12500)), "the smoothed estimate moved an eighth");
            int size = 512 * 1024;
            int min = 64 * 1024;
            Assert.That(t.Read(0, size, Mss, Max, At(40), min), Is.EqualTo(size), "the first read starts the measurement");
            Assert.That(t.Read(100000, size, Mss, Max, At(45), min), Is.EqualTo(size), "not one RTT yet");
            // 100000 bytes drained in 20 ms: 5 MB/s × 10 ms × 2 + 16 segments, well below the 512 KiB buffer.
            int sized = t.Read(0, size, Mss, Max, At(60), min);
            Assert.That(sized, Is.EqualTo(5000000 / 100 * 2 + 16 * Mss));
            // A slower interval (25000 bytes in 20 ms) is not trusted alone: the larger of the last two rates holds.
            Assert.That(t.Read(25000, sized, Mss, Max, At(80), min), Is.EqualTo(sized));
            // Two slow intervals: 1.25 MB/s × 10 ms × 2 + 16 segments = 41000, below the floor of 64 KiB.
            Assert.That(t.Read(25000, sized, Mss, Max, At(100), min), Is.EqualTo(min));
            p.Free();
        }

        [Test]
        public void AnApplicationSizedBufferIsNotTuned()
        {
            ReceiveBufferTuning t = new ReceiveBufferTuning();
            t.Reset(false);
            Assert.That(t.Read(1 << 20, 4096, Mss, Max, At(0)), Is.EqualTo(4096));
            Assert.That(t.Read(1 << 20, 4096, Mss, Max, At(1000)), Is.EqualTo(4096));
        }
    }
}
