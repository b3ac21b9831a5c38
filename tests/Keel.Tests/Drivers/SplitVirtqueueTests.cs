using System.Runtime.InteropServices;
using Keel.Drivers.Virtio;
using Keel.Hal;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    public unsafe class SplitVirtqueueTests
    {
        [Test]
        public void NeedEventIsWrapSafe()
        {
            // Crossed the event exactly, before and after the 16-bit wrap.
            Assert.That(SplitVirtqueue.NeedEvent(10, 11, 10), Is.True);
            Assert.That(SplitVirtqueue.NeedEvent(10, 10, 9), Is.False);
            Assert.That(SplitVirtqueue.NeedEvent(0xFFFF, 0x0000, 0xFFFF), Is.True);
            Assert.That(SplitVirtqueue.NeedEvent(0xFFFE, 0x0002, 0xFFF0), Is.True);
            Assert.That(SplitVirtqueue.NeedEvent(0x0005, 0x0002, 0xFFF0), Is.False);
            Assert.That(SplitVirtqueue.NeedEvent(0xFFF0, 0x0003, 0xFFF5), Is.False, "event already passed before old");
            Assert.That(SplitVirtqueue.NeedEvent(5, 5, 5), Is.False, "nothing new");
        }

        [TestCase(1)]
        [TestCase(256)]
        [TestCase(1024)]
        [TestCase(32768)]
        public void LayoutFollowsTheLegacyRules(int size)
        {
            int used = SplitVirtqueue.UsedOffset(size);
            Assert.That(SplitVirtqueue.AvailOffset(size), Is.EqualTo(16 * size));
            Assert.That(used % 4096, Is.Zero);
            Assert.That(used, Is.GreaterThanOrEqualTo(16 * size + 6 + 2 * size));
            Assert.That(used - (16 * size + 6 + 2 * size), Is.LessThan(4096));
            Assert.That(SplitVirtqueue.RingBytes(size) % 4096, Is.Zero);
            Assert.That(SplitVirtqueue.RingBytes(size), Is.GreaterThanOrEqualTo(used + 6 + 8 * size));
        }

        [Test]
        public void FreeListChainsAndUsedChecks()
        {
            using SimulatedMemory memory = new SimulatedMemory(4);
            DmaRegion ring;
            Assert.That(memory.TryAllocateContiguous(SplitVirtqueue.RingPages(8), out ring), Is.True);
            SplitVirtqueue queue = new SplitVirtqueue(0, 8, ring, true);
            ScatterList list = new ScatterList(4);
            list.Add(0x1000, 10, false);
            list.Add(0x2000, 20, false);
            list.Add(0x3000, 30, true);
            ushort head;
            Assert.That(queue.TryAdd(list, out head), Is.True);
            Assert.That(queue.FreeCount, Is.EqualTo(5));
            VirtqDescriptor* d = (VirtqDescriptor*)ring.Virtual;
            Assert.That(d[head].Flags, Is.EqualTo(SplitVirtqueue.DescriptorNext));
            int second = d[head].Next;
            Assert.That(d[second].Address, Is.EqualTo(0x2000UL));
            int third = d[second].Next;
            Assert.That(d[third].Flags, Is.EqualTo(SplitVirtqueue.DescriptorWrite));
            Assert.That(queue.TryAdd(list, out _), Is.True);
            Assert.That(queue.TryAdd(list, out _), Is.False, "2 free descriptors cannot hold 3");
            Assert.That(queue.FreeCount, Is.EqualTo(2));
            Assert.That(queue.KickPrepare(), Is.True, "device's avail_event is 0: first publish kicks");

            // Device side: return the first chain.
            byte* used = ring.Virtual + SplitVirtqueue.UsedOffset(8);
            VirtqUsedElement* elements = (VirtqUsedElement*)(used + 4);
            elements[0].Id = head;
            elements[0].Length = 7;
            *(ushort*)(used + 2) = 1;
            ushort got;
            int length;
            Assert.That(queue.TryGetUsed(out got, out length), Is.EqualTo(UsedResult.Buffer));
            Assert.That(got, Is.EqualTo(head));
            Assert.That(length, Is.EqualTo(7));
            Assert.That(queue.FreeCount, Is.EqualTo(5));
            Assert.That(queue.TryGetUsed(out got, out length), Is.EqualTo(UsedResult.Empty));

            // The same id again: no longer in flight.
            elements[1].Id = head;
            *(ushort*)(used + 2) = 2;
            Assert.That(queue.TryGetUsed(out got, out length), Is.EqualTo(UsedResult.BadId));
            elements[2].Id = 99;
            *(ushort*)(used + 2) = 3;
            Assert.That(queue.TryGetUsed(out got, out length), Is.EqualTo(UsedResult.BadId));
            Assert.That(queue.BadIdCount, Is.EqualTo(2));

            // More used entries than chains in flight: broken until reinitialised.
            *(ushort*)(used + 2) = 20;
            Assert.That(queue.TryGetUsed(out got, out length), Is.EqualTo(UsedResult.Broken));
            Assert.That(queue.IsBroken, Is.True);
            ushort detached;
            int count = 0;
            while (queue.DetachUnused(out detached))
            {
                count++;
            }
            Assert.That(count, Is.EqualTo(1));
            Assert.That(queue.FreeCount, Is.EqualTo(8));
            queue.Reinitialize();
            Assert.That(queue.IsBroken, Is.False);
            Assert.That(queue.TryAddOne(0x5000, 100, true, out head), Is.True);
            memory.FreeContiguous(ring);
        }

        [Test]
        public void CallbackSuppressionWithAndWithoutEventIndex()
        {
            using SimulatedMemory memory = new SimulatedMemory(4);
            DmaRegion ring;
            Assert.That(memory.TryAllocateContiguous(SplitVirtqueue.RingPages(16), out ring), Is.True);
            byte* avail = ring.Virtual + SplitVirtqueue.AvailOffset(16);
            ushort* usedEvent = (ushort*)(avail + 4 + 2 * 16);

            SplitVirtqueue plain = new SplitVirtqueue(0, 16, ring, false);
            plain.DisableCallbacks();
            Assert.That(*(ushort*)avail, Is.EqualTo(SplitVirtqueue.AvailNoInterrupt));
            Assert.That(plain.EnableCallbacks(), Is.True);
            Assert.That(*(ushort*)avail, Is.Zero);

            SplitVirtqueue indexed = new SplitVirtqueue(0, 16, ring, true);
            indexed.DisableCallbacks();
            Assert.That(*(ushort*)avail, Is.Zero, "with EVENT_IDX the flags stay 0");
            Assert.That(*usedEvent, Is.EqualTo(0x8000), "used_event moved half the index space away");
            ushort token = indexed.EnableCallbacksPrepare();
            Assert.That(*usedEvent, Is.EqualTo(token));
            Assert.That(indexed.PollUsed(token), Is.False);
            memory.FreeContiguous(ring);
        }
    }
}
