using Keel.Buffers;
using NUnit.Framework;

namespace Keel.Tests.Buffers
{
    /// <summary>The pool made partly at start-up and partly on first need, up to a limit.</summary>
    public class LazyPoolTests
    {
        private sealed class Item
        {
            public int Index;
        }

        private sealed class Maker : IPoolMaker<Item>
        {
            public int Calls;

            public Item Make(int index)
            {
                Calls++;
                return new Item { Index = index };
            }
        }

        [Test]
        public void MakesTheEarlyOnesAtOnceAndTheRestWhenFirstTakenUpToTheLimit()
        {
            Maker maker = new Maker();
            LazyPool<Item> pool = new LazyPool<Item>(5, 2, maker);
            Assert.That(maker.Calls, Is.EqualTo(2));
            Assert.That(pool.Made, Is.EqualTo(2));
            Assert.That(pool.FreeCount, Is.EqualTo(2));
            Assert.That(pool.Available, Is.EqualTo(5));
            Item[] taken = new Item[5];
            for (int i = 0; i < 5; i++)
            {
                taken[i] = pool.Take();
                Assert.That(taken[i], Is.Not.Null);
            }
            Assert.That(maker.Calls, Is.EqualTo(5), "three more made on need");
            Assert.That(pool.Take(), Is.Null, "at the limit");
            Assert.That(pool.Available, Is.Zero);
            for (int i = 0; i < 5; i++)
            {
                Assert.That(pool.At(i).Index, Is.EqualTo(i), "in the order of making");
            }
        }

        [Test]
        public void AGivenBackObjectIsTakenAgainWithoutMakingAnother()
        {
            Maker maker = new Maker();
            LazyPool<Item> pool = new LazyPool<Item>(100, 1, maker);
            Item a = pool.Take();
            pool.Give(a);
            for (int i = 0; i < 10; i++)
            {
                Item b = pool.Take();
                Assert.That(b, Is.SameAs(a));
                pool.Give(b);
            }
            Assert.That(maker.Calls, Is.EqualTo(1));
            Assert.That(pool.Made, Is.EqualTo(1));
            Assert.That(pool.Available, Is.EqualTo(100));
        }

        [Test]
        public void EarlyPastTheLimitMakesOnlyTheLimit()
        {
            Maker maker = new Maker();
            LazyPool<Item> pool = new LazyPool<Item>(3, 10, maker);
            Assert.That(maker.Calls, Is.EqualTo(3));
            Assert.That(pool.Limit, Is.EqualTo(3));
        }
    }
}
