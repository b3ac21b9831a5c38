using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    public class VirtioNetBasicTests
    {
        private Bench _bench;

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

        [Test]
        public void NegotiatesAndStartsModern()
        {
            _bench = new Bench();
            Assert.That(_bench.Start(), Is.True);
            VirtioNetDevice driver = _bench.Driver;
            Assert.That(driver.State, Is.EqualTo(VirtioNetState.Running));
            Assert.That(driver.NegotiatedFeatures & VirtioFeatures.Version1, Is.Not.Zero);
            Assert.That(driver.NegotiatedFeatures & VirtioNetFeatures.MergeableRxBuffers, Is.Not.Zero);
            Assert.That(driver.NegotiatedFeatures & VirtioFeatures.EventIndex, Is.Not.Zero);
            Assert.That(driver.NegotiatedFeatures & VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CTRL_VQ), Is.Not.Zero, "control queue driven when offered");
            Assert.That(driver.NegotiatedFeatures & VirtioNetFeatures.GuestTso4, Is.Not.Zero, "GSO receive by default");
            Assert.That(driver.NegotiatedFeatures & VirtioNetFeatures.GuestCsum, Is.Not.Zero);
            Assert.That(driver.NegotiatedFeatures & VirtioNetFeatures.Csum, Is.Not.Zero, "transmit checksum offload");
            Assert.That(driver.NegotiatedFeatures & VirtioNetFeatures.HostTso4, Is.Not.Zero, "TSO");
            Assert.That(driver.SupportsChecksumOffload, Is.True);
            Assert.That(driver.MaxTsoBytes, Is.EqualTo(65535));
            Assert.That(driver.NegotiatedFeatures & VirtioFeatures.IndirectDescriptors, Is.Not.Zero, "indirect transmit tables");
            Assert.That(driver.Mode, Is.EqualTo(ReceiveMode.Mergeable));
            Assert.That(driver.HeaderLength, Is.EqualTo(12));
            Assert.That(_bench.Device.Status & VirtioStatus.DriverOk, Is.Not.Zero);
            Assert.That(_bench.Device.Status & VirtioStatus.FeaturesOk, Is.Not.Zero);
            byte[] mac = new byte[6];
            driver.GetMacAddress(mac);
            Assert.That(mac, Is.EqualTo(_bench.Device.Mac));
            Assert.That(driver.LinkUp, Is.True);
            Assert.That(driver.Mtu, Is.EqualTo(1500));
            Assert.That(driver.RxQueue.Size, Is.EqualTo(256));
            Assert.That(driver.RxQueue.FreeCount, Is.Zero, "ring filled");
            Assert.That(_bench.Device.RxBuffersAvailable, Is.EqualTo(256));
            Assert.That(_bench.Stat("rx_queue_0_kicks"), Is.EqualTo(1), "one kick for the initial fill");
        }

        [Test]
        public void FeaturesOkRefusedFailsTheDevice()
        {
            _bench = new Bench();
            _bench.Device.RefuseFeaturesOk = true;
            Assert.That(_bench.Start(), Is.False);
            Assert.That(_bench.Driver.FeaturesRefused, Is.True);
            Assert.That(_bench.Driver.State, Is.EqualTo(VirtioNetState.Failed));
            Assert.That(_bench.Device.Status & VirtioStatus.Failed, Is.Not.Zero);
            Assert.That(_bench.Device.Status & VirtioStatus.DriverOk, Is.Zero);
            Assert.That(_bench.Driver.Stop(), Is.True);
            Assert.That(_bench.Memory.AllocatedPages, Is.Zero);
        }

        [Test]
        public void ModernDeviceWithoutVersion1IsRejected()
        {
            _bench = new Bench(removeFeatures: VirtioFeatures.Version1);
            Assert.That(_bench.Start(), Is.False);
            Assert.That(_bench.Device.Status & VirtioStatus.Failed, Is.Not.Zero);
        }

        [Test]
        public void ConfigurationIsReadConsistentlyUnderConfigGeneration()
        {
            _bench = new Bench();
            byte[] newMac = { 0x52, 0x54, 0x00, 0xAA, 0xBB, 0xCC };
            _bench.Device.ChangeMacDuringRead = newMac;
            Assert.That(_bench.Start(), Is.True);
            byte[] mac = new byte[6];
            _bench.Driver.GetMacAddress(mac);
            Assert.That(mac, Is.EqualTo(newMac), "a torn read (old first half, new second half) was retried");
        }

        [Test]
        public void OneReceiveKickPerRefillBatch()
        {
            _bench = new Bench();
            Assert.That(_bench.Start(), Is.True);
            _bench.InjectMany(20_000, 100, pollEvery: 64);
            long polls = _bench.Stat("rx_queue_0_polls");
            long kicks = _bench.Stat("rx_queue_0_kicks");
            Assert.That(kicks, Is.LessThanOrEqualTo(polls + 1));
            Assert.That(kicks, Is.LessThanOrEqualTo(20_000 / 32 + 2), "refills come in batches of at least 32 buffers");
            Assert.That(_bench.Device.Notifications[0], Is.EqualTo(kicks));
        }

        [Test]
        public void ReceivesSmallFramesAndRecyclesPages()
        {
            _bench = new Bench();
            Assert.That(_bench.Start(), Is.True);
            _bench.Receiver.ExpectedLength = 60;
            _bench.Receiver.ExpectedSequence = 0;
            int delivered = _bench.InjectMany(1000, 60);
            Assert.That(delivered, Is.EqualTo(1000));
            Assert.That(_bench.Receiver.Packets, Is.EqualTo(1000));
            Assert.That(_bench.Receiver.BadPackets, Is.Zero);
            Assert.That(_bench.Stat("rx_queue_0_packets"), Is.EqualTo(1000));
            Assert.That(_bench.Stat("rx_queue_0_bytes"), Is.EqualTo(60000));
            Assert.That(_bench.Stat("page_pool_recycled"), Is.GreaterThan(0));
            Assert.That(_bench.Driver.RxPackets.InUse, Is.Zero);
        }

        [Test]
        public void ShutdownReturnsEveryPage()
        {
            _bench = new Bench();
            int baseline = _bench.Memory.AllocatedPages;
            Assert.That(_bench.Start(), Is.True);
            _bench.InjectMany(500, 1514);
            Assert.That(_bench.Driver.Stop(), Is.True);
            Assert.That(_bench.Driver.RxPagePool.InFlight, Is.Zero);
            Assert.That(_bench.Driver.RxPagePool.PagesHeld, Is.Zero);
            Assert.That(_bench.Memory.AllocatedPages, Is.EqualTo(baseline));
        }
    }
}
