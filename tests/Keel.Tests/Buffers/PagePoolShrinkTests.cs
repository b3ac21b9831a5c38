using Keel.Buffers;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Buffers
{
    /// <summary>
    /// The page pool's release path: after a burst the pool gives back the free pages it
    /// did not need in the next quiet period, instead of holding the burst's peak for ever (before: pages
    /// held 128 → 688 after 30 tests at -m 8M).
    /// </summary>
    [TestFixture]
    public sealed class PagePoolShrinkTests
    {
        [Test]
        public void BurstPagesGoBackAfterOneQuietPeriod()
        {
            using SimulatedMemory allocator = new SimulatedMemory(8);
            PagePool pool = new PagePool(allocator, 1024);
            int[] pages = new int[600];
            for (int i = 0; i < pages.Length; i++)
            {
                Assert.That(pool.TryAllocate(out pages[i]), Is.True);
            }
            for (int i = 100; i < pages.Length; i++)
            {
                pool.Release(pages[i]);  // the burst is over; 100 stay in flight (the ring)
            }
            Assert.That(pool.PagesHeld, Is.EqualTo(600));
            Assert.That(pool.FreeCount, Is.EqualTo(500));

            // The period that had the burst: its peak was 600, nothing is given back.
            Assert.That(pool.ReleaseExcess(16), Is.Zero);
            // A quiet period: the need is 100 in flight plus the slack.
            Assert.That(pool.ReleaseExcess(16), Is.EqualTo(484));
            Assert.That(pool.PagesHeld, Is.EqualTo(116));
            Assert.That(allocator.AllocatedPages, Is.EqualTo(116));
            Assert.That(pool.FreeCount, Is.EqualTo(16));
            Assert.That(pool.Shrunk, Is.EqualTo(484));
            Assert.That(pool.Released, Is.EqualTo(484));

            // Steady traffic at the same level takes from the free list and changes nothing.
            int page;
            Assert.That(pool.TryAllocate(out page), Is.True);
            pool.Release(page);
            Assert.That(pool.ReleaseExcess(16), Is.Zero);
            Assert.That(pool.AllocSlow, Is.EqualTo(600));

            for (int i = 0; i < 100; i++)
            {
                pool.Release(pages[i]);
            }
            Assert.That(pool.InFlight, Is.Zero);
            Assert.That(pool.ReleaseFreePages(), Is.Zero);
            Assert.That(allocator.AllocatedPages, Is.Zero, "every page back");
        }

        [Test]
        public void PagesInFlightAreNeverGivenBack()
        {
            using SimulatedMemory allocator = new SimulatedMemory(8);
            PagePool pool = new PagePool(allocator, 64);
            int[] pages = new int[40];
            for (int i = 0; i < pages.Length; i++)
            {
                pool.TryAllocate(out pages[i]);
            }
            pool.ReleaseExcess(0);
            Assert.That(pool.ReleaseExcess(0), Is.Zero);
            Assert.That(pool.PagesHeld, Is.EqualTo(40));
            Assert.That(pool.InFlight, Is.EqualTo(40));
        }
    }
}
