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
        public void AnApplicationSizedBufferIsNotTuned()
        {
            ReceiveBufferTuning t = new ReceiveBufferTuning();
            t.Reset(false);
            Assert.That(t.Read(1 << 20, 4096, Mss, Max, At(0)), Is.EqualTo(4096));
            Assert.That(t.Read(1 << 20, 4096, Mss, Max, At(1000)), Is.EqualTo(4096));
        }
    }
}
