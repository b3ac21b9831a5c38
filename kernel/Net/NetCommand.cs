using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Net
{
    /// <summary><c>net</c>: addresses, ARP and neighbor caches, IPv6 routers and prefixes, sockets and protocol counters.</summary>
    public sealed class NetCommand : IShellCommand
    {
        public string Name => "net";

        public string Help => "IPv4/IPv6 addresses, ARP and neighbor caches, IPv6 routers and prefixes, sockets, counters, DHCP lease, DNS servers";

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
