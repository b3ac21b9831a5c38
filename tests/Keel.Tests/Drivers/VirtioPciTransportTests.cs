using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>The real PCI transports against a register-level simulation of QEMU's virtio-net-pci.</summary>
    public class VirtioPciTransportTests
    {
        private SimulatedMemory _memory;
        private FakeKernel _kernel;
        private SimulatedVirtioNetDevice _device;
        private FakeInterruptController _interrupts;
        private SimulatedPciFunction _pci;
        private VirtioNetDevice _driver;
        private TestReceiver _receiver;
        private uint _sequence;
        private readonly byte[] _frame = new byte[70000];

        private IVirtioTransport Make(bool modern, bool legacy, bool msix, ulong removeFeatures = 0, VirtioNetOptions options = null)
        {
            _memory = new SimulatedMemory(32);
            _kernel = new FakeKernel();
            _device = new SimulatedVirtioNetDevice(_memory);
            _device.OfferedFeatures &= ~removeFeatures;
            if (!modern)
            {
                _device.OfferedFeatures &= ~VirtioFeatures.Version1;
            }
            _interrupts = new FakeInterruptController();
            _pci = new SimulatedPciFunction(_device, _interrupts, modern, legacy, msix);
            Assert.That(VirtioPci.DeviceType(_pci), Is.EqualTo(VirtioSpec.VirtioNetDeviceId), "modern 0x1041, or transitional 0x1000 with subsystem id 1");
            IVirtioTransport transport = VirtioPci.TryCreateTransport(_pci, _interrupts);
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
                Assert.That(_pci.WidthErrors, Is.Zero, "register accesses of the wrong width or to unknown registers");
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
            Assert.That(_interrupts.MessagesInUse, Is.Zero);
            Assert.That(_interrupts.LineHandlers, Is.Zero);
            Assert.That(_pci.MsixEnabled, Is.False);
        }

        [Test]
        public void ModernOnlyWithMsix()
        {
            IVirtioTransport transport = Make(modern: true, legacy: false, msix: true);
            Assert.That(transport, Is.InstanceOf<VirtioPciModernTransport>());
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(_pci.BusMaster, Is.True);
            Assert.That(transport.UsesMsix, Is.True);
            Assert.That(_pci.MsixEnabled, Is.True);
            Assert.That(_pci.MsixConfigVector, Is.EqualTo(0));
            Assert.That(_pci.QueueVector[0], Is.EqualTo(1));
            Assert.That(_pci.QueueVector[1], Is.EqualTo(2));
            Assert.That(_interrupts.MessagesInUse, Is.EqualTo(4), "configuration + receive + transmit + control queue vectors");
            Assert.That(_driver.NegotiatedFeatures & VirtioFeatures.Version1, Is.Not.Zero);
            byte[] mac = new byte[6];
            _driver.GetMacAddress(mac);
            Assert.That(mac, Is.EqualTo(_device.Mac));
            Traffic(3000, 1514);
            Assert.That(_interrupts.Delivered, Is.GreaterThan(0));
            _device.SetLink(false);
            _kernel.RunPending();
            Assert.That(_driver.LinkUp, Is.False, "configuration interrupt on vector 0");
            StopAndCheck();
        }

        [Test]
        public void ModernWithoutMsixUsesIntx()
        {
            IVirtioTransport transport = Make(modern: true, legacy: false, msix: false);
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(transport.UsesMsix, Is.False);
            Assert.That(_interrupts.LineHandlers, Is.EqualTo(1));
            Traffic(3000, 800);
            _device.SetLink(false);
            _kernel.RunPending();
            Assert.That(_driver.LinkUp, Is.False);
            StopAndCheck();
        }

        [Test]
        public void ModernFallsBackToIntxWhenNoVectorsAreFree()
        {
            IVirtioTransport transport = Make(modern: true, legacy: false, msix: true);
            _interrupts.MessagesAvailable = 1;
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(transport.UsesMsix, Is.False);
            Assert.That(_interrupts.MessagesInUse, Is.Zero, "partial allocation given back");
            Traffic(500, 300);
            StopAndCheck();
        }

        [Test]
        public void ModernFallsBackToIntxWhenTheDeviceRefusesTheConfigVector()
        {
            IVirtioTransport transport = Make(modern: true, legacy: false, msix: true);
            _pci.AcceptVectorsBelow = 0;
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(transport.UsesMsix, Is.False);
            Traffic(500, 300);
            StopAndCheck();
        }

        [TestCase(true)]
        [TestCase(false)]
        public void FallsBackToIntxWhenTheDeviceRefusesAQueueVector(bool modern)
        {
            IVirtioTransport transport = Make(modern: modern, legacy: !modern, msix: true);
            _pci.AcceptVectorsBelow = 2; // config (0) and receive (1) accepted, transmit (2) refused
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(transport.UsesMsix, Is.False);
            Assert.That(_interrupts.MessagesInUse, Is.Zero);
            Assert.That(_interrupts.LineHandlers, Is.EqualTo(1));
            Traffic(1000, 700);
            StopAndCheck();
        }

        [Test]
        public void TransitionalDevicePrefersModern()
        {
            IVirtioTransport transport = Make(modern: true, legacy: true, msix: true);
            Assert.That(transport, Is.InstanceOf<VirtioPciModernTransport>());
            Assert.That(_driver.Start(), Is.True);
            Traffic(1000, 1000);
            StopAndCheck();
        }

        [Test]
        public void LegacyOnlyWithMsixMovesTheConfigSpace()
        {
            IVirtioTransport transport = Make(modern: false, legacy: true, msix: true);
            Assert.That(transport, Is.InstanceOf<VirtioPciLegacyTransport>());
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(transport.UsesMsix, Is.True);
            Assert.That(_device.Status & VirtioStatus.FeaturesOk, Is.Zero, "no FEATURES_OK on legacy");
            byte[] mac = new byte[6];
            _driver.GetMacAddress(mac);
            Assert.That(mac, Is.EqualTo(_device.Mac), "device config read at offset 24 with MSI-X");
            Assert.That(_driver.Mode, Is.EqualTo(ReceiveMode.Mergeable));
            Traffic(3000, 1514);
            StopAndCheck();
        }

        [Test]
        public void LegacyOnlyWithIntxAndNoMergeable()
        {
            IVirtioTransport transport = Make(modern: false, legacy: true, msix: false,
                removeFeatures: VirtioNetFeatures.MergeableRxBuffers | VirtioNetFeatures.GuestTso4 | VirtioNetFeatures.GuestTso6);
            Assert.That(_driver.Start(), Is.True);
            _kernel.RunPending();
            Assert.That(transport.UsesMsix, Is.False);
            byte[] mac = new byte[6];
            _driver.GetMacAddress(mac);
            Assert.That(mac, Is.EqualTo(_device.Mac), "device config read at offset 20 without MSI-X");
            Assert.That(_driver.Mode, Is.EqualTo(ReceiveMode.Small));
            Assert.That(_driver.HeaderLength, Is.EqualTo(10));
            Traffic(3000, 1514);
            StopAndCheck();
        }

        [Test]
        public void LegacyQueueSize1024()
        {
            Make(modern: false, legacy: true, msix: true);
            _device.MaxQueueSize = 1024;
            _pci.ResetTransportState();
            Assert.That(_driver.Start(), Is.True);
            Assert.That(_driver.RxQueue.Size, Is.EqualTo(1024));
            Traffic(5000, 600);
            StopAndCheck();
        }

        [Test]
        public void ModernFeaturesOkRefusal()
        {
            Make(modern: true, legacy: false, msix: true);
            _device.RefuseFeaturesOk = true;
            Assert.That(_driver.Start(), Is.False);
            Assert.That(_driver.FeaturesRefused, Is.True);
            Assert.That(_device.Status & VirtioStatus.Failed, Is.Not.Zero);
            Assert.That(_driver.Stop(), Is.True);
            Assert.That(_memory.AllocatedPages, Is.Zero);
        }

        [Test]
        public void ModernRecoveryResetReprogramsVectors()
        {
            Make(modern: true, legacy: false, msix: true);
            Assert.That(_driver.Start(), Is.True);
            Traffic(200, 500);
            _device.NextRxFault = RxFault.UsedIndexJump;
            TestFrames.FillNoAlloc(_frame, 500, _sequence++);
            _device.InjectFrame(new System.ReadOnlySpan<byte>(_frame, 0, 500));
            _kernel.RunPending();
            Assert.That(_driver.Statistic("device_resets"), Is.EqualTo(1));
            Assert.That(_pci.MsixConfigVector, Is.EqualTo(0));
            Assert.That(_pci.QueueVector[0], Is.EqualTo(1));
            Traffic(500, 500);
            StopAndCheck();
        }
    }
}
