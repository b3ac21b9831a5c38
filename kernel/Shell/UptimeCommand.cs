using Keel.Hal;
using Keel.Kernel.Time;

namespace Keel.Kernel.Shell
{
    /// <summary><c>uptime</c>: time since the clock was calibrated, interrupts and timer counts.</summary>
    public sealed class UptimeCommand : IShellCommand
    {
        public string Name => "uptime";

        public string Help => "time since boot, interrupt and work counters";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            long now = Tsc.NowNanoseconds;
            output.Write("up ");
            output.Write(now / 1_000_000_000);
            output.Write('.');
            long millis = (now / 1_000_000) % 1000;
            if (millis < 100) output.Write('0');
            if (millis < 10) output.Write('0');
            output.Write(millis);
            output.Write(" s, interrupts ");
            output.Write(Interrupts.InterruptDispatcher.TotalInterrupts);
            output.Write(", work runs ");
            output.Write(Kernel.Work.Runs);
            output.Write(", timer expirations ");
            output.Write(Kernel.Timers.Expirations);
            output.WriteLine();
        }
    }
}
