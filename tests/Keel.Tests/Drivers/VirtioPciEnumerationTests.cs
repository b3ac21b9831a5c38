using System;
using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Kernel.Pci;
using Keel.Tests.Kernel;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>
    /// One PCI fake for both sides: the simulated virtio-net function sits in the kernel's PCI configuration
    /// fake, the kernel's enumeration finds it, and the driver starts through the kernel's own
    /// <see cref="PciDevice"/> (capability walk, BAR mapping, MSI-X) and moves frames.
    /// </summary>
    public class VirtioPciEnumerationTests
    {
        private sealed class Mapper : IPciBarMapper
        {
            public SimulatedPciFunction Function;

            public IRegisterRegion Map(PciDevice device, int index, PciBar bar) => Function.MapBar(index);
        }

        [TestCase(true)]
        [TestCase(false)]
        public void KernelEnumerationFindsTheFunctionAndTheDriverRunsOnIt(bool modern)
        {
            using SimulatedMemory memory = new SimulatedMemory(32);
            FakeKernel kernel = new FakeKernel();
            SimulatedVirtioNetDevice device = new SimulatedVirtioNetDevice(memory);
            if (!modern)
            {
                device.OfferedFeatures &= ~VirtioSpec.Bit(VirtioSpec.VIRTIO_F_VERSION_1);
            }
            FakeInterruptController interrupts = new FakeInterruptController();
            SimulatedPciFunction function = new SimulatedPciFunction(device, interrupts, modern, !modern, true);
            FakePciConfigSpace space = new FakePciConfigSpace();
            function.AttachTo(space, 0, 3, 0);
            PciEnumerator enumerator = new PciEnumerator(space, new Mapper { Function = function });
            Assert.That(enumerator.Enumerate(PciScanMode.Recursive), Is.EqualTo(1));
            PciDevice pci = enumerator.Get(0);
            Assert.That(VirtioPci.DeviceType(pci), Is.EqualTo(VirtioSpec.VirtioNetDeviceId));
            PciBar bar;
            Assert.That(pci.TryGetBar(modern ? SimulatedPciFunction.ModernBar : SimulatedPciFunction.LegacyBar, out bar), Is.True);
            Assert.That(space.BarWritesWithDecodeOn, Is.Zero);

            IVirtioTransport transport = VirtioPci.TryCreateTransport(pci, interrupts);
            Assert.That(transport, Is.Not.Null);
            Assert.That(transport.IsLegacy, Is.EqualTo(!modern));
            VirtioNetPlatform platform = new VirtioNetPlatform { Pages = memory, Dma = memory, Work = kernel, Timers = kernel, Clock = kernel };
            VirtioNetDevice driver = new VirtioNetDevice(transport, platform, new VirtioNetOptions());
            TestReceiver receiver = new TestReceiver();
            driver.Receiver = receiver;
            Assert.That(driver.Start(), Is.True);
            kernel.RunPending();
            Assert.That(function.MsixEnabled, Is.True, "MSI-X switched on through the kernel's config access");
            byte[] frame = new byte[1514];
            for (uint i = 0; i < 50; i++)
            {
                TestFrames.FillNoAlloc(frame, 1000, i);
                Assert.That(device.InjectFrame(new ReadOnlySpan<byte>(frame, 0, 1000)), Is.True);
                kernel.RunPending();
            }
            Assert.That(receiver.Packets, Is.EqualTo(50));
            Assert.That(receiver.BadPackets, Is.Zero);
            Assert.That(driver.Stop(), Is.True);
            Assert.That(memory.Violations, Is.Zero, memory.FirstViolation);
        }
    }
}
