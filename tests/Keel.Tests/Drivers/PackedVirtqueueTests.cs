using Keel.Drivers.Virtio;
using Keel.Hal;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>
    /// The packed ring (virtio 1.1 §2.8) against the spec-written device side (<see cref="DeviceRing"/>): chains,
    /// wrap counters over many laps, event suppression both ways, and a device that returns ids it was never
    /// given (counted, queue broken, every buffer taken back).
    /// </summary>
    public unsafe class PackedVirtqueueTests
    {
        private SimulatedMemory _memory;
        private DmaRegion _buffers;

        [SetUp]
        public void SetUp()
        {
            _memory = new SimulatedMemory(4);
            Assert.That(_memory.TryAllocateContiguous(4, out _buffers), Is.True);
        }

        [TearDown]
        public void TearDown()
        {
            _memory.Dispose();
        }

        private Virtqueue NewQueue(int size, bool eventIndex, out DeviceRing device)
        {
            DmaRegion ring;
            Assert.That(_memory.TryAllocateContiguous(PackedVirtqueue.RingPages(size), out ring), Is.True);
            Virtqueue queue = new Virtqueue(0, size, ring, eventIndex, true);
            Assert.That(queue.IsPacked, Is.True);
            // 2.8.10: the two event suppression structures follow the ring, 4 bytes each.
            Assert.That(queue.DriverAreaPhysical, Is.EqualTo(ring.Physical + (ulong)(VirtioSpec.PackedDescriptorSize * size)));
            Assert.That(queue.DeviceAreaPhysical, Is.EqualTo(queue.DriverAreaPhysical + 4));
            device = new DeviceRing(_memory, true, eventIndex, size, queue.DescriptorPhysical, queue.DriverAreaPhysical, queue.DeviceAreaPhysical);
            return queue;
        }

        private ulong Buffer(int index) => _buffers.Physical + (ulong)(index * 64);

        [Test]
        public void DescriptorFlagsFollowTheSpecification()
        {
            DeviceRing device;
            Virtqueue queue = NewQueue(4, false, out device);
            ushort id;
            Assert.That(queue.TryAddOne(Buffer(0), 64, true, out id), Is.True);
            // First lap: driver wrap counter 1, so AVAIL = 1 and USED = 0 (2.8.1).
            ushort flags = *(ushort*)(queue.Memory.Virtual + 14);
            Assert.That(flags, Is.EqualTo((ushort)(VirtioSpec.VIRTQ_DESC_F_AVAIL | VirtioSpec.VIRTQ_DESC_F_WRITE)));
            Assert.That(*(ushort*)(queue.Memory.Virtual + 12), Is.EqualTo(id), "buffer id in the descriptor");
        }

        [Test]
        public void ChainsRoundTripOverManyWraps()
        {
            DeviceRing device;
            Virtqueue queue = NewQueue(5, false, out device);
            ScatterList list = new ScatterList(3);
            DeviceBuffer[] chain = new DeviceBuffer[8];
            for (int lap = 0; lap < 40; lap++)
            {
                list.Clear();
                list.Add(Buffer(0), 10, false);
                list.Add(Buffer(1), 20, false);
                list.Add(Buffer(2), 30, true);
                ushort id;
                Assert.That(queue.TryAdd(list, out id), Is.True, "lap " + lap);
                ushort single;
                Assert.That(queue.TryAddOne(Buffer(3), 40, true, out single), Is.True);
                Assert.That(queue.FreeCount, Is.EqualTo(1));
                Assert.That(queue.TryAdd(list, out _), Is.False, "one free slot cannot hold three");

                int count;
                Assert.That(device.Pop(chain, out count), Is.EqualTo(id));
                Assert.That(count, Is.EqualTo(3));
                Assert.That(chain[0].Address, Is.EqualTo(Buffer(0)));
                Assert.That(chain[2].Writable, Is.True);
                Assert.That(device.Pop(chain, out count), Is.EqualTo(single));
                Assert.That(device.Pop(chain, out count), Is.EqualTo(-1));

                // Out of order: the single buffer first.
                device.Push(single, 7);
                device.Push(id, 30);
                ushort head;
                int length;
                Assert.That(queue.TryGetUsed(out head, out length), Is.EqualTo(UsedResult.Buffer));
                Assert.That(head, Is.EqualTo(single));
                Assert.That(length, Is.EqualTo(7));
                Assert.That(queue.TryGetUsed(out head, out length), Is.EqualTo(UsedResult.Buffer));
                Assert.That(head, Is.EqualTo(id));
                Assert.That(queue.TryGetUsed(out head, out length), Is.EqualTo(UsedResult.Empty));
                Assert.That(queue.FreeCount, Is.EqualTo(5));
                Assert.That(queue.InFlight, Is.Zero);
            }
        }

        [Test]
        public void IndirectTableUsesPackedDescriptorsAndOneSlot()
        {
            DeviceRing device;
            Virtqueue queue = NewQueue(4, false, out device);
            DmaRegion tables;
            Assert.That(_memory.TryAllocateContiguous(1, out tables), Is.True);
            queue.SetIndirectTables(tables, 4);
            ScatterList list = new ScatterList(4);
            list.Add(Buffer(0), 12, false);
            list.Add(Buffer(1), 100, false);
            list.Add(Buffer(2), 200, false);
            ushort id;
            Assert.That(queue.TryAddIndirect(list, out id), Is.True);
            Assert.That(queue.FreeCount, Is.EqualTo(3));
            DeviceBuffer[] chain = new DeviceBuffer[8];
            int count;
            Assert.That(device.Pop(chain, out count), Is.EqualTo(id));
            Assert.That(count, Is.EqualTo(3));
            Assert.That(chain[1].Length, Is.EqualTo(100));
        }

        [Test]
        public void EventSuppressionBothWays()
        {
            DeviceRing device;
            Virtqueue queue = NewQueue(8, true, out device);
            ushort id;
            // Device event suppression: DISABLE means no kick.
            device.SetNotifications(false);
            queue.TryAddOne(Buffer(0), 64, true, out id);
            Assert.That(queue.KickPrepare(), Is.False);
            device.SetNotifications(true);
            queue.TryAddOne(Buffer(1), 64, true, out id);
            Assert.That(queue.KickPrepare(), Is.True);

            DeviceBuffer[] chain = new DeviceBuffer[8];
            int count;
            int first = device.Pop(chain, out count);
            int second = device.Pop(chain, out count);
            // Driver disabled callbacks: the device must not interrupt.
            queue.DisableCallbacks();
            Assert.That(device.Push(first, 1), Is.False);
            // Enabled with EVENT_IDX: interrupt for the next used descriptor.
            ushort token = queue.EnableCallbacksPrepare();
            Assert.That(queue.PollUsed(token), Is.True, "the first buffer is already used");
            ushort head;
            int length;
            Assert.That(queue.TryGetUsed(out head, out length), Is.EqualTo(UsedResult.Buffer));
            token = queue.EnableCallbacksPrepare();
            Assert.That(queue.PollUsed(token), Is.False);
            Assert.That(device.Push(second, 1), Is.True);
            Assert.That(queue.PollUsed(token), Is.True);
        }

        [Test]
        public void KickFollowsTheDeviceEventOffsetInSlots()
        {
            DeviceRing device;
            Virtqueue queue = NewQueue(8, true, out device);
            ushort* deviceEvent = (ushort*)(queue.Memory.Virtual + VirtioSpec.PackedDescriptorSize * 8 + 4);
            ScatterList list = new ScatterList(3);
            list.Add(Buffer(0), 10, false);
            list.Add(Buffer(1), 10, false);
            list.Add(Buffer(2), 10, false);
            // 2.8.10: notify when the descriptor at off (wrap counter 1) is made available.
            deviceEvent[0] = (ushort)(2 | (1 << 15));
            deviceEvent[1] = VirtioSpec.RING_EVENT_FLAGS_DESC;
            queue.TryAdd(list, out _);
            Assert.That(queue.KickPrepare(), Is.True, "slot 2 is inside the first chain (slots 0..2)");
            queue.TryAdd(list, out _);
            Assert.That(queue.KickPrepare(), Is.False, "slots 3..5 do not reach back to slot 2");
            deviceEvent[0] = (ushort)(7 | (1 << 15));
            queue.TryAddOne(Buffer(3), 10, false, out _);
            Assert.That(queue.KickPrepare(), Is.False, "slot 6 is before the event at 7");
            ushort head;
            int length;
            DeviceBuffer[] chain = new DeviceBuffer[8];
            int count;
            for (int i = 0; i < 3; i++)
            {
                device.Push(device.Pop(chain, out count), 0);
            }
            while (queue.TryGetUsed(out head, out length) == UsedResult.Buffer)
            {
            }
            // Slots 7, then 0..1 in the second lap (wrap counter 0): the event at 7 in lap 1 is crossed.
            queue.TryAdd(list, out _);
            Assert.That(queue.KickPrepare(), Is.True);
        }

        [Test]
        public void UnknownIdIsCountedTheQueueBreaksAndEveryBufferComesBack()
        {
            DeviceRing device;
            Virtqueue queue = NewQueue(4, false, out device);
            ushort a, b;
            queue.TryAddOne(Buffer(0), 64, true, out a);
            queue.TryAddOne(Buffer(1), 64, true, out b);
            DeviceBuffer[] chain = new DeviceBuffer[8];
            int count;
            device.Pop(chain, out count);
            device.PushRaw(3, 64); // id 3 was never made available
            ushort head;
            int length;
            Assert.That(queue.TryGetUsed(out head, out length), Is.EqualTo(UsedResult.BadId));
            Assert.That(queue.BadIdCount, Is.EqualTo(1));
            Assert.That(queue.IsBroken, Is.True);
            Assert.That(queue.TryGetUsed(out head, out length), Is.EqualTo(UsedResult.Broken));
            int back = 0;
            while (queue.DetachUnused(out head))
            {
                back++;
            }
            Assert.That(back, Is.EqualTo(2));
            Assert.That(queue.FreeCount, Is.EqualTo(4));
            queue.Reinitialize();
            Assert.That(queue.IsBroken, Is.False);
        }

        [TestCase(1)]
        [TestCase(3)]
        [TestCase(256)]
        [TestCase(32768)]
        public void AnySizeUpTo32768(int size)
        {
            Assert.That(PackedVirtqueue.IsValidSize(size), Is.True);
            Assert.That(PackedVirtqueue.RingPages(size) * 4096, Is.GreaterThanOrEqualTo(16 * size + 8));
        }
    }
}
