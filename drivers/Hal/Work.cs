namespace Keel.Hal
{
    /// <summary>A piece of deferred work. <see cref="Run"/> is called from the kernel main loop, never from an interrupt.</summary>
    public interface IWorkItem
    {
        void Run();
    }

    /// <summary>
    /// Deferred work (Linux: softirq/NAPI scheduling, workqueues). The kernel main loop runs every pending item
    /// in turn; an item scheduled again while it runs is run again afterwards.
    /// </summary>
    public interface IWorkScheduler
    {
        /// <summary>Registers an item at start-up; returns its handle. May allocate.</summary>
        int Register(IWorkItem item);

        /// <summary>
        /// Marks the item pending. Callable from any context, including interrupt handlers; never allocates.
        /// Scheduling an item that is already pending does nothing (one pending bit per item).
        /// </summary>
        void Schedule(int handle);
    }

    /// <summary>One-shot timers whose expiry runs a work item from the main loop (Linux: delayed work).</summary>
    public interface ITimerService
    {
        /// <summary>Creates a stopped timer at start-up; returns its handle. May allocate.</summary>
        int CreateTimer(IWorkItem item);

        /// <summary>
        /// Arms the timer to run its item once, <paramref name="delay"/> from now (zero = next main loop pass).
        /// Arming an armed timer moves its deadline. Never allocates; not for interrupt context.
        /// </summary>
        void Start(int timer, Duration delay);

        /// <summary>Disarms the timer (no effect when it is not armed).</summary>
        void Cancel(int timer);
    }
}
