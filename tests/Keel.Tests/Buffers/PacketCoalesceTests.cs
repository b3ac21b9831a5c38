using Keel.Buffers;
using Keel.Hal;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Buffers
{
    /// <summary>
    /// Packet.TryAppendPacket (Linux skb_try_coalesce): a packet whose bytes are all in page fragments is moved
    /// behind another without a copy; page references move with the bytes; nothing changes when it cannot.
    /// </summary>
    [TestFixture]
    public sealed unsafe class PacketCoalesceTests
    {
        private SimulatedMemory _memory;
        private PacketPool _packets;
        private PagePool _pages;

        [SetUp]
        public void SetUp()
        {
            _memory = new SimulatedMemory(8);
            _packets = PacketPool.Create(_memory, 64);
            _pages = new PagePool(_memory, 64);
        }

        [TearDown]
        public void TearDown()
        {
            Assert.That(_packets.Available, Is.EqualTo(_packets.Capacity), "every packet back");
            Assert.That(_pages.InFlight, Is.Zero, "every page reference back");
            _pages.ReleaseFreePages();
            _packets.Destroy();
            _memory.Dispose();
        }

        /// <summary>A packet with <paramref name="length"/> bytes of <paramref name="fill"/> at the page's offset.</summary>
        private Packet FragmentPacket(int page, int offset, int length, byte fill, int trueSize)
        {
            Packet p = _packets.TryAllocate(0);
            byte* a = _pages.Address(page) + offset;
            for (int i = 0; i < length; i++)
            {
                a[i] = fill;
            }
            Assert.That(p.AppendFragment(_pages, page, offset, length, trueSize), Is.True);
            return p;
        }

        [Test]
        public void FragmentsMoveAndTheDonorIsLeftEmpty()
        {
            Assert.That(_pages.TryAllocate(out int first), Is.True);
            Assert.That(_pages.TryAllocate(out int second), Is.True);
            Packet a = FragmentPacket(first, 0, 1448, 0xAA, 2048);
            Packet b = FragmentPacket(second, 0, 1448, 0xBB, 2048);
            Assert.That(a.TryAppendPacket(b), Is.True);
            Assert.That(a.Length, Is.EqualTo(2896));
            Assert.That(a.FragmentCount, Is.EqualTo(2));
            Assert.That(a.TrueSize, Is.EqualTo(Packet.LinearCapacity + 4096), "b's page charge moves, its descriptor's does not");
            Assert.That(b.Length, Is.Zero);
            Assert.That(b.FragmentCount, Is.Zero);
            Assert.That(_pages.RefCount(second), Is.EqualTo(1), "the reference moved, not copied");
            byte[] copy = new byte[2896];
            fixed (byte* c = copy)
            {
                Assert.That(a.CopyTo(0, c, 2896), Is.EqualTo(2896));
            }
            Assert.That(copy[1447], Is.EqualTo(0xAA));
            Assert.That(copy[1448], Is.EqualTo(0xBB));
            b.Free();
            a.Free();
        }

        [Test]
        public void BytesThatContinueTheLastFragmentInTheSamePageMerge()
        {
            Assert.That(_pages.TryAllocate(out int page), Is.True);
            _pages.AddRef(page, 1); // two buffers carved from one page, as mergeable receive buffers are
            Packet a = FragmentPacket(page, 0, 1500, 1, 2048);
            Packet b = FragmentPacket(page, 1500, 1500, 2, 2048);
            Assert.That(a.TryAppendPacket(b), Is.True);
            Assert.That(a.FragmentCount, Is.EqualTo(1), "one fragment spanning both");
            Assert.That(a.Fragment(0).Length, Is.EqualTo(3000));
            Assert.That(_pages.RefCount(page), Is.EqualTo(1), "the donor's reference on the shared page was dropped");
            b.Free();
            a.Free();
        }

        [Test]
        public void BytesInTheLinearAreaOrTooManyFragmentsRefuse()
        {
            Assert.That(_pages.TryAllocate(out int page), Is.True);
            Packet a = FragmentPacket(page, 0, 100, 1, 2048);
            Packet linear = _packets.TryAllocate(0);
            linear.Put(10)[0] = 7;
            Assert.That(a.TryAppendPacket(linear), Is.False, "bytes in the linear area would need a copy");
            Assert.That(a.Length, Is.EqualTo(100));
            Assert.That(linear.Length, Is.EqualTo(10));
            Assert.That(a.TryAppendPacket(a), Is.False, "not onto itself");

            // Fill a to Packet.MaxFragments with separate pages, then one more cannot fit.
            int[] pages = new int[Packet.MaxFragments];
            for (int i = 1; i < Packet.MaxFragments; i++)
            {
                Assert.That(_pages.TryAllocate(out pages[i]), Is.True);
                Assert.That(a.AppendFragment(_pages, pages[i], 0, 10, 0), Is.True);
            }
            Assert.That(_pages.TryAllocate(out int extra), Is.True);
            Packet b = FragmentPacket(extra, 0, 10, 3, 2048);
            int before = a.Length;
            Assert.That(a.TryAppendPacket(b), Is.False);
            Assert.That(a.Length, Is.EqualTo(before));
            Assert.That(b.Length, Is.EqualTo(10));
            Assert.That(b.FragmentCount, Is.EqualTo(1));
            b.Free();
            linear.Free();
            a.Free();
        }
    }
}
