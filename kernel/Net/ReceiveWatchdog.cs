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
        private const long PeriodNanoseconds = 100_000_000;

        private readonly VirtioNetDevice _device;
        private readonly bool _interruptsOff;
        private readonly int _timer;
        private readonly int _pollsStatistic = -1;
        private bool _waitingSeen;
        private long _pollsSeen;

        /// <param name="interruptsOff">True when the driver handles packets in its interrupt handler (napi=off):
        /// the poll must then not be interrupted by it.</param>
        public ReceiveWatchdog(VirtioNetDevice device, bool interruptsOff)
        {
            _device = device;
            _interruptsOff = interruptsOff;
            for (int i = 0; i < device.StatisticsCount; i++)
            {
                if (device.StatisticName(i) == "rx_queue_0_polls")
                {
                    _pollsStatistic = i;
                }
            }
            _timer = Kernel.Timers.CreateTimer(this);
            Kernel.Timers.Start(_timer, PeriodNanoseconds);
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

        /// <summary>The receive ring as the device sees it (for the bug report a rescue is).</summary>
        private unsafe void PrintQueueState()
        {
            Keel.Drivers.Virtio.Virtqueue q = _device.RxQueue;
            if (q.IsPacked)
            {
                Kernel.Console.Write("  packed ring: in flight ");
                Kernel.Console.Write((long)q.InFlight);
                Kernel.Console.Write(" callbacks ");
                Kernel.Console.Write(q.CallbacksDisabled ? "disabled" : "enabled");
                Kernel.Console.WriteLine();
                return;
            }
            byte* ring = q.Memory.Virtual;
            int size = q.Size;
            int avail = Keel.Drivers.Virtio.SplitVirtqueue.AvailOffset(size);
            int used = Keel.Drivers.Virtio.SplitVirtqueue.UsedOffset(size);
            Kernel.Console.Write("  avail.idx ");
            Kernel.Console.Write((long)*(ushort*)(ring + avail + 2));
            Kernel.Console.Write(" avail.flags ");
            Kernel.Console.Write((long)*(ushort*)(ring + avail));
            Kernel.Console.Write(" used_event ");
            Kernel.Console.Write((long)*(ushort*)(ring + avail + 4 + 2 * size));
            Kernel.Console.Write(" used.idx ");
            Kernel.Console.Write((long)*(ushort*)(ring + used + 2));
            Kernel.Console.Write(" in flight ");
            Kernel.Console.Write((long)q.InFlight);
            Kernel.Console.Write(" callbacks ");
            Kernel.Console.Write(q.CallbacksDisabled ? "disabled" : "enabled");
            Kernel.Console.Write(" work pending ");
            Kernel.Console.Write(Kernel.Work.HasPending ? "yes" : "no");
            Kernel.Console.WriteLine();
        }

        public void Run()
        {
            Runs++;
            long polls = _pollsStatistic < 0 ? 0 : _device.StatisticValue(_pollsStatistic);
            bool waiting = (object)_device.RxQueue != null && _device.RxQueue.HasUsed;
            if (waiting && _waitingSeen && polls == _pollsSeen)
            {
                Rescues++;
                Kernel.Console.Write("net: rx watchdog rescue (used buffers waited 100 ms with no poll: lost interrupt)\n");
                PrintQueueState();
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
                waiting = false;
                polls = _pollsStatistic < 0 ? 0 : _device.StatisticValue(_pollsStatistic);
            }
            _waitingSeen = waiting;
            _pollsSeen = polls;
            Kernel.Timers.Start(_timer, PeriodNanoseconds);
        }
    }
}
