using Keel.Hal;
using Keel.Net.Dhcp;

namespace Keel.Kernel.Shell
{
    /// <summary>
    /// Prints the shell's first prompt after the boot messages it would otherwise come before: at once with a
    /// static address or no network, and with DHCP once the lease line is out, or after
    /// <see cref="MaxWait"/> when no server has answered (the client keeps asking; its lease line
    /// comes when it does). Runs as a main-loop poller; the network's poller keeps the loop waking meanwhile.
    /// </summary>
    public sealed class FirstPrompt : IWorkItem
    {
        /// <summary>Longest wait for a DHCP lease before the prompt is printed anyway.</summary>
        public static Duration MaxWait => Duration.FromSeconds(10);

        private readonly CommandShell _shell;
        private readonly DhcpClient _dhcp;
        private readonly ITextOutput _output;
        private readonly Instant _deadline;
        private bool _started;

        /// <param name="dhcp">null when the address does not come from DHCP</param>
        public FirstPrompt(CommandShell shell, DhcpClient dhcp, ITextOutput output, Instant now)
        {
            _shell = shell;
            _dhcp = dhcp;
            _output = output;
            _deadline = now + MaxWait;
        }

        public void Run()
        {
            if (_started)
            {
                return;
            }
            if ((object)_dhcp != null && !_dhcp.HasLease)
            {
                if (Instant.Now(Kernel.Clock) < _deadline)
                {
                    return;
                }
                _output.Write("dhcp: no lease yet, still asking ('net' shows the state)\n");
            }
            _started = true;
            _shell.Start();
        }
    }
}
