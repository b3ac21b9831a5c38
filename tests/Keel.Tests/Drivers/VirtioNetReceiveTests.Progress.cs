using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>What the receive watchdog reads: the queue's progress and the ring's shared indices.</summary>
    public partial class VirtioNetReceiveTests
    {
        [Test]
        public void ProgressShowsWaitingBuffersAndPollsAndAStallNeedsTwoLooksWithoutAPoll()
        {
            Make();
            ReceiveQueue queue = _bench.Driver.ReceiveQueue(0);
            ReceiveProgress idle = queue.Progress;
            Assert.That(idle.UsedWaiting, Is.False);
            Assert.That(idle.Polls, Is.EqualTo(_bench.Stat("rx_queue_0_polls")));

            Assert.That(_bench.Inject(64), Is.True);
            ReceiveProgress waiting = queue.Progress;
            Assert.That(waiting.UsedWaiting, Is.True);
            Assert.That(waiting.StalledSince(idle), Is.False, "buffers waiting at one look only");
            Assert.That(queue.Progress.StalledSince(waiting), Is.True, "waiting at two looks with no poll between");

            VirtqueueIndices indices = queue.Ring.ReadIndices();
            Assert.That(indices.Packed, Is.False);
            Assert.That(indices.UsedIndex, Is.EqualTo(1), "the device returned one buffer");
            Assert.That(indices.InFlight, Is.EqualTo(queue.Ring.InFlight));
            Assert.That(indices.AvailIndex, Is.EqualTo((ushort)indices.InFlight), "every buffer posted is still the device's");

            _bench.Kernel.RunPending();
            ReceiveProgress polled = queue.Progress;
            Assert.That(polled.Polls, Is.GreaterThan(waiting.Polls));
            Assert.That(polled.UsedWaiting, Is.False);
            Assert.That(polled.StalledSince(waiting), Is.False);
            AssertCleanShutdown(_bench);
        }
    }
}
