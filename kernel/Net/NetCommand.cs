using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Net
{
    /// <summary><c>net</c>: address, ARP cache, sockets and protocol counters of the IPv4 stack.</summary>
    public sealed class NetCommand : IShellCommand
    {
        public string Name => "net";

        public string Help => "IPv4 address, ARP cache, sockets, TCP/UDP/IP counters, DHCP lease, DNS servers";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            NetworkSubsystem.Stack.PrintStatus(output);
            if ((object)NetworkSubsystem.Dhcp != null)
            {
                NetworkSubsystem.Dhcp.PrintStatus(output);
            }
            if ((object)NetworkSubsystem.Resolver != null)
            {
                NetworkSubsystem.Resolver.PrintStatus(output);
            }
        }
    }
}
