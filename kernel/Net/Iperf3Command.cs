using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Net
{
    /// <summary><c>iperf3</c>: the iperf3 server's state and counters.</summary>
    public sealed class Iperf3Command : IShellCommand
    {
        public string Name => "iperf3";

        public string Help => "iperf3 server (port 5201) counters";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            NetworkSubsystem.Iperf3.PrintStatistics(output);
        }
    }
}
