using Keel.Hal;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// Runs after every pass of the main loop (whether or not the pass had work): lets the stack run its
    /// timers and the applications make progress (<see cref="ApplicationHost.Poll"/>), then arms a timer for
    /// the earliest deadline of either, so an idle kernel still retransmits, acknowledges and paces on time.
    /// </summary>
    public sealed class NetworkPoller : IWorkItem
    {
        private static Duration MaxSleep => Duration.FromMilliseconds(50);
        private readonly ApplicationHost _host;
        private readonly int _timer;

        public NetworkPoller(ApplicationHost host)
        {
            _host = host;
            _timer = Kernel.Timers.CreateTimer(this);
        }

        public void Run()
        {
            if (!Kernel.CommandLine.NapiEnabled)
            {
                // napi=off ablation: the driver hands packets to the stack inside the interrupt handler,
                // so the stack and the applications may only run with interrupts off.
                ulong flags = Keel.Runtime.Native.SaveFlagsAndDisableInterrupts();
                PollAll();
                Keel.Runtime.Native.RestoreFlags(flags);
                return;
            }
            PollAll();
        }

        private void PollAll()
        {
            _host.Poll();
            Duration delay = Duration.Min(_host.NextWake - Instant.Now(Kernel.Clock), MaxSleep);
            Kernel.Timers.Start(_timer, delay);
        }
    }
}
