using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Runtime;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// A counted safety net for the receive path, not part of it. Every 100 ms it looks at the receive
    /// queue: when used buffers have been waiting since the previous look and no NAPI poll ran in between,
    /// the interrupt that should have scheduled one was lost; it then runs the poll itself and counts a
    /// <c>rx_watchdog_rescues</c>. A rescue is a bug report: `stats`, tools/bench and the QEMU tests show the
    /// counter and expect 0. (It was a poll every 100 ms before; the stall it papered over in
    /// tools/bench.d/rx-stall-repro is analysed in docs/network-stack.md.) `bench-rxwatchdog=off` removes it.
    /// </summary>
    public sealed class ReceiveWatchdog : IWorkItem, IStatisticsSource
    {
        private static Duration Period => Duration.FromMilliseconds(100);

        private readonly VirtioNetDevice _device;
        private readonly ReceiveQueue _queue;
        private readonly bool _interruptsOff;
        private readonly int _timer;
        private ReceiveProgress _seen;

        /// <param name="interruptsOff">True when the driver handles packets in its interrupt handler (napi=off):
        /// the poll must then not be interrupted by it.</param>
        public ReceiveWatchdog(VirtioNetDevice device, bool interruptsOff)
        {
            _device = device;
            _queue = device.ReceiveQueue(0);
            _interruptsOff = interruptsOff;
            _timer = Kernel.Timers.CreateTimer(this);
            Kernel.Timers.Start(_timer, Period);
        }

        /// <summary>Watchdog looks taken.</summary>
        public long Runs { get; private set; }

        /// <summary>Polls the watchdog had to run because receive work waited 100 ms with no poll.</summary>
        public long Rescues { get; private set; }

        public int StatisticsCount => 2;

        public string StatisticName(int index) => index == 0 ? "rx_watchdog_rescues" : "rx_watchdog_runs";

        public string StatisticHelp(int index) => index == 0
            ? "Receive polls the watchdog ran because work waited with no poll (must stay 0)"
            : "Receive watchdog looks";

        public StatisticKind StatisticKind(int index) => Keel.Hal.StatisticKind.Counter;

        public long StatisticValue(int index) => index == 0 ? Rescues : Runs;

        public void Run()
        {
            Runs++;
            ReceiveProgress now = _queue.Progress;
            if (now.StalledSince(_seen))
            {
                Rescues++;
                Kernel.Console.Write("net: rx watchdog rescue (used buffers waited 100 ms with no poll: lost interrupt)\n");
                // The receive ring as the device sees it (for the bug report a rescue is).
                Kernel.Console.Write("  ");
                _queue.Ring.ReadIndices().WriteTo(Kernel.Console);
                Kernel.Console.Write(" work pending ");
                Kernel.Console.Write(Kernel.Work.HasPending ? "yes" : "no");
                Kernel.Console.WriteLine();
                if (_interruptsOff)
                {
                    ulong flags = Native.SaveFlagsAndDisableInterrupts();
                    _device.Poll();
                    Native.RestoreFlags(flags);
                }
                else
                {
                    _device.Poll();
                }
                now = new ReceiveProgress(_queue.Progress.Polls, false);
            }
            _seen = now;
            Kernel.Timers.Start(_timer, Period);
        }
    }
}
