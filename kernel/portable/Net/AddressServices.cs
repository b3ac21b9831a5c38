using Keel.Apps.Hosting;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Dhcp;
using Keel.Net.Dns;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// The DHCP client (when the address comes from DHCP) and the DNS resolver, run by the
    /// <see cref="ApplicationHost"/> before the applications: polls both and keeps the resolver's servers current,
    /// and tells the host their next deadlines. The servers are the one <c>dns=</c> named, or else the lease's
    /// (DHCP option 6) followed by the IPv6 ones routers advertise (RDNSS, RFC 8106), rebuilt whenever the lease or
    /// the advertised set changes.
    /// </summary>
    public sealed class AddressServices : INetworkApplication
    {
        private readonly NetStack _stack;
        private readonly DhcpClient _dhcp;
        private readonly DnsResolver _resolver;
        private readonly IPAddress _fixedDns;
        private readonly IPv6Address[] _advertised;
        private int _leaseVersion;

        /// <param name="stack">the stack whose router advertisements name IPv6 DNS servers</param>
        /// <param name="dhcp">null with a static address</param>
        /// <param name="resolver">null when no DNS server can be known (static address, no dns=, no IPv6)</param>
        /// <param name="fixedDns">the server <c>dns=</c> named (0.0.0.0 for none): it replaces DHCP's and RDNSS's</param>
        public AddressServices(NetStack stack, DhcpClient dhcp, DnsResolver resolver, IPAddress fixedDns)
        {
            _stack = stack;
            _dhcp = dhcp;
            _resolver = resolver;
            _fixedDns = fixedDns;
            _advertised = new IPv6Address[stack.Ipv6DnsServerSlots];
            if ((object)resolver != null)
            {
                UpdateServers();
            }
        }

        public string Name => "dhcp+dns";

        public bool Start(IApplicationHost host)
        {
            return (object)_dhcp == null || _dhcp.Start();
        }

        public void Poll()
        {
            bool changed = false;
            if ((object)_dhcp != null)
            {
                _dhcp.Poll();
                if (_dhcp.LeaseVersion != _leaseVersion)
                {
                    _leaseVersion = _dhcp.LeaseVersion;
                    changed = true;
                }
            }
            for (int i = 0; i < _advertised.Length; i++)
            {
                IPv6Address server = _stack.Ipv6DnsServer(i);
                if (server != _advertised[i])
                {
                    _advertised[i] = server;
                    changed = true;
                }
            }
            if ((object)_resolver != null)
            {
                if (changed)
                {
                    UpdateServers();
                }
                _resolver.Poll();
            }
        }

        private void UpdateServers()
        {
            _resolver.ClearServers();
            if (!_fixedDns.IsAny)
            {
                _resolver.AddServer(_fixedDns);
                return;
            }
            if ((object)_dhcp != null)
            {
                for (int i = 0; i < _dhcp.DnsServerCount; i++)
                {
                    _resolver.AddServer(_dhcp.DnsServer(i));
                }
            }
            for (int i = 0; i < _advertised.Length; i++)
            {
                _resolver.AddServer(_advertised[i]);
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
