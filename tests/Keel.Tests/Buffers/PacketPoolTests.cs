using Keel.Buffers;
using Keel.Hal;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Buffers
{
    /// <summary>Making a packet pool when memory runs out part of the way: nothing may be kept.</summary>
    [TestFixture]
    public sealed class PacketPoolTests
    {
        [Test]
        public void CreateThatRunsOutGivesEveryPageBack()
        {
            using SimulatedMemory memory = new SimulatedMemory(1);
            int perPage = DmaPage.Size / Packet.LinearCapacity;
            memory.FailAfter = 3; // three pages, then no more
            Assert.That(PacketPool.Create(memory, 5 * perPage), Is.Null);
            Assert.That(memory.FailedAllocations, Is.EqualTo(1));
            Assert.That(memory.AllocatedPages, Is.Zero, "the three pages it got are back");
        }

        [Test]
        public void CreateThatFitsHoldsItsPagesUntilDestroyed()
        {
            using SimulatedMemory memory = new SimulatedMemory(1);
            int perPage = DmaPage.Size / Packet.LinearCapacity;
            PacketPool pool = PacketPool.Create(memory, 5 * perPage);
            Assert.That(pool, Is.Not.Null);
            Assert.That(pool.Capacity, Is.EqualTo(5 * perPage));
            Assert.That(memory.AllocatedPages, Is.EqualTo(5));
            Assert.That(pool.Destroy(), Is.True);
            Assert.That(memory.AllocatedPages, Is.Zero);
        }
    }
}
