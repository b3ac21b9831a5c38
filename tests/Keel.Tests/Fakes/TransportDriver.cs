using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using NUnit.Framework;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// The virtio-net driver over a register-level transport (PCI or MMIO) in front of the simulated device: built
    /// on the simulated memory and kernel, and driven with echo traffic.
    /// </summary>
    public static class TransportDriver
    {
        /// <summary>The driver on <paramref name="transport"/> with <paramref name="options"/> (defaults when null), frames going to a new <paramref name="receiver"/>.</summary>
        public static VirtioNetDevice Create(IVirtioTransport transport, SimulatedMemory memory, FakeKernel kernel, VirtioNetOptions options,
            out TestReceiver receiver)
        {
            Assert.That(transport, Is.Not.Null);
            VirtioNetPlatform platform = new VirtioNetPlatform { Pages = memory, Dma = memory, Work = kernel, Timers = kernel, Clock = kernel };
            VirtioNetDevice driver = new VirtioNetDevice(transport, platform, options ?? new VirtioNetOptions());
            receiver = new TestReceiver();
            driver.Receiver = receiver;
            return driver;
        }

        /// <summary>
        /// Frames injected into the simulated device, each checked on arrival and echoed back through the driver,
        /// the work run every eight frames and at the end.
        /// </summary>
        /// <summary>Injects <paramref name="count"/> numbered frames of <paramref name="length"/> bytes and asserts every one came through intact and was echoed.</summary>
        public static void Echo(SimulatedVirtioNetDevice device, FakeKernel kernel, VirtioNetDevice driver, TestReceiver receiver,
            byte[] frame, ref uint sequence, int count, int length)
        {
            receiver.ExpectedLength = length;
            receiver.EchoTo = driver;
            long before = receiver.Packets;
            for (int i = 0; i < count; i++)
            {
                TestFrames.FillNoAlloc(frame, length, sequence++);
                Assert.That(device.InjectFrame(new System.ReadOnlySpan<byte>(frame, 0, length)), Is.True);
                if ((i & 7) == 7)
                {
                    kernel.RunPending();
                }
            }
            kernel.RunPending();
            Assert.That(receiver.Packets - before, Is.EqualTo(count));
            Assert.That(receiver.BadPackets, Is.Zero);
            Assert.That(receiver.EchoFailures, Is.Zero);
        }
    }
}
