using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// Keel on a tap in a private namespace with dnsmasq serving DHCP and DNS for 198.18.0.0/24 (names only
    /// under keel.test, no upstream servers): Keel takes a lease, resolves names dnsmasq serves (a CNAME to a
    /// name with A and AAAA records: <c>resolve</c> prints both answers), and the host pings the leased address. Needs root (namespace).
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class DnsmasqTests
    {
        [Test]
        public void LeaseFromDnsmasqResolvesItsNamesAndAnswersPing()
        {
            using NetworkNamespace netns = new NetworkNamespace();
            string leases = Path.Combine(Path.GetTempPath(), netns.Name + ".leases");
            using Process dnsmasq = netns.Start("dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--user=root", "--group=root",
                "--interface=" + NetworkNamespace.Tap, "--bind-interfaces", "--except-interface=lo",
                "--dhcp-range=198.18.0.50,198.18.0.99,255.255.255.0,10m", "--dhcp-option=option:router,198.18.0.1",
                "--dhcp-option=option:dns-server,198.18.0.1", "--dhcp-leasefile=" + leases, "--no-ping",
                "--no-resolv", "--no-hosts", "--local=/keel.test/", "--host-record=server.keel.test,198.18.0.1,2001:db8::1",
                "--cname=alias.keel.test,server.keel.test", "--pid-file=");
            try
            {
                using QemuGuest guest = new QemuGuest(new[] { "-m", "256M", "--tap", NetworkNamespace.Tap, "--append", "ip=dhcp" }, netns.Name, 300);
                guest.WaitFor("^keel> ", 60);
                Match lease = guest.WaitFor("dhcp: lease (198\\.18\\.0\\.\\d+)/24 router 198\\.18\\.0\\.1 dns 198\\.18\\.0\\.1", 90);
                string address = lease.Groups[1].Value;
                Assert.That(int.Parse(address.Split('.')[3]), Is.InRange(50, 99), guest.Output);

                (int status, string ping) = netns.Exec(30, "ping", "-c", "3", "-W", "2", address);
                Assert.That(status, Is.EqualTo(0), ping + "\nguest:\n" + guest.Output);

                guest.Send("resolve alias.keel.test");
                guest.WaitFor("resolve alias\\.keel\\.test: 198\\.18\\.0\\.1 ttl \\d+ s, 1 cname", 30);
                guest.WaitFor("resolve alias\\.keel\\.test: 2001:db8::1 ttl \\d+ s, 1 cname", 30);
                guest.Send("resolve server.keel.test");
                guest.WaitFor("resolve server\\.keel\\.test: 198\\.18\\.0\\.1 ttl", 30);
                guest.WaitFor("resolve server\\.keel\\.test: 2001:db8::1 ttl", 30);
                guest.Send("resolve nothere.keel.test");
                guest.WaitFor("resolve nothere\\.keel\\.test: failed, name does not exist", 30);
                string net = guest.Command("net");
                Assert.That(net, Does.Contain("dhcp: bound, lease " + address + " from 198.18.0.1"), net);
                Assert.That(net, Does.Contain("dns: servers 198.18.0.1"), net);
                guest.Send("exit 0");
                Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
            }
            finally
            {
                if (!dnsmasq.HasExited)
                {
                    dnsmasq.Kill();
                }
                File.Delete(leases);
            }
        }

        /// <summary>
        /// DNS over IPv6: dnsmasq answers on the tap's IPv6 address (2001:db8:1::1, DNS only) and Keel, with a static
        /// ip6= and dns= naming that address, resolves a name's A and AAAA records through it. Until the stack carries
        /// UDP over IPv6 the resolver cannot open its socket (counted as send_failures): the test says so and is ignored.
        /// </summary>
        [Test]
        public void ResolvesThroughDnsmasqOverIpv6()
        {
            using NetworkNamespace netns = new NetworkNamespace(ipv6: true);
            using Process dnsmasq = netns.Start("dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--user=root", "--group=root",
                "--interface=" + NetworkNamespace.Tap, "--bind-interfaces", "--except-interface=lo", "--no-resolv", "--no-hosts",
                "--local=/keel.test/", "--host-record=server.keel.test,198.18.0.1,2001:db8::1", "--pid-file=");
            try
            {
                using QemuGuest guest = TapGuest.Boot(netns, "256M", 240, "ip6=2001:db8:1::2/64 dns=" + NetworkNamespace.HostAddress6);
                // The static address passes DAD first.
                for (int i = 0; i < 30 && !guest.Command("net").Contains("2001:db8:1::2/64  static preferred", System.StringComparison.Ordinal); i++)
                {
                    System.Threading.Thread.Sleep(1000);
                }
                int before = guest.Output.Length;
                guest.Send("resolve server.keel.test");
                Match answer = guest.WaitFor("resolve server\\.keel\\.test: (198\\.18\\.0\\.1 ttl|failed, [a-z ]+)", 40);
                string net = guest.Command("net");
                Assert.That(answer.Value, Does.Contain("198.18.0.1 ttl"), guest.Output.Substring(before) + "\n" + net);
                guest.WaitFor("resolve server\\.keel\\.test: 2001:db8::1 ttl", 30);
                guest.Send("exit 0");
                Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
            }
            finally
            {
                if (!dnsmasq.HasExited)
                {
                    dnsmasq.Kill();
                }
            }
        }
    }
}
