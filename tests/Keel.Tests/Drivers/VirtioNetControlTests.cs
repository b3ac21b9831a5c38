using Keel.Drivers.Net;
using Keel.Drivers.VirtioNet;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>The control virtqueue against the simulated card's spec-written control queue.</summary>
    public class VirtioNetControlTests
    {
        private Bench _bench;

        private sealed class CountingAnnouncer : ILinkAnnouncer
        {
            public int Announcements;
            public void AnnounceLink() => Announcements++;
        }

        [TearDown]
        public void TearDown()
        {
            if (_bench != null)
            {
                Assert.That(_bench.Memory.Violations, Is.Zero, _bench.Memory.FirstViolation);
                _bench.Dispose();
                _bench = null;
            }
        }

        [Test]
        public void StartSetsTheReceiveFilterLikeLinux()
        {
            _bench = new Bench();
            Assert.That(_bench.Start(), Is.True);
            Assert.That(_bench.Driver.HasControlQueue, Is.True);
            Assert.That(_bench.Device.ControlPromiscuous, Is.False, "promiscuous off at start-up");
            Assert.That(_bench.Device.ControlAllMulticast, Is.True);
            Assert.That(_bench.Device.ControlUnicastEntries, Is.Zero, "empty MAC table sent");
            Assert.That(_bench.Device.ControlMulticastEntries, Is.Zero);
            Assert.That(_bench.Driver.ControlErrors, Is.Zero);

            Assert.That(_bench.Driver.SetPromiscuous(true), Is.True);
            Assert.That(_bench.Device.ControlPromiscuous, Is.True);
            Assert.That(_bench.Driver.Promiscuous, Is.True);
            byte[] unicast = { 0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2 };
            byte[] multicast = { 0x01, 0x00, 0x5E, 0, 0, 1 };
            Assert.That(_bench.Driver.SetMacFilter(unicast, 2, multicast, 1), Is.True);
            Assert.That(_bench.Device.ControlUnicastEntries, Is.EqualTo(2));
            Assert.That(_bench.Device.ControlMulticastEntries, Is.EqualTo(1));
            Assert.That(_bench.Driver.SetMacFilter(unicast, VirtioNetDevice.MaxMacFilterEntries + 1, null, 0), Is.False);
            Assert.That(_bench.Driver.Stop(), Is.True);
        }

        [Test]
        public void MulticastFilterGoesInTheMacTableElseAllMulticastStaysOn()
        {
            _bench = new Bench();
            Assert.That(_bench.Start(), Is.True);
            byte[] groups = { 0x33, 0x33, 0, 0, 0, 1, 0x33, 0x33, 0xFF, 0x12, 0x34, 0x56 };
            Assert.That(_bench.Driver.SetMulticastFilter(groups, 2), Is.True);
            Assert.That(_bench.Device.ControlMulticastEntries, Is.EqualTo(2));
            Assert.That(_bench.Device.ControlUnicastEntries, Is.Zero);
            Assert.That(_bench.Device.ControlAllMulticast, Is.False, "only the table's groups");
            byte[] many = new byte[6 * (VirtioNetDevice.MaxMacFilterEntries + 1)];
            Assert.That(_bench.Driver.SetMulticastFilter(many, VirtioNetDevice.MaxMacFilterEntries + 1), Is.False);
            Assert.That(_bench.Device.ControlAllMulticast, Is.True, "too many groups: all multicast");
            _bench.Device.ControlAnswersError = true;
            Assert.That(_bench.Driver.SetMulticastFilter(groups, 2), Is.False);
            Assert.That(_bench.Driver.AllMulticast, Is.True, "a refused table leaves all-multicast on");
            Assert.That(_bench.Driver.Stop(), Is.True);
        }

        [Test]
        public void DeviceErrorsAndSilenceAreCountedAndTheStateKept()
        {
            _bench = new Bench();
            Assert.That(_bench.Start(), Is.True);
            _bench.Device.ControlAnswersError = true;
            Assert.That(_bench.Driver.SetAllMulticast(false), Is.False);
            Assert.That(_bench.Driver.AllMulticast, Is.True, "not changed when refused");
            Assert.That(_bench.Driver.ControlErrors, Is.EqualTo(1));
            _bench.Device.ControlAnswersError = false;
            _bench.Device.ControlSilent = true;
            Assert.That(_bench.Driver.SetPromiscuous(true), Is.False, "bounded wait gives up");
            Assert.That(_bench.Driver.ControlErrors, Is.EqualTo(2));
            Assert.That(_bench.Driver.Stop(), Is.True, "the unanswered command's chain comes back at reset");
        }

        [Test]
        public void AnnounceRequestSendsGratuitousArpThenAcknowledges()
        {
            _bench = new Bench();
            CountingAnnouncer announcer = new CountingAnnouncer();
            _bench.Driver.Announcer = announcer;
            Assert.That(_bench.Start(), Is.True);
            _bench.Device.RequestAnnounce();
            _bench.Kernel.RunPending();
            Assert.That(announcer.Announcements, Is.EqualTo(1));
            Assert.That(_bench.Device.AnnounceAcks, Is.EqualTo(1));
            Assert.That(_bench.Device.ConfigStatus & VirtioSpec.VIRTIO_NET_S_ANNOUNCE, Is.Zero, "ack clears the status bit");
            Assert.That(_bench.Driver.Announces, Is.EqualTo(1));
            _bench.Kernel.RunPending();
            Assert.That(announcer.Announcements, Is.EqualTo(1), "one announcement per request");
        }

        [Test]
        public void WithoutControlQueueNothingIsSent()
        {
            _bench = new Bench(removeFeatures: VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CTRL_VQ));
            Assert.That(_bench.Start(), Is.True);
            Assert.That(_bench.Driver.HasControlQueue, Is.False);
            Assert.That(_bench.Driver.SetPromiscuous(false), Is.False);
            Assert.That(_bench.Device.ControlCommands, Is.Zero);
        }

        [Test]
        public void MtuComesFromTheConfigurationSpace()
        {
            _bench = new Bench(new VirtioNetOptions { GuestTso = false });
            _bench.Device.OfferedFeatures |= VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_MTU);
            _bench.Device.ConfigMtu = 1400;
            Assert.That(_bench.Start(), Is.True);
            Assert.That(_bench.Driver.Mtu, Is.EqualTo(1400));
        }
    }
}
