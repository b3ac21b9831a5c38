using System;
using Keel.Kernel.Time;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// A local APIC one-shot timer, a clock and the CPU interrupt flag, simulated. Every call the code under
    /// test makes into it is a numbered <i>point</i>; a test can make the timer interrupt happen at a chosen
    /// point (<see cref="InjectAt"/>), before or after the call, as real hardware could at any instruction.
    /// An interrupt raised while interrupts are disabled stays pending (IRR) until they are restored.
    /// </summary>
    public sealed class SimulatedApicTimer : ITimerHardware
    {
        /// <summary>How the injected interrupt comes about.</summary>
        public enum Injection
        {
            /// <summary>The programmed count reaches zero at that point (only when the timer is counting).</summary>
            Expiry,

            /// <summary>A stray timer interrupt (e.g. a stale one from an earlier programming) at that point.</summary>
            Stray,
        }

        private long _now = 1_000_000_000;
        private bool _interruptsEnabled = true;
        private bool _pending;

        /// <summary>The handler the interrupt calls (the code under test).</summary>
        public Action Handler;

        /// <summary>When the programmed count reaches zero; long.MaxValue when the timer is not counting.</summary>
        public long HardwareDeadline { get; private set; } = long.MaxValue;

        /// <summary>Points passed so far.</summary>
        public int Points { get; private set; }

        /// <summary>The point at which to inject (-1: none).</summary>
        public int InjectAt = -1;

        /// <summary>Inject after the call at <see cref="InjectAt"/> rather than before it.</summary>
        public bool InjectAfter;

        /// <summary>What kind of interrupt to inject.</summary>
        public Injection Kind;

        /// <summary>True once the injection happened.</summary>
        public bool Injected { get; private set; }

        /// <summary>Interrupts delivered to the handler.</summary>
        public int Delivered { get; private set; }

        public bool InterruptsEnabled => _interruptsEnabled;

        /// <summary>The clock, read by the test (not a point).</summary>
        public long Now => _now;

        public long NowNanoseconds
        {
            get
            {
                Point(false);
                long now = _now;
                Point(true);
                return now;
            }
        }

        public void StartOneShot(long delayNanoseconds)
        {
            Point(false);
            // Writing the initial count restarts the countdown; an interrupt already in the IRR stays there.
            HardwareDeadline = _now + Math.Max(1, delayNanoseconds);
            Point(true);
        }

        public ulong DisableInterrupts()
        {
            Point(false);
            ulong saved = _interruptsEnabled ? 1UL : 0UL;
            _interruptsEnabled = false;
            Point(true);
            return saved;
        }

        public void RestoreInterrupts(ulong saved)
        {
            Point(false);
            _interruptsEnabled = saved != 0;
            DeliverPending();
            Point(true);
        }

        /// <summary>Disables interrupts as the main loop does before deciding to halt (a point too).</summary>
        public void Cli() => DisableInterrupts();

        /// <summary>
        /// <c>sti; hlt</c>: enables interrupts and sleeps until one comes. A pending interrupt is delivered at
        /// once; otherwise time moves to the hardware deadline and the timer fires. False when nothing can
        /// ever wake the CPU (the timer is not counting and nothing is pending): a lost timer.
        /// </summary>
        public bool HaltUntilInterrupt()
        {
            _interruptsEnabled = true;
            if (_pending)
            {
                DeliverPending();
                return true;
            }
            if (HardwareDeadline == long.MaxValue)
            {
                return false;
            }
            _now = Math.Max(_now, HardwareDeadline);
            Expire();
            return true;
        }

        /// <summary>Moves the clock (the timer fires if its count runs out on the way).</summary>
        public void Advance(long nanoseconds)
        {
            long target = _now + nanoseconds;
            if (HardwareDeadline <= target)
            {
                _now = HardwareDeadline;
                Expire();
            }
            _now = Math.Max(_now, target);
        }

        private void Expire()
        {
            HardwareDeadline = long.MaxValue;
            Raise();
        }

        private void Raise()
        {
            _pending = true;
            DeliverPending();
        }

        private void DeliverPending()
        {
            if (_pending && _interruptsEnabled)
            {
                _pending = false;
                _interruptsEnabled = false;   // the CPU clears IF while the handler runs
                Delivered++;
                Handler();
                _interruptsEnabled = true;
            }
        }

        private void Point(bool after)
        {
            if (after)
            {
                Points++;
            }
            if (Injected || InjectAt < 0 || Points != InjectAt || after != InjectAfter)
            {
                return;
            }
            if (Kind == Injection.Expiry)
            {
                if (HardwareDeadline == long.MaxValue)
                {
                    return;
                }
                Injected = true;
                // The count reaches zero now (early by calibration error at worst): time does not jump.
                Expire();
            }
            else
            {
                Injected = true;
                Raise();
            }
        }
    }
}
