using System;
using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>Receive-side device misbehaviour and memory exhaustion: counted, dropped, recovered.</summary>
    public partial class VirtioNetReceiveTests
    {
        private void InjectFaulty(RxFault fault, int length)
        {
            _bench.Device.NextRxFault = fault;
            Assert.That(_bench.Inject(length), Is.True);
            _bench.Kernel.RunPending();
        }

        private void AssertStillWorks(int packetsBefore)
        {
            _bench.Receiver.ExpectedLength = 700;
            _bench.Receiver.ExpectedSequence = -1;
            long before = _bench.Receiver.Packets;
            Assert.That(_bench.InjectMany(600, 700), Is.EqualTo(600));
            Assert.That(_bench.Receiver.Packets - before, Is.EqualTo(600));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
        }

        /// <summary>One faulty packet on a fresh bench: counted under <paramref name="errorCounter"/>, dropped, not
        /// delivered; the queue then works and shuts down clean.</summary>
        private void AssertFaultIsDroppedAndRecovered(RxFault fault, int length, string errorCounter)
        {
            Make();
            InjectFaulty(fault, length);
            Assert.That(_bench.Stat(errorCounter), Is.EqualTo(1));
            Assert.That(_bench.Stat("rx_queue_0_drops"), Is.EqualTo(1));
            Assert.That(_bench.Receiver.Packets, Is.Zero);
            AssertStillWorks(0);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void ShortPacketIsCountedAndDropped() => AssertFaultIsDroppedAndRecovered(RxFault.ShortLength, 500, "rx_length_errors");

        [Test]
        public void LengthBeyondTrueSizeIsCountedAndDropped() => AssertFaultIsDroppedAndRecovered(RxFault.LengthOverCapacity, 3000, "rx_length_errors");

        [Test]
        public void LengthBeyondTrueSizeInALaterBufferIsCountedAndDropped() => AssertFaultIsDroppedAndRecovered(RxFault.LengthOverCapacityLastBuffer, 5000, "rx_length_errors");

        [Test]
        public void NumBuffersZeroIsAFrameError() => AssertFaultIsDroppedAndRecovered(RxFault.NumBuffersZero, 800, "rx_frame_errors");

        [Test]
        public void NumBuffersMoreThanArriveIsALengthError() => AssertFaultIsDroppedAndRecovered(RxFault.NumBuffersTooMany, 3000, "rx_length_errors");

        [TestCase(RxFault.BadIdOutOfRange)]
        [TestCase(RxFault.BadIdNotInFlight)]
        public void UnknownDescriptorIdIsCountedAndSkipped(RxFault fault)
        {
            Make();
            InjectFaulty(fault, 300);
            Assert.That(_bench.Stat("rx_queue_0_bad_ids"), Is.EqualTo(1));
            Assert.That(_bench.Stat("rx_frame_errors"), Is.EqualTo(1));
            Assert.That(_bench.Receiver.Packets, Is.Zero);
            // The buffer the device really used is lost to the ring until shutdown takes it back.
            Assert.That(_bench.Driver.RxBuffersPosted, Is.EqualTo(256));
            AssertStillWorks(0);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void UsedIndexJumpResetsAndRecovers()
        {
            Make();
            _bench.Receiver.Hold = true;
            _bench.InjectMany(10, 400);
            InjectFaulty(RxFault.UsedIndexJump, 400);
            Assert.That(_bench.Stat("used_idx_errors"), Is.EqualTo(1));
            Assert.That(_bench.Stat("device_resets"), Is.EqualTo(1));
            Assert.That(_bench.Driver.State, Is.EqualTo(VirtioNetState.Running));
            Assert.That(_bench.Device.Status & VirtioStatus.DriverOk, Is.Not.Zero);
            Assert.That(_bench.Device.Resets, Is.GreaterThanOrEqualTo(2));
            _bench.Receiver.FreeHeld();
            _bench.Receiver.Hold = false;
            AssertStillWorks(0);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void DeviceNeedsResetRecovers()
        {
            Make();
            _bench.InjectMany(100, 400);
            _bench.Device.SignalNeedsReset();
            _bench.Kernel.RunPending();
            Assert.That(_bench.Stat("device_resets"), Is.EqualTo(1));
            Assert.That(_bench.Stat("config_interrupts"), Is.EqualTo(1));
            AssertStillWorks(0);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void LinkStatusFollowsConfigurationChanges()
        {
            Make(msix: false);
            Assert.That(_bench.Driver.LinkUp, Is.True);
            _bench.Device.SetLink(false);
            _bench.Kernel.RunPending();
            Assert.That(_bench.Driver.LinkUp, Is.False);
            _bench.Device.SetLink(true);
            _bench.Kernel.RunPending();
            Assert.That(_bench.Driver.LinkUp, Is.True);
            Assert.That(_bench.Stat("config_interrupts"), Is.EqualTo(2));
            AssertCleanShutdown(_bench);
        }

        // ---- refill ----

        [Test]
        public void RunsOutOfPagesThenRefillsFromTheTimer()
        {
            Make();
            _bench.Memory.FailAllocations = true;
            _bench.Receiver.Hold = true;
            _bench.Receiver.ExpectedLength = 1000;
            // Held packets pin every page: the ring drains and cannot be refilled.
            int delivered = 0;
            for (int i = 0; i < 400; i++)
            {
                if (_bench.Inject(1000))
                {
                    delivered++;
                }
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Driver.RxBuffersPosted, Is.Zero, "ring empty");
            Assert.That(_bench.Device.RxDroppedNoBuffers, Is.GreaterThan(0));
            Assert.That(_bench.Stat("rx_queue_0_refill_failures"), Is.GreaterThan(0));
            Assert.That(_bench.Kernel.AnyTimerArmed, Is.True, "refill retry armed");
            // Still no memory: the retry fails and re-arms; the ring stays empty but is not forgotten.
            _bench.Kernel.Advance(600_000_000);
            Assert.That(_bench.Kernel.AnyTimerArmed, Is.True);
            // The stack frees its packets; pages return to the pool; the next retry fills the ring.
            _bench.Receiver.FreeHeld();
            _bench.Receiver.Hold = false;
            _bench.Kernel.Advance(600_000_000);
            Assert.That(_bench.Driver.RxBuffersPosted, Is.EqualTo(256));
            Assert.That(_bench.Stat("rx_queue_0_refill_retries"), Is.GreaterThanOrEqualTo(2));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            _bench.Memory.FailAllocations = false;
            AssertStillWorks(0);
            Assert.That(_bench.Driver.RxPackets.InUse, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void PageAllocatorRecoveryRefillsWithoutRecycledPages()
        {
            Make(new VirtioNetOptions { PagePoolRecycling = false });
            _bench.Memory.FailAfter = 0;
            _bench.Receiver.ExpectedLength = 1000;
            for (int i = 0; i < 400; i++)
            {
                _bench.Inject(1000);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Driver.RxBuffersPosted, Is.Zero);
            Assert.That(_bench.Stat("page_pool_released"), Is.GreaterThan(0), "no recycling: freed pages went to the allocator");
            _bench.Memory.FailAfter = -1;
            _bench.Kernel.Advance(600_000_000);
            Assert.That(_bench.Driver.RxBuffersPosted, Is.EqualTo(256));
            AssertStillWorks(0);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void PacketPoolExhaustionDropsAndContinues()
        {
            Make(new VirtioNetOptions { RxPackets = 32 });
            _bench.Receiver.Hold = true;
            _bench.InjectMany(100, 300);
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(32));
            Assert.That(_bench.Stat("rx_queue_0_packet_alloc_failures"), Is.EqualTo(68));
            Assert.That(_bench.Stat("rx_queue_0_drops"), Is.EqualTo(68));
            _bench.Receiver.FreeHeld();
            _bench.Receiver.Hold = false;
            AssertStillWorks(0);
            AssertCleanShutdown(_bench);
        }

        // ---- NAPI ----

        private sealed class RaceReceiver : IPacketReceiver
        {
            public Bench Bench;
            public bool InjectAtBatchEnd;
            public long Packets;
            public long InterruptsSeenAtInject;

            public void Receive(Packet frame)
            {
                Packets++;
                frame.Free();
            }

            public void ReceiveBatchDone()
            {
                if (InjectAtBatchEnd)
                {
                    // The device uses a buffer after the driver drained the ring but before it re-enabled
                    // callbacks: with callbacks off no interrupt is raised for it.
                    InjectAtBatchEnd = false;
                    InterruptsSeenAtInject = Bench.Device.InterruptsRaised[0];
                    Bench.Inject(90);
                }
            }
        }

        [TestCase(true)]
        [TestCase(false)]
        public void ReArmRaceLosesNoWakeup(bool eventIndex)
        {
            Make(new VirtioNetOptions { EventIndex = eventIndex });
            RaceReceiver receiver = new RaceReceiver { Bench = _bench };
            _bench.Driver.Receiver = receiver;
            Assert.That(_bench.Inject(90), Is.True);
            receiver.InjectAtBatchEnd = true;
            _bench.Kernel.RunPending();
            Assert.That(_bench.Device.InterruptsRaised[0], Is.EqualTo(receiver.InterruptsSeenAtInject), "no interrupt for the racing buffer");
            Assert.That(receiver.Packets, Is.EqualTo(2), "the re-check found it anyway");
            Assert.That(_bench.Stat("rx_queue_0_rearm_races"), Is.EqualTo(1));
            Assert.That(_bench.Driver.RxQueue.CallbacksDisabled, Is.False, "callbacks on when idle");
            // And the next frame interrupts normally.
            long interrupts = _bench.Device.InterruptsRaised[0];
            Assert.That(_bench.Inject(90), Is.True);
            Assert.That(_bench.Device.InterruptsRaised[0], Is.EqualTo(interrupts + 1));
            _bench.Kernel.RunPending();
            Assert.That(receiver.Packets, Is.EqualTo(3));
            AssertCleanShutdown(_bench);
        }
    }
}
