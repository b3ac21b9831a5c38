using Keel.Hal;
using Keel.Apps.Hosting;
using Keel.Net;
using Keel.Net.Dhcp;
using Keel.Net.Dns;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// The DHCP client (when the address comes from DHCP) and the DNS resolver, run by the
    /// <see cref="ApplicationHost"/> before the applications: polls both, hands the lease's DNS servers
    /// (option 6) to the resolver unless <c>dns=</c> named one, and tells the host their next deadlines.
    /// </summary>
    public sealed class AddressServices : INetworkApplication
    {
        private readonly DhcpClient _dhcp;
        private readonly DnsResolver _resolver;
        private readonly bool _fixedDns;
        private int _leaseVersion;

        /// <param name="dhcp">null with a static address</param>
        /// <param name="resolver">null when no DNS server can be known (static address, no dns=)</param>
        public AddressServices(DhcpClient dhcp, DnsResolver resolver, bool fixedDns)
        {
            _dhcp = dhcp;
            _resolver = resolver;
            _fixedDns = fixedDns;
        }

        public string Name => "dhcp+dns";

        public bool Start(IApplicationHost host)
        {
            return (object)_dhcp == null || _dhcp.Start();
        }

        public void Poll()
        {
            if ((object)_dhcp != null)
            {
                _dhcp.Poll();
                if (_dhcp.LeaseVersion != _leaseVersion)
                {
                    _leaseVersion = _dhcp.LeaseVersion;
                    if (!_fixedDns && (object)_resolver != null)
                    {
                        _resolver.ClearServers();
                        for (int i = 0; i < _dhcp.DnsServerCount; i++)
                        {
                            _resolver.AddServer(_dhcp.DnsServer(i));
                        }
                    }
                }
            }
            if ((object)_resolver != null)
            {
                _resolver.Poll();
            }
        }

        public Instant NextWake
        {
            get
            {
                Instant next = (object)_resolver != null ? _resolver.NextWake : Instant.MaxValue;
                if ((object)_dhcp != null)
                {
                    next = Instant.Min(next, _dhcp.NextWake);
                }
                return next;
            }
        }

        public void Stop()
        {
            if ((object)_dhcp != null)
            {
                _dhcp.Stop();
            }
        }
    }
}
