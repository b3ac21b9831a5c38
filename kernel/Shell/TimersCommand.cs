using Keel.Hal;

namespace Keel.Kernel.Shell
{
    /// <summary><c>timers</c>: armed APIC deadline, active timers, interrupts, expirations, late-by histogram.</summary>
    public sealed class TimersCommand : IShellCommand
    {
        public string Name => "timers";

        public string Help => "armed deadline, active timers, expirations, late-by histogram";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            Kernel.Timers.Queue.Print(output);
        }
    }
}
