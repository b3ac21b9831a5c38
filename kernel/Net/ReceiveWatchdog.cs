using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Runtime;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// Runs the NIC's poll every 100 ms as a safety net. Under heavy host CPU pressure we have seen QEMU 7.2
    /// (TCG) use every posted receive buffer without the used-buffer interrupt the EVENT_IDX protocol asks for
    /// (tools/bench.d/rx-stall-repro: guest LAPIC with nothing pending, device used_idx past the guest's
    /// used_event). A poll with nothing to do costs a few loads; one that finds used buffers takes them and
    /// re-arms (counted as rx_queue_0_rearm_races), so the ring never stays full.
    /// </summary>
    public sealed class ReceiveWatchdog : IWorkItem
    {
        private const long PeriodNanoseconds = 100_000_000;

        private readonly VirtioNetDevice _device;
        private readonly bool _interruptsOff;
        private readonly int _timer;

        /// <param name="interruptsOff">True when the driver handles packets in its interrupt handler (napi=off):
        /// the poll must then not be interrupted by it.</param>
        public ReceiveWatchdog(VirtioNetDevice device, bool interruptsOff)
        {
            _device = device;
            _interruptsOff = interruptsOff;
            _timer = Kernel.Timers.CreateTimer(this);
            Kernel.Timers.Start(_timer, PeriodNanoseconds);
        }

        /// <summary>Watchdog polls run.</summary>
        public long Runs { get; private set; }

        public void Run()
        {
            Runs++;
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
            Kernel.Timers.Start(_timer, PeriodNanoseconds);
        }
    }
}
