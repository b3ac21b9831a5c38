using Keel.Hal;
using Keel.Kernel.Scheduling;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>The kernel main loop's deferred work and pollers (kernel/portable/Scheduling).</summary>
    public class WorkSchedulerTests
    {
        private sealed class CountingItem : IWorkItem
        {
            public int Runs;
            public WorkScheduler Scheduler;
            public int Handle;
            public int RescheduleTimes;

            public void Run()
            {
                Runs++;
                if (RescheduleTimes > 0)
                {
                    RescheduleTimes--;
                    Scheduler.Schedule(Handle);
                }
            }
        }

        [Test]
        public void OnlyScheduledItemsRunAndOncePerSchedule()
        {
            var scheduler = new WorkScheduler(4);
            var a = new CountingItem();
            var b = new CountingItem();
            int ha = scheduler.Register(a);
            int hb = scheduler.Register(b);
            Assert.That(scheduler.HasPending, Is.False);
            scheduler.Schedule(hb);
            scheduler.Schedule(hb);
            Assert.That(scheduler.HasPending, Is.True);
            scheduler.RunPending();
            Assert.That(a.Runs, Is.EqualTo(0));
            Assert.That(b.Runs, Is.EqualTo(1), "one pending bit per item: two schedules, one run");
            Assert.That(scheduler.HasPending, Is.False);
            scheduler.Schedule(ha);
            scheduler.RunPending();
            Assert.That(a.Runs, Is.EqualTo(1));
            Assert.That(scheduler.Runs, Is.EqualTo(2));
        }

        [Test]
        public void ItemScheduledWhileRunningRunsOnTheNextPass()
        {
            var scheduler = new WorkScheduler(4);
            var item = new CountingItem { Scheduler = scheduler, RescheduleTimes = 1 };
            item.Handle = scheduler.Register(item);
            scheduler.Schedule(item.Handle);
            scheduler.RunPending();
            Assert.That(item.Runs, Is.EqualTo(1));
            Assert.That(scheduler.HasPending, Is.True, "re-scheduled from its own Run");
            scheduler.RunPending();
            Assert.That(item.Runs, Is.EqualTo(2));
            Assert.That(scheduler.HasPending, Is.False);
        }

        [Test]
        public void FullSchedulerRefusesAndCountsInsteadOfDroppingSilently()
        {
            var scheduler = new WorkScheduler(2);
            Assert.That(scheduler.Register(new CountingItem()), Is.EqualTo(0));
            Assert.That(scheduler.Register(new CountingItem()), Is.EqualTo(1));
            var third = new CountingItem();
            Assert.That(scheduler.Register(third), Is.EqualTo(-1));
            Assert.That(scheduler.Rejected, Is.EqualTo(1));
            Assert.That(scheduler.Count, Is.EqualTo(2));
            scheduler.Schedule(-1);
            scheduler.Schedule(2);
            Assert.That(scheduler.HasPending, Is.False, "bad handles are ignored");
        }

        [Test]
        public void PollersRunEveryPassInOrderAndANinthIsRefused()
        {
            var pollers = new PollerList();
            var order = new System.Collections.Generic.List<int>();
            for (int i = 0; i < PollerList.DefaultCapacity; i++)
            {
                Assert.That(pollers.Add(new OrderItem(order, i)), Is.True);
            }
            Assert.That(pollers.Add(new OrderItem(order, 99)), Is.False, "the ninth is refused, not dropped silently");
            Assert.That(pollers.Count, Is.EqualTo(8));
            pollers.RunAll();
            pollers.RunAll();
            Assert.That(order, Is.EqualTo(new[] { 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7 }));
        }

        private sealed class OrderItem : IWorkItem
        {
            private readonly System.Collections.Generic.List<int> _order;
            private readonly int _id;

            public OrderItem(System.Collections.Generic.List<int> order, int id)
            {
                _order = order;
                _id = id;
            }

            public void Run() => _order.Add(_id);
        }
    }
}
