using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>
    /// The virtio-mmio transport against a register-level simulation written from virtio 1.2 §4.2, version 2 and
    /// legacy version 1, carrying the unchanged virtio-net driver: discovery of the window, negotiation, queue
    /// set-up (64-bit addresses, or page frame numbers), notification, the wired line with InterruptStatus and
    /// InterruptACK, configuration reads and generation, reset and shutdown.
    /// </summary>
    public class VirtioMmioTransportTests
    {
        private const int Gsi = 47;

        private SimulatedMemory _memory;
        private FakeKernel _kernel;
        private SimulatedVirtioNetDevice _device;
        private FakeInterruptController _interrupts;
        private SimulatedVirtioMmio _mmio;
        private VirtioNetDevice _driver;
        private TestReceiver _receiver;
        private uint _sequence;
        private readonly byte[] _frame = new byte[70000];

        private SimulatedVirtioMmio Window(int version)
        {
            _memory = new SimulatedMemory(32);
            _kernel = new FakeKernel();
            _device = new SimulatedVirtioNetDevice(_memory);
            if (version == 1)
            {
                _device.OfferedFeatures &= ~VirtioFeatures.Version1;
            }
            _interrupts = new FakeInterruptController();
            _mmio = new SimulatedVirtioMmio(_device, _interrupts, version, Gsi);
            return _mmio;
        }

        private VirtioMmioTransport Make(int version, VirtioNetOptions options = null, bool level = true)
        {
            Window(version);
            VirtioMmioTransport transport = VirtioMmioTransport.TryCreate(_mmio, new InterruptLine(Gsi, level, false), _interrupts);
            _driver = TransportDriver.Create(transport, _memory, _kernel, options, out _receiver);
            return transport;
        }

        [TearDown]
        public void TearDown()
        {
            if (_memory != null)
            {
                Assert.That(_memory.FirstViolation, Is.Null, "device-side violation");
                Assert.That(_interrupts.Error, Is.Null);
                _memory.Dispose();
                _memory = null;
            }
        }

        private void Traffic(int count, int length)
        {
            TransportDriver.Echo(_device, _kernel, _driver, _receiver, _frame, ref _sequence, count, length);
        }

        private void StopAndCheck()
        {
            Assert.That(_driver.Stop(), Is.True);
            Assert.That(_memory.AllocatedPages, Is.Zero);
            Assert.That(_interrupts.PlatformLineHandlers, Is.Zero, "line detached at shutdown");
            Assert.That(_device.Status, Is.Zero, "device reset");
        }

        [Test]
        public void ProbeReadsMagicVersionAndDeviceId()
        {
            SimulatedVirtioMmio window = Window(2);
            Assert.That(VirtioMmioTransport.ProbeDeviceType(window), Is.EqualTo(1));
            window.VersionValue = 1;
            Assert.That(VirtioMmioTransport.ProbeDeviceType(window), Is.EqualTo(1));
            window.VersionValue = 3;
            Assert.That(VirtioMmioTransport.ProbeDeviceType(window), Is.EqualTo(-1), "unknown version");
            window.VersionValue = 2;
            window.MagicRead = 0x12345678;
            Assert.That(VirtioMmioTransport.ProbeDeviceType(window), Is.EqualTo(-1), "wrong magic");
            Assert.That(VirtioMmioTransport.TryCreate(window, new InterruptLine(Gsi, true, false), _interrupts), Is.Null);
            window.MagicRead = SimulatedVirtioMmio.Magic;
            window.DeviceIdValue = 0;
            Assert.That(VirtioMmioTransport.ProbeDeviceType(window), Is.EqualTo(0), "an empty slot");
            Assert.That(VirtioMmioTransport.TryCreate(window, new InterruptLine(Gsi, true, false), _interrupts), Is.Null);
            window.DeviceIdValue = 4;
            VirtioMmioTransport rng = VirtioMmioTransport.TryCreate(window, new InterruptLine(Gsi, true, false), _interrupts);
            Assert.That(rng.DeviceType, Is.EqualTo(4));
            Assert.That(rng.VendorId, Is.EqualTo(SimulatedVirtioMmio.QemuVendor));
            Assert.That(VirtioMmioTransport.ProbeDeviceType(new SimulatedVirtioMmio(_device, _interrupts, 2, Gsi, 0xFC)), Is.EqualTo(-1),
                "a window shorter than the registers");
            Assert.That(VirtioMmioTransport.ProbeDeviceType(null), Is.EqualTo(-1));
        }

        [Test]
        public void ModernNegotiatesVersion1SetsUpQueuesWith64BitAddressesAndCarriesTraffic()
        {
            VirtioMmioTransport transport = Make(2);
            Assert.That(transport.IsLegacy, Is.False);
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(transport.UsesMsix, Is.False);
            Assert.That(_interrupts.PlatformLineHandlers, Is.EqualTo(1));
            Assert.That(_interrupts.LastLine.Gsi, Is.EqualTo(Gsi));
            Assert.That(_interrupts.LastLine.LevelTriggered, Is.True);
            Assert.That(_driver.NegotiatedFeatures & VirtioFeatures.Version1, Is.Not.Zero);
            Assert.That(_device.Status & VirtioStatus.FeaturesOk, Is.Not.Zero);
            Assert.That(_device.DriverOk, Is.True);
            for (int q = 0; q < 3; q++)
            {
                Assert.That(_mmio.IsReady(q), Is.True, "queue " + q + " ready");
            }
            // The device uses exactly the rings the driver allocated, high halves included.
            (ulong descriptors, ulong driverArea, ulong deviceArea) = _mmio.QueueAddresses(0);
            Assert.That(descriptors, Is.EqualTo(_driver.RxQueue.DescriptorPhysical));
            Assert.That(driverArea, Is.EqualTo(_driver.RxQueue.DriverAreaPhysical));
            Assert.That(deviceArea, Is.EqualTo(_driver.RxQueue.DeviceAreaPhysical));
            byte[] mac = new byte[6];
            _driver.GetMacAddress(mac);
            Assert.That(mac, Is.EqualTo(_device.Mac), "configuration space at 0x100");
            Traffic(3000, 1514);
            Assert.That(_interrupts.Delivered, Is.GreaterThan(0));
            Assert.That(_mmio.Acks, Is.GreaterThan(0), "every interrupt acknowledged through InterruptACK");
            Assert.That(_mmio.InterruptStatusBits, Is.Zero);
            Assert.That(_mmio.Notifies, Is.GreaterThan(0));
            StopAndCheck();
        }

        [Test]
        public void PackedRingsOverModernMmio()
        {
            Make(2, new VirtioNetOptions { PackedRing = true });
            _device.OfferedFeatures &= ~VirtioFeatures.RingPacked;
            Assert.That(_driver.Start(), Is.True, "packed asked for but not offered: split rings");
            Assert.That(_driver.NegotiatedFeatures & VirtioFeatures.RingPacked, Is.Zero);
            Traffic(500, 600);
            StopAndCheck();
        }

        [Test]
        public void LegacyUsesGuestPageSizeQueueAlignAndPageFrameNumbers()
        {
            VirtioMmioTransport transport = Make(1);
            Assert.That(transport.IsLegacy, Is.True);
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(_device.Status & VirtioStatus.FeaturesOk, Is.Zero, "no FEATURES_OK on legacy");
            Assert.That(_driver.NegotiatedFeatures >> 32, Is.Zero, "32 feature bits");
            Assert.That(_mmio.PageSize, Is.EqualTo(4096));
            for (int q = 0; q < 2; q++)
            {
                Assert.That(_mmio.IsReady(q), Is.True);
                Assert.That(_mmio.Align(q), Is.EqualTo(4096));
            }
            (ulong descriptors, ulong driverArea, ulong deviceArea) = _mmio.QueueAddresses(1);
            Assert.That(descriptors, Is.EqualTo(_driver.TxQueue.DescriptorPhysical));
            Assert.That(driverArea, Is.EqualTo(_driver.TxQueue.DriverAreaPhysical));
            Assert.That(deviceArea, Is.EqualTo(_driver.TxQueue.DeviceAreaPhysical), "used ring where the legacy layout puts it");
            byte[] mac = new byte[6];
            _driver.GetMacAddress(mac);
            Assert.That(mac, Is.EqualTo(_device.Mac));
            Assert.That(_driver.Mode, Is.EqualTo(ReceiveMode.Mergeable));
            Traffic(3000, 1514);
            StopAndCheck();
        }

        [Test]
        public void LegacyWithoutMergeableBuffersUsesTheShortHeader()
        {
            Make(1);
            _device.OfferedFeatures &= ~(VirtioNetFeatures.MergeableRxBuffers | VirtioNetFeatures.GuestTso4 | VirtioNetFeatures.GuestTso6);
            Assert.That(_driver.Start(), Is.True);
            Assert.That(_driver.Mode, Is.EqualTo(ReceiveMode.Small));
            Assert.That(_driver.HeaderLength, Is.EqualTo(10));
            Traffic(1000, 1514);
            StopAndCheck();
        }

        [TestCase(2)]
        [TestCase(1)]
        public void ConfigurationChangeArrivesOnTheLineAndIsAcknowledged(int version)
        {
            Make(version);
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            long acks = _mmio.Acks;
            _device.SetLink(false);
            _kernel.RunPending();
            Assert.That(_driver.LinkUp, Is.False, "configuration interrupt: InterruptStatus bit 1");
            Assert.That(_mmio.Acks, Is.GreaterThan(acks));
            Assert.That(_mmio.InterruptStatusBits, Is.Zero);
            _device.SetLink(true);
            _kernel.RunPending();
            Assert.That(_driver.LinkUp, Is.True);
            StopAndCheck();
        }

        [Test]
        public void AnInterruptWithNothingPendingIsNotClaimed()
        {
            VirtioMmioTransport transport = Make(2);
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            long unclaimed = _interrupts.Unclaimed;
            long acks = _mmio.Acks;
            _interrupts.AssertGsi(Gsi);
            Assert.That(_interrupts.Unclaimed, Is.EqualTo(unclaimed + 1), "a shared line: another device's interrupt");
            Assert.That(_mmio.Acks, Is.EqualTo(acks), "nothing to acknowledge");
            Assert.That(transport.ReadIsr(), Is.Zero);
            StopAndCheck();
        }

        [Test]
        public void NoLineNoStart()
        {
            Make(2);
            _interrupts.MaxGsi = -1;
            Assert.That(_driver.Start(), Is.False);
            Assert.That(_device.Status & VirtioStatus.Failed, Is.Not.Zero, "FAILED written");
            Assert.That(_interrupts.PlatformLineHandlers, Is.Zero);
        }

        [Test]
        public void ConfigurationReadsOutsideTheWindowReadZero()
        {
            VirtioMmioTransport transport = Make(2);
            Assert.That(transport.ReadConfig32(0x100 - 4), Is.Zero, "last word of a 0x200 window");
            Assert.That(transport.ReadConfig8(0x100), Is.Zero, "past the window");
            Assert.That(transport.ReadConfig16(-2), Is.Zero);
            Assert.That(transport.ReadConfig16(1), Is.Zero, "misaligned");
            Assert.That(transport.ReadConfig8(0), Is.EqualTo(_device.Mac[0]));
        }

        [Test]
        public void ConfigGenerationIsReadOnModernAndZeroOnLegacy()
        {
            VirtioMmioTransport modern = Make(2);
            _device.ChangeMacDuringRead = new byte[] { 0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC };
            Assert.That(_driver.Start(), Is.True);
            byte[] mac = new byte[6];
            _driver.GetMacAddress(mac);
            Assert.That(mac, Is.EqualTo(new byte[] { 0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC }), "re-read after the generation moved");
            Assert.That(_driver.Core.ConfigRetries, Is.GreaterThan(0));
            Assert.That(modern.ConfigGeneration, Is.EqualTo(_device.ConfigGeneration));
            StopAndCheck();
            _memory.Dispose();
            _memory = null;

            VirtioMmioTransport legacy = Make(1);
            Assert.That(legacy.ConfigGeneration, Is.Zero, "legacy has no ConfigGeneration register (reading it is a violation)");
        }

        [Test]
        public void ResetWaitsForStatusZeroAndClearsTheQueues()
        {
            VirtioMmioTransport transport = Make(2);
            Assert.That(_driver.Start(), Is.True);
            Traffic(200, 500);
            Assert.That(transport.Reset(), Is.True);
            Assert.That(transport.ReadStatus(), Is.Zero);
            Assert.That(_mmio.IsReady(0), Is.False, "reset clears QueueReady");
            Assert.That(_mmio.IsReady(1), Is.False);
            StopAndCheck();
        }

        [Test]
        public void QueuesTheDeviceDoesNotHaveAreRefused()
        {
            VirtioMmioTransport transport = Make(2);
            Assert.That(transport.QueueMaxSize(-1), Is.Zero);
            Assert.That(transport.QueueMaxSize(VirtioMmioTransport.MaxQueues), Is.Zero);
            Assert.That(transport.QueueMaxSize(7), Is.Zero, "QueueNumMax 0: no such queue");
            Assert.That(transport.SetupQueue(7, 64, 0x10000, 0x10400, 0x11000), Is.False);
        }
    }
}
