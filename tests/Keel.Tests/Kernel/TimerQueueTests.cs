using System;
using System.Collections.Generic;
using Keel.Hal;
using Keel.Kernel.Time;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// <see cref="TimerQueue"/> against <see cref="SimulatedApicTimer"/>: the timer interrupt is made to happen
    /// at every point of <c>Start</c>, <c>Cancel</c>, <c>RunExpired</c> and <c>PrepareIdle</c> (before and after
    /// every hardware access), and no timer may ever be lost or run late.
    /// </summary>
    [TestFixture]
    public sealed class TimerQueueTests
    {
        private sealed class Item : IWorkItem
        {
            public readonly List<long> Runs = new List<long>();
            public Func<long> Clock;
            public Action OnRun;

            public void Run()
            {
                Runs.Add(Clock());
                OnRun?.Invoke();
            }
        }

        private sealed class Scenario
        {
            public SimulatedApicTimer Hardware = new SimulatedApicTimer();
            public TimerQueue Queue;
            public Item A, B, C, D, E, F;
            public int TA, TB, TC, TD, TE, TF;
            public long Start;
            public long DeadlineB;
            public long DeadlineD;
            public long DeadlineF;
            public bool Lost;

            public Scenario()
            {
                Queue = new TimerQueue(Hardware);
                Hardware.Handler = Queue.OnInterrupt;
                A = NewItem(out TA);
                B = NewItem(out TB);
                C = NewItem(out TC);
                D = NewItem(out TD);
                E = NewItem(out TE);
                F = NewItem(out TF);
                // A (1 µs, the minimum hardware delay) starts D at once and moves B earlier; D chains F.
                A.OnRun = () =>
                {
                    DeadlineD = Hardware.Now;
                    Queue.Start(TD, Duration.FromNanoseconds(0));
                    DeadlineB = Hardware.Now + 2_000_000;
                    Queue.Start(TB, Duration.FromNanoseconds(2_000_000));
                };
                D.OnRun = () =>
                {
                    DeadlineF = Hardware.Now + 40_000_000;
                    Queue.Start(TF, Duration.FromNanoseconds(40_000_000));
                };
            }

            private Item NewItem(out int timer)
            {
                Item item = new Item { Clock = () => Hardware.Now };
                timer = Queue.CreateTimer(item);
                return item;
            }

            public void Run()
            {
                Start = Hardware.Now;
                Queue.Start(TA, Duration.FromNanoseconds(1000));
                Queue.Start(TB, Duration.FromNanoseconds(5_000_000));
                Queue.Start(TC, Duration.FromNanoseconds(300_000_000));
                Queue.Start(TE, Duration.FromNanoseconds(1_000_000));
                Queue.Cancel(TE);
                // The kernel main loop: run expired timers, then with interrupts off decide to halt.
                for (int pass = 0; pass < 10_000 && Hardware.Now < Start + 1_000_000_000; pass++)
                {
                    Queue.RunExpired();
                    Hardware.Cli();
                    if (Queue.PrepareIdle())
                    {
                        if (!Hardware.HaltUntilInterrupt())
                        {
                            Lost = Queue.ActiveCount > 0;
                            return;
                        }
                    }
                    else
                    {
                        Hardware.RestoreInterrupts(1);
                    }
                }
            }
        }

        private static void AssertRanOnce(Item item, long deadline, string what, string where)
        {
            Assert.That(item.Runs.Count, Is.EqualTo(1), what + " runs, " + where);
            Assert.That(item.Runs[0], Is.GreaterThanOrEqualTo(deadline), what + " early, " + where);
            Assert.That(item.Runs[0] - deadline, Is.LessThanOrEqualTo(TimerQueue.MinimumDelayNanoseconds),
                what + " late, " + where);
        }

        private static void Check(Scenario s, string where)
        {
            Assert.That(s.Lost, Is.False, "halted with an active timer and nothing armed, " + where);
            AssertRanOnce(s.A, s.Start + 1000, "A", where);
            AssertRanOnce(s.D, s.DeadlineD, "D", where);
            AssertRanOnce(s.B, s.DeadlineB, "B", where);
            AssertRanOnce(s.F, s.DeadlineF, "F", where);
            AssertRanOnce(s.C, s.Start + 300_000_000, "C", where);
            Assert.That(s.E.Runs, Is.Empty, "cancelled E ran, " + where);
            Assert.That(s.Queue.ActiveCount, Is.Zero, where);
        }

        [Test]
        public void AllTimersRunOnTimeWithoutInterference()
        {
            Scenario s = new Scenario();
            s.Run();
            Check(s, "no injection");
            Assert.That(s.Hardware.Points, Is.GreaterThan(20));
        }

        [Test]
        public void NoTimerIsLostWhateverPointTheInterruptComesAt(
            [Values(SimulatedApicTimer.Injection.Expiry, SimulatedApicTimer.Injection.Stray)] SimulatedApicTimer.Injection kind,
            [Values(false, true)] bool after)
        {
            Scenario clean = new Scenario();
            clean.Run();
            int points = clean.Hardware.Points;
            int injected = 0;
            for (int point = 0; point <= points; point++)
            {
                Scenario s = new Scenario();
                s.Hardware.InjectAt = point;
                s.Hardware.InjectAfter = after;
                s.Hardware.Kind = kind;
                s.Run();
                Check(s, kind + (after ? " after" : " before") + " point " + point);
                if (s.Hardware.Injected)
                {
                    injected++;
                }
            }
            // Most points have the timer counting (Expiry) and every point can take a stray one.
            Assert.That(injected, Is.GreaterThan(points / 2));
        }

        [Test]
        public void ArmingWithTheMinimumDelayRecordsOnlyAFutureDeadlineAfterTheInterrupt()
        {
            // The exact sequence from the issue: the interrupt lands right after the APIC is programmed.
            SimulatedApicTimer hw = new SimulatedApicTimer();
            TimerQueue q = new TimerQueue(hw);
            hw.Handler = q.OnInterrupt;
            Item item = new Item { Clock = () => hw.Now };
            int t = q.CreateTimer(item);
            hw.Kind = SimulatedApicTimer.Injection.Expiry;
            hw.InjectAfter = true;
            // Points of Start: Now (1), DisableInterrupts (2), Now (3), StartOneShot (4), Restore (5).
            hw.InjectAt = 4;
            q.Start(t, Duration.FromNanoseconds(0));
            Assert.That(hw.Injected, Is.True);
            Assert.That(hw.Delivered, Is.EqualTo(1));
            Assert.That(q.ArmedDeadline, Is.EqualTo(long.MaxValue), "the interrupt came after the store");
            hw.Cli();
            Assert.That(q.PrepareIdle(), Is.False, "the timer is due");
            hw.RestoreInterrupts(1);
            q.RunExpired();
            Assert.That(item.Runs.Count, Is.EqualTo(1));
        }

        [Test]
        public void LongDeadlinesAreReachedInStepsOfAtMostMaxSleep()
        {
            SimulatedApicTimer hw = new SimulatedApicTimer();
            TimerQueue q = new TimerQueue(hw);
            hw.Handler = q.OnInterrupt;
            Item item = new Item { Clock = () => hw.Now };
            int t = q.CreateTimer(item);
            long start = hw.Now;
            q.Start(t, Duration.FromNanoseconds(1_000_000_000));
            Assert.That(hw.HardwareDeadline - start, Is.EqualTo(TimerQueue.MaxSleepNanoseconds));
            int wakeups = 0;
            while (item.Runs.Count == 0 && wakeups < 100)
            {
                hw.Cli();
                if (q.PrepareIdle())
                {
                    Assert.That(hw.HaltUntilInterrupt(), Is.True);
                    wakeups++;
                }
                else
                {
                    hw.RestoreInterrupts(1);
                }
                q.RunExpired();
            }
            Assert.That(item.Runs, Is.EqualTo(new[] { start + 1_000_000_000 }));
            Assert.That(wakeups, Is.EqualTo(10));
        }

        [Test]
        public void LateByHistogramAndListing()
        {
            SimulatedApicTimer hw = new SimulatedApicTimer();
            TimerQueue q = new TimerQueue(hw);
            hw.Handler = q.OnInterrupt;
            Item item = new Item { Clock = () => hw.Now };
            int t = q.CreateTimer(item);
            int idle = q.CreateTimer(new Item { Clock = () => hw.Now });
            q.Start(t, Duration.FromNanoseconds(1_000_000));
            q.Start(idle, Duration.FromNanoseconds(10_000_000_000));
            hw.Advance(6_000_000);       // the main loop was busy: the item runs 5 ms late
            q.RunExpired();
            Assert.That(q.LateCount(3), Is.EqualTo(1), "5 ms is in the 1..10 ms bucket");
            Assert.That(q.MaxLateNanoseconds, Is.EqualTo(5_000_000));
            Assert.That(q.Expirations, Is.EqualTo(1));
            TextCapture text = new TextCapture();
            q.Print(text);
            Assert.That(text.Text, Does.Contain("timers: 2 created, 1 active; armed deadline "));
            Assert.That(text.Text, Does.Contain("expirations 1"));
            Assert.That(text.Text, Does.Contain("<10ms 1"));
            Assert.That(text.Text, Does.Contain("  timer 1: due in 9994000 us"));
        }

        [Test]
        public void CreateTimerRefusesWhenFull()
        {
            TimerQueue q = new TimerQueue(new SimulatedApicTimer());
            for (int i = 0; i < TimerQueue.MaxTimers; i++)
            {
                Assert.That(q.CreateTimer(new Item()), Is.EqualTo(i));
            }
            Assert.That(q.CreateTimer(new Item()), Is.EqualTo(-1));
        }
    }
}
