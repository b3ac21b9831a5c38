using Keel.Hal;

namespace Keel.Net.Dhcp
{
    /// <summary>What the DHCP client prints: the lease line at boot and the <c>net</c> command's section.</summary>
    public sealed partial class DhcpClient
    {
        /// <summary>One line: "dhcp: lease 10.0.2.15/24 router 10.0.2.2 dns 10.0.2.3 mtu 1500 server 10.0.2.2 for 86400 s".</summary>
        public void PrintLease(ITextOutput output)
        {
            if (output == null)
            {
                return;
            }
            output.Write("dhcp: lease ");
            Address.WriteTo(output);
            output.Write('/');
            output.Write((long)PrefixLength);
            output.Write(" router ");
            Router.WriteTo(output);
            output.Write(" dns");
            if (DnsServerCount == 0)
            {
                output.Write(" none");
            }
            for (int i = 0; i < DnsServerCount; i++)
            {
                output.Write(' ');
                DnsServer(i).WriteTo(output);
            }
            output.Write(" mtu ");
            output.Write((long)_stack.Mtu);
            output.Write(" server ");
            Server.WriteTo(output);
            output.Write(" for ");
            output.Write((long)_lease.LeaseSeconds);
            output.Write(" s");
            output.WriteLine();
        }

        /// <summary>What <c>net</c> shows: state, lease, and when it is renewed and expires.</summary>
        public void PrintStatus(ITextOutput output)
        {
            Instant now = Now;
            output.Write("dhcp: ");
            output.Write(StateName(_state));
            if (HasLease)
            {
                output.Write(", lease ");
                Address.WriteTo(output);
                output.Write(" from ");
                Server.WriteTo(output);
                if (_expiry == Instant.MaxValue)
                {
                    output.Write(", infinite");
                }
                else
                {
                    output.Write(", expires in ");
                    output.Write((_expiry - now).Seconds);
                    output.Write(" s (renew in ");
                    output.Write(_t1 > now ? (_t1 - now).Seconds : 0);
                    output.Write(" s, rebind in ");
                    output.Write(_t2 > now ? (_t2 - now).Seconds : 0);
                    output.Write(" s)");
                }
            }
            output.WriteLine();
            if (HasLease)
            {
                PrintLease(output);
            }
            output.Write("dhcp counters:");
            for (int i = 0; i < DhcpStatistics.Count; i++)
            {
                if (Counters[i] != 0)
                {
                    output.Write(' ');
                    output.Write(DhcpStatistics.Name(i));
                    output.Write(' ');
                    output.Write(Counters[i]);
                }
            }
            output.WriteLine();
        }

        public static string StateName(DhcpState state)
        {
            switch (state)
            {
                case DhcpState.Init: return "init";
                case DhcpState.Selecting: return "selecting";
                case DhcpState.Requesting: return "requesting";
                case DhcpState.Probing: return "probing";
                case DhcpState.Bound: return "bound";
                case DhcpState.Renewing: return "renewing";
                case DhcpState.Rebinding: return "rebinding";
                default: return "stopped";
            }
        }
    }
}
