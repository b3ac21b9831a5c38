using System;
using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    public partial class VirtioNetReceiveTests
    {
        private Bench _bench;

        private Bench Make(VirtioNetOptions options = null, bool legacy = false, bool msix = true, int queueSize = 256, ulong removeFeatures = 0)
        {
            _bench = new Bench(options, legacy, msix, queueSize, removeFeatures);
            Assert.That(_bench.Start(), Is.True);
            return _bench;
        }

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

        /// <summary>Stops the driver and checks every page and packet went home.</summary>
        internal static void AssertCleanShutdown(Bench bench)
        {
            bench.Receiver.FreeHeld();
            Assert.That(bench.Driver.Stop(), Is.True, "all memory returned");
            Assert.That(bench.Driver.RxPagePool.InFlight, Is.Zero);
            Assert.That(bench.Driver.RxPagePool.PagesHeld, Is.Zero);
            Assert.That(bench.Memory.AllocatedPages, Is.Zero);
        }

        [Test]
        public void SeventyThousandPacketsWrapEveryIndex()
        {
            Make();
            _bench.Receiver.ExpectedLength = 200;
            _bench.Receiver.ExpectedSequence = 0;
            const int count = 70_000 + 3_000;
            int delivered = _bench.InjectMany(count, 200, pollEvery: 50);
            Assert.That(delivered, Is.EqualTo(count));
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(count));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            Assert.That(_bench.Stat("rx_length_errors") + _bench.Stat("rx_frame_errors") + _bench.Stat("rx_queue_0_drops"), Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void SeventyThousandPacketsWrapWithoutEventIndex()
        {
            Make(new VirtioNetOptions { EventIndex = false });
            Assert.That(_bench.Driver.NegotiatedFeatures & VirtioFeatures.EventIndex, Is.Zero);
            _bench.Receiver.ExpectedLength = 100;
            const int count = 70_100;
            Assert.That(_bench.InjectMany(count, 100, pollEvery: 200), Is.EqualTo(count));
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(count));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [TestCase(60)]
        [TestCase(1514)]
        [TestCase(1600)]
        [TestCase(3000)]
        [TestCase(9000)]
        [TestCase(20000)]
        public void MergesFramesOverSeveralBuffers(int length)
        {
            Make();
            int bufferLength = _bench.Driver.MergeableBufferLength;
            Assert.That(bufferLength, Is.EqualTo(1536), "12 + max(EWMA, 1518) rounded to 64");
            // Buffers are carved 1536 bytes apart; the second of a page also gets the 1024-byte tail
            // (truesize 2560), so buffers alternate 1536 / 2560 bytes.
            int minimumBuffers = (12 + length + 2559) / 2560;
            int maximumBuffers = (12 + length + 1535) / 1536;
            int available = _bench.Device.RxBuffersAvailable;
            _bench.Receiver.ExpectedLength = length;
            _bench.Receiver.Hold = true;
            Assert.That(_bench.Inject(length), Is.True);
            int used = available - _bench.Device.RxBuffersAvailable;
            Assert.That(used, Is.InRange(minimumBuffers, maximumBuffers));
            _bench.Kernel.RunPending();
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(1));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            Packet packet = _bench.Receiver.TakeHeld();
            // Linux page_to_skb: a frame of up to GOOD_COPY_LEN (128) is copied whole, else only the Ethernet header.
            Assert.That(packet.LinearLength, Is.EqualTo(length <= 128 ? length : 14));
            // Buffers carved next to each other in one page are merged into one fragment (Linux skb_coalesce_rx_frag).
            Assert.That(packet.FragmentCount, Is.EqualTo(length <= 128 ? 0 : used - _bench.Stat("rx_queue_0_coalesced_frags")));
            Assert.That(packet.FragmentCount, Is.LessThanOrEqualTo((used + 1) / 2 + 1));
            if (length > 128)
            {
                Assert.That(packet.TrueSize, Is.InRange(Packet.LinearCapacity + used * 1536, Packet.LinearCapacity + used * 2560));
            }
            packet.Free();
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void FramesNeedingMoreFragmentsThanAPacketHasAreDropped()
        {
            Make(new VirtioNetOptions { RxBufferPagesMax = 1 });
            // Page-sized buffers (grown by the EWMA) are never adjacent: one fragment each. 18 of them hold
            // 4084 + 17 × 4096 bytes; a bigger frame needs a 19th fragment, a packet carries 18.
            _bench.Receiver.ExpectedLength = 20000;
            for (int i = 0; i < 3000; i++)
            {
                _bench.Inject(20000);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(4096));
            long packets = _bench.Receiver.Packets;
            long lengthErrors = _bench.Stat("rx_length_errors");
            Assert.That(_bench.Inject(4084 + 17 * 4096 + 100), Is.True);
            _bench.Kernel.RunPending();
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(packets));
            Assert.That(_bench.Stat("rx_length_errors"), Is.EqualTo(lengthErrors + 1));
            Assert.That(_bench.Stat("rx_queue_0_too_many_frags"), Is.EqualTo(1));
            _bench.Receiver.ExpectedLength = 1000;
            _bench.Receiver.ExpectedSequence = -1;
            Assert.That(_bench.InjectMany(300, 1000), Is.EqualTo(300));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void SixtyFourKilobyteFramesFitBeforeTheEwmaGrows()
        {
            // Before the EWMA adapts, buffers are 1536 bytes (two per page, the second with the page's tail):
            // adjacent buffers merge, so a 64 KiB GSO frame still fits in a packet's 18 fragments.
            Make();
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(1536));
            _bench.Receiver.ExpectedLength = 65000;
            _bench.Device.RxGsoType = VirtioNetHeader.GsoTcpV4;
            _bench.Device.RxHeaderFlags = VirtioNetHeader.FlagDataValid;
            Assert.That(_bench.Inject(65000), Is.True);
            _bench.Kernel.RunPending();
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(1));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            Assert.That(_bench.Stat("rx_queue_0_gso_packets"), Is.EqualTo(1));
            Assert.That(_bench.Stat("rx_queue_0_coalesced_frags"), Is.GreaterThan(10));
            Assert.That(_bench.Stat("rx_queue_0_drops"), Is.Zero);
            _bench.Device.RxGsoType = 0;
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void EwmaGrowsBuffersForLargePacketsWithGuestTso()
        {
            Make(new VirtioNetOptions { GuestTso = true, RxBufferPagesMax = 1 });
            Assert.That(_bench.Driver.NegotiatedFeatures & VirtioNetFeatures.GuestTso4, Is.Not.Zero);
            Assert.That(_bench.Driver.NegotiatedFeatures & VirtioNetFeatures.GuestCsum, Is.Not.Zero);
            Assert.That(_bench.Driver.Mode, Is.EqualTo(ReceiveMode.Mergeable));
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(1536));
            _bench.Receiver.ExpectedLength = 20000;
            for (int i = 0; i < 3000; i++)
            {
                _bench.Inject(20000);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(4096), "EWMA of 20000 clamps at a page");
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            // With page-sized buffers a 64 KiB GSO frame fits in 17 buffers.
            _bench.Receiver.ExpectedLength = 65000;
            long before = _bench.Receiver.Packets;
            for (int i = 0; i < 50; i++)
            {
                Assert.That(_bench.Inject(65000), Is.True);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Receiver.Packets - before, Is.EqualTo(50));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void EwmaShrinksBackToTheMinimum()
        {
            Make(new VirtioNetOptions { GuestTso = true });
            for (int i = 0; i < 1000; i++)
            {
                _bench.Inject(30000);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(4096));
            for (int i = 0; i < 3000; i++)
            {
                _bench.Inject(64);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(1536));
            AssertCleanShutdown(_bench);
        }

        // ---- every check of what the device returns ----

        [Test]
        public void PollHonoursTheBudgetAndInterruptsAreSuppressedWhilePolling()
        {
            Make();
            // 200 frames arrive while the main loop is busy: one interrupt, then callbacks are off.
            for (int i = 0; i < 200; i++)
            {
                Assert.That(_bench.Inject(64), Is.True);
            }
            Assert.That(_bench.Device.InterruptsRaised[0], Is.EqualTo(1));
            Assert.That(_bench.Kernel.RunOnce(), Is.EqualTo(1));
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(64), "budget");
            _bench.Kernel.RunPending();
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(200));
            Assert.That(_bench.Stat("rx_queue_0_polls"), Is.GreaterThanOrEqualTo(4));
            Assert.That(_bench.Driver.RxQueue.CallbacksDisabled, Is.False);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void IntxInterruptsWork()
        {
            Make(msix: false);
            Assert.That(_bench.Transport.UsesMsix, Is.False);
            _bench.Receiver.ExpectedLength = 500;
            Assert.That(_bench.InjectMany(5000, 500), Is.EqualTo(5000));
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(5000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void QueueSize1024()
        {
            Make(queueSize: 1024);
            Assert.That(_bench.Driver.RxQueue.Size, Is.EqualTo(1024));
            Assert.That(_bench.Driver.TxQueue.Size, Is.EqualTo(1024));
            Assert.That(_bench.Device.RxBuffersAvailable, Is.EqualTo(1024));
            _bench.Receiver.ExpectedLength = 1514;
            _bench.Receiver.ExpectedSequence = 0;
            Assert.That(_bench.InjectMany(70_000, 1514, pollEvery: 300), Is.EqualTo(70_000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void SmallerQueueSizeCanBeRequestedOnModernDevices()
        {
            Make(new VirtioNetOptions { RxQueueSize = 64, TxQueueSize = 128 }, queueSize: 1024);
            Assert.That(_bench.Driver.RxQueue.Size, Is.EqualTo(64));
            Assert.That(_bench.Driver.TxQueue.Size, Is.EqualTo(128));
            Assert.That(_bench.InjectMany(1000, 1514), Is.EqualTo(1000));
            AssertCleanShutdown(_bench);
        }

        // ---- fallbacks ----

        [Test]
        public void SmallBuffersWithoutMergeableModern()
        {
            Make(new VirtioNetOptions { GuestTso = false }, removeFeatures: VirtioNetFeatures.MergeableRxBuffers);
            Assert.That(_bench.Driver.Mode, Is.EqualTo(ReceiveMode.Small));
            Assert.That(_bench.Driver.HeaderLength, Is.EqualTo(12), "VERSION_1 header keeps num_buffers");
            _bench.Receiver.ExpectedLength = 1514;
            _bench.Receiver.ExpectedSequence = 0;
            Assert.That(_bench.InjectMany(71_000, 1514, pollEvery: 64), Is.EqualTo(71_000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            // A frame bigger than a small buffer does not fit: the device drops it (QEMU would too).
            Assert.That(_bench.Inject(1600), Is.False);
            InjectFaulty(RxFault.LengthOverCapacity, 800);
            Assert.That(_bench.Stat("rx_length_errors"), Is.EqualTo(1));
            InjectFaulty(RxFault.ShortLength, 800);
            Assert.That(_bench.Stat("rx_length_errors"), Is.EqualTo(2));
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void LegacyWithoutMergeableUsesTenByteHeaders()
        {
            Make(new VirtioNetOptions { GuestTso = false }, legacy: true, msix: false, removeFeatures: VirtioNetFeatures.MergeableRxBuffers);
            Assert.That(_bench.Driver.Mode, Is.EqualTo(ReceiveMode.Small));
            Assert.That(_bench.Driver.HeaderLength, Is.EqualTo(10));
            Assert.That(_bench.Driver.NegotiatedFeatures >> 32, Is.Zero);
            _bench.Receiver.ExpectedLength = 1000;
            Assert.That(_bench.InjectMany(3000, 1000), Is.EqualTo(3000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void LegacyWithMergeable()
        {
            Make(legacy: true);
            Assert.That(_bench.Driver.Mode, Is.EqualTo(ReceiveMode.Mergeable));
            Assert.That(_bench.Driver.HeaderLength, Is.EqualTo(12));
            _bench.Receiver.ExpectedLength = 4000;
            Assert.That(_bench.InjectMany(3000, 4000), Is.EqualTo(3000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [TestCase(true)]
        [TestCase(false)]
        public void BigPacketChainsWithGuestTsoWithoutMergeable(bool indirect)
        {
            Make(new VirtioNetOptions { GuestTso = true, IndirectDescriptors = indirect }, removeFeatures: VirtioNetFeatures.MergeableRxBuffers);
            Assert.That(_bench.Driver.Mode, Is.EqualTo(ReceiveMode.Big));
            // Indirect: one ring slot per 18-entry chain, 64 chains at most; else 18 descriptors per chain.
            Assert.That(_bench.Driver.RxBuffersPosted, Is.EqualTo(indirect ? 64 : 256 / 18));
            _bench.Receiver.ExpectedLength = 65000;
            _bench.Receiver.ExpectedSequence = 0;
            for (int i = 0; i < 500; i++)
            {
                Assert.That(_bench.Inject(65000), Is.True);
                _bench.Kernel.RunPending();
            }
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(500));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            _bench.Receiver.ExpectedLength = 60;
            _bench.Receiver.ExpectedSequence = -1;
            Assert.That(_bench.InjectMany(300, 60, pollEvery: 4), Is.EqualTo(300));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            InjectFaulty(RxFault.LengthOverCapacity, 1000);
            InjectFaulty(RxFault.ShortLength, 1000);
            Assert.That(_bench.Stat("rx_length_errors"), Is.EqualTo(2));
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void BigPacketsWithLargeQueue()
        {
            Make(new VirtioNetOptions { GuestTso = true }, queueSize: 1024, removeFeatures: VirtioNetFeatures.MergeableRxBuffers);
            Assert.That(_bench.Driver.Mode, Is.EqualTo(ReceiveMode.Big));
            _bench.Receiver.ExpectedLength = 30000;
            Assert.That(_bench.InjectMany(2000, 30000, pollEvery: 8), Is.EqualTo(2000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void MtuFromConfigurationSelectsTheBufferShape()
        {
            _bench = new Bench(new VirtioNetOptions(), removeFeatures: VirtioNetFeatures.MergeableRxBuffers);
            _bench.Device.OfferedFeatures |= VirtioNetFeatures.Mtu;
            _bench.Device.ConfigMtu = 9000;
            Assert.That(_bench.Start(), Is.True);
            Assert.That(_bench.Driver.Mtu, Is.EqualTo(9000));
            Assert.That(_bench.Driver.Mode, Is.EqualTo(ReceiveMode.Big), "MTU above 1500 without mergeable buffers");
            _bench.Receiver.ExpectedLength = 9014;
            Assert.That(_bench.InjectMany(500, 9014, pollEvery: 4), Is.EqualTo(500));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void StartsWithoutMemoryAndFillsTheRingLater()
        {
            _bench = new Bench();
            _bench.Memory.FailAfter = 64 + 5; // both packet pools (32 pages each), then 5 receive pages
            Assert.That(_bench.Start(), Is.True, "a short fill is not fatal");
            Assert.That(_bench.Driver.RxBuffersPosted, Is.EqualTo(10));
            _bench.Memory.FailAfter = -1;
            _bench.Kernel.Advance(600_000_000);
            Assert.That(_bench.Driver.RxBuffersPosted, Is.EqualTo(256));
            AssertStillWorks(0);
            AssertCleanShutdown(_bench);
        }

        // ---- hook, ablations, checksum ----

        private sealed unsafe class DropAll : IRawReceiveHook
        {
            public long Seen;
            public long Bytes;

            public RawReceiveVerdict Inspect(byte* frame, int length, int bufferCount)
            {
                Seen++;
                Bytes += length;
                return frame[12] == 0x88 ? RawReceiveVerdict.Drop : RawReceiveVerdict.Pass;
            }
        }

        [Test]
        public void RawHookDropsBeforeAnyPacketIsBuilt()
        {
            Make();
            DropAll hook = new DropAll();
            _bench.Driver.RawReceiveHook = hook;
            Assert.That(_bench.InjectMany(10_000, 1514), Is.EqualTo(10_000));
            Assert.That(hook.Seen, Is.EqualTo(10_000));
            Assert.That(hook.Bytes, Is.EqualTo(10_000L * 1514));
            Assert.That(_bench.Receiver.Packets, Is.Zero);
            Assert.That(_bench.Driver.RxPackets.Allocations, Is.Zero, "no packet taken");
            Assert.That(_bench.Stat("rx_queue_0_xdp_drops"), Is.EqualTo(10_000));
            Assert.That(_bench.InjectMany(100, 5000), Is.EqualTo(100));
            Assert.That(_bench.Stat("rx_queue_0_xdp_drops"), Is.EqualTo(10_100));
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void PreallocatedPacketAblationStillDeliversCorrectly()
        {
            Make(new VirtioNetOptions { PreallocatePackets = true });
            Assert.That(_bench.Driver.RxPackets.InUse, Is.EqualTo(256), "one packet per posted buffer");
            _bench.Receiver.ExpectedLength = 3000;
            Assert.That(_bench.InjectMany(5000, 3000), Is.EqualTo(5000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            // Every buffer ever posted took a packet (≥ 5000 consumed + ~256 still posted); the packets of
            // merged buffers were thrown away unused. The EWMA soon makes one 3072-byte buffer per frame.
            Assert.That(_bench.Driver.RxPackets.Allocations, Is.GreaterThan(5000 + 200));
            Assert.That(_bench.Driver.MergeableBufferLength, Is.EqualTo(3072));
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void RecyclingOffReleasesPagesToTheAllocator()
        {
            Make(new VirtioNetOptions { PagePoolRecycling = false });
            _bench.Receiver.ExpectedLength = 1514;
            Assert.That(_bench.InjectMany(5000, 1514), Is.EqualTo(5000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            Assert.That(_bench.Stat("page_pool_recycled"), Is.Zero);
            Assert.That(_bench.Stat("page_pool_released"), Is.GreaterThan(2000));
            Assert.That(_bench.Stat("page_pool_alloc_slow"), Is.GreaterThan(2000));
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void ProcessInInterruptAblation()
        {
            Make(new VirtioNetOptions { ProcessInInterrupt = true });
            _bench.Receiver.ExpectedLength = 700;
            _bench.Receiver.ExpectedSequence = 0;
            for (int i = 0; i < 3000; i++)
            {
                Assert.That(_bench.Inject(700), Is.True);
            }
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(3000), "delivered inside the interrupt, no main loop needed");
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            _bench.Kernel.RunPending();
            AssertCleanShutdown(_bench);
        }

        [Test]
        public unsafe void PartialChecksumsAreTrustedUntouched()
        {
            Make(new VirtioNetOptions { GuestChecksum = true });
            Assert.That(_bench.Driver.NegotiatedFeatures & VirtioNetFeatures.GuestCsum, Is.Not.Zero);
            _bench.Receiver.Hold = true;
            _bench.Device.RxHeaderFlags = VirtioNetHeader.FlagNeedsCsum;
            _bench.Device.RxCsumStart = 14;
            _bench.Device.RxCsumOffset = 6;
            Assert.That(_bench.Inject(3001), Is.True);
            _bench.Kernel.RunPending();
            Packet packet = _bench.Receiver.TakeHeld();
            Assert.That(packet, Is.Not.Null);
            // NEEDS_CSUM from the host: valid for local delivery (Linux CHECKSUM_PARTIAL); the bytes are not touched.
            Assert.That(packet.Flags & Packet.FlagChecksumValid, Is.Not.Zero);
            byte[] bytes = new byte[packet.Length];
            packet.CopyTo(0, bytes);
            Assert.That(bytes, Is.EqualTo(new ReadOnlySpan<byte>(_bench.Frame, 0, 3001).ToArray()));
            packet.Free();
            Assert.That(_bench.Stat("rx_queue_0_csum_partial"), Is.EqualTo(1));
            // A checksum offset outside the packet is a frame error.
            _bench.Device.RxCsumOffset = 5000;
            Assert.That(_bench.Inject(300), Is.True);
            _bench.Kernel.RunPending();
            Assert.That(_bench.Stat("rx_frame_errors"), Is.EqualTo(1));
            AssertCleanShutdown(_bench);
        }

        [TestCase(true)]
        [TestCase(false)]
        public void DataValidSetsChecksumValidOnlyWithGuestCsum(bool guestChecksum)
        {
            Make(new VirtioNetOptions { GuestChecksum = guestChecksum, GuestTso = guestChecksum });
            _bench.Receiver.Hold = true;
            _bench.Device.RxHeaderFlags = VirtioNetHeader.FlagDataValid;
            Assert.That(_bench.Inject(1514), Is.True);
            _bench.Kernel.RunPending();
            Packet packet = _bench.Receiver.TakeHeld();
            Assert.That(packet, Is.Not.Null);
            Assert.That((packet.Flags & Packet.FlagChecksumValid) != 0, Is.EqualTo(guestChecksum));
            packet.Free();
            Assert.That(_bench.Stat("rx_queue_0_csum_valid"), Is.EqualTo(guestChecksum ? 1 : 0));
            if (!guestChecksum)
            {
                // NEEDS_CSUM without GUEST_CSUM negotiated is a device error.
                _bench.Device.RxHeaderFlags = VirtioNetHeader.FlagNeedsCsum;
                Assert.That(_bench.Inject(300), Is.True);
                _bench.Kernel.RunPending();
                Assert.That(_bench.Stat("rx_frame_errors"), Is.EqualTo(1));
            }
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void UnexpectedGsoTypeIsAFrameError()
        {
            Make(new VirtioNetOptions { GuestTso = false });
            _bench.Device.RxGsoType = VirtioNetHeader.GsoTcpV4;
            Assert.That(_bench.Inject(300), Is.True);
            _bench.Kernel.RunPending();
            Assert.That(_bench.Stat("rx_frame_errors"), Is.EqualTo(1));
            Assert.That(_bench.Receiver.Packets, Is.Zero);
            _bench.Device.RxGsoType = 0;
            AssertStillWorks(0);
            AssertCleanShutdown(_bench);
        }

        [Test]
        public void HeldPacketsKeepPagesUntilFreed()
        {
            Make();
            _bench.Receiver.Hold = true;
            _bench.Receiver.ExpectedLength = 2000;
            _bench.InjectMany(100, 2000);
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            // Pages pinned by packets survive buffer recycling: the device poisons every buffer it is given,
            // so a page handed out while a packet still pointed into it would corrupt that packet.
            _bench.Receiver.Hold = false;
            _bench.InjectMany(3000, 2000);
            long bad = 0;
            Packet packet;
            while ((packet = _bench.Receiver.TakeHeld()) != null)
            {
                if (TestFrames.Verify(packet, 2000) < 0)
                {
                    bad++;
                }
                packet.Free();
            }
            Assert.That(bad, Is.Zero);
            Assert.That(_bench.Driver.Stop(), Is.True);
            Assert.That(_bench.Memory.AllocatedPages, Is.Zero);
        }

        [Test]
        public void StopWithPacketsStillHeldByTheStack()
        {
            Make();
            _bench.Receiver.Hold = true;
            _bench.InjectMany(50, 3000);
            Assert.That(_bench.Driver.Stop(), Is.False, "the stack still holds packets");
            Assert.That(_bench.Driver.RxPagePool.InFlight, Is.GreaterThan(0));
            _bench.Receiver.FreeHeld();
            Assert.That(_bench.Driver.ReleaseMemory(), Is.True);
            Assert.That(_bench.Driver.RxPagePool.InFlight, Is.Zero);
            Assert.That(_bench.Memory.AllocatedPages, Is.Zero);
        }
    }
}
