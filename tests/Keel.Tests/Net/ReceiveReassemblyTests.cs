using Keel.Buffers;
using Keel.Net;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The out-of-order list alone: sorted insertion, duplicates refused as D-SACKs (RFC 2883 section 4), SACK
    /// blocks in RFC 2018 section 4 order, and draining into the in-order queue when rcv.nxt catches up.
    /// </summary>
    public unsafe class ReceiveReassemblyTests
    {
        private NativePageAllocator _allocator;
        private PacketPool _pool;

        [SetUp]
        public void SetUp()
        {
            _allocator = new NativePageAllocator();
            _pool = PacketPool.Create(_allocator, 64);
        }

        private Packet Segment(int length)
        {
            Packet p = _pool.TryAllocate();
            p.Put(length);
            return p;
        }

        private static int Blocks(ReceiveReassembly r, uint[] edges, out bool dsack)
        {
            fixed (uint* b = edges)
            {
                return r.BuildSackBlocks(b, edges.Length / 2, out dsack);
            }
        }

        [Test]
        public void BlocksNameTheMostRecentSegmentFirstThenTheRestFromTheHighest()
        {
            ReceiveReassembly r = new ReceiveReassembly(new long[NetStatistics.Count]);
            Assert.That(r.Insert(Segment(100), 1100, 100, true), Is.True);
            Assert.That(r.Insert(Segment(100), 1500, 100, true), Is.True);
            Assert.That(r.Insert(Segment(100), 1300, 100, true), Is.True);
            Assert.That(r.Bytes, Is.EqualTo(300));
            uint[] edges = new uint[8];
            int n = Blocks(r, edges, out bool dsack);
            Assert.That(dsack, Is.False);
            Assert.That(n, Is.EqualTo(3));
            // RFC 2018 section 4: the first block holds the segment that triggered the ACK.
            Assert.That(new[] { edges[0], edges[1] }, Is.EqualTo(new uint[] { 1300, 1400 }));
            Assert.That(new[] { edges[2], edges[3], edges[4], edges[5] }, Is.EqualTo(new uint[] { 1500, 1600, 1100, 1200 }));
            r.Clear();
        }

        [Test]
        public void AdjacentSegmentsMakeOneBlock()
        {
            ReceiveReassembly r = new ReceiveReassembly(new long[NetStatistics.Count]);
            r.Insert(Segment(100), 1100, 100, true);
            r.Insert(Segment(100), 1200, 100, true);
            uint[] edges = new uint[8];
            Assert.That(Blocks(r, edges, out _), Is.EqualTo(1));
            Assert.That(new[] { edges[0], edges[1] }, Is.EqualTo(new uint[] { 1100, 1300 }));
            r.Clear();
        }

        [Test]
        public void ADuplicateIsRefusedAndReportedFirstAsADsack()
        {
            ReceiveReassembly r = new ReceiveReassembly(new long[NetStatistics.Count]);
            r.Insert(Segment(100), 1100, 100, true);
            Packet again = Segment(100);
            Assert.That(r.Insert(again, 1100, 100, true), Is.False, "already held");
            again.Free();
            Assert.That(r.DsackPending, Is.True);
            uint[] edges = new uint[8];
            int n = Blocks(r, edges, out bool dsack);
            Assert.That(dsack, Is.True);
            Assert.That(n, Is.EqualTo(2));
            // RFC 2883 section 4, example 2: the D-SACK block, then the block it lies in.
            Assert.That(new[] { edges[0], edges[1], edges[2], edges[3] }, Is.EqualTo(new uint[] { 1100, 1200, 1100, 1200 }));
            Assert.That(r.DsackPending, Is.False, "reported once");
            r.Clear();
        }

        [Test]
        public void DrainMovesWhatIsNowInOrder()
        {
            ReceiveReassembly r = new ReceiveReassembly(new long[NetStatistics.Count]);
            r.Insert(Segment(100), 1100, 100, true);
            r.Insert(Segment(100), 1300, 100, true);
            PacketQueue inOrder = default;
            uint next = 1100; // the hole [1000, 1100) was filled
            Assert.That(r.Drain(ref next, ref inOrder), Is.EqualTo(100));
            Assert.That(next, Is.EqualTo(1200u));
            Assert.That(inOrder.Count, Is.EqualTo(1));
            inOrder.FreeAll();
            Assert.That(r.Count, Is.EqualTo(1), "[1300, 1400) still waits");
            uint[] edges = new uint[8];
            Assert.That(Blocks(r, edges, out _), Is.EqualTo(1));
            Assert.That(new[] { edges[0], edges[1] }, Is.EqualTo(new uint[] { 1300, 1400 }));
            r.Clear();
            Assert.That(r.IsEmpty && r.Bytes == 0 && r.TrueSize == 0, Is.True);
        }
    }
}
