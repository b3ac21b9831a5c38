using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using System.Threading;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// Keel on a tap in a private namespace where radvd (started by the test, inside the namespace only) advertises
    /// 2001:db8:1::/64 with an RDNSS server: the guest makes its link-local address, takes a SLAAC address after
    /// DAD, and the host's <c>ping -6</c> reaches both; <c>net</c> shows the addresses with state and lifetimes,
    /// the router, the prefix, the DNS server and the neighbor cache; DAD finds an address the host holds. Needs
    /// root (namespace).
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class Ipv6Tests
    {
        private const string Prefix = "2001:db8:1::";

        [Test]
        public void SlaacFromRadvdAndPing6ToLinkLocalAndGlobal()
        {
            using NetworkNamespace netns = new NetworkNamespace(ipv6: true);
            string config = Path.Combine(Path.GetTempPath(), netns.Name + ".radvd.conf");
            string pid = Path.Combine(Path.GetTempPath(), netns.Name + ".radvd.pid");
            File.WriteAllText(config,
                "interface " + NetworkNamespace.Tap + " {\n" +
                "  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  MaxRtrAdvInterval 10;\n  AdvDefaultLifetime 1800;\n" +
                "  prefix " + Prefix + "/64 { AdvOnLink on; AdvAutonomous on; AdvValidLifetime 86400; AdvPreferredLifetime 14400; };\n" +
                "  RDNSS " + Prefix + "53 { AdvRDNSSLifetime 600; };\n" +
                "};\n");
            netns.Exec(10, "sysctl", "-q", "-w", "net.ipv6.conf.all.forwarding=1");
            using Process radvd = netns.Start("radvd", "--nodaemon", "--config", config, "--pidfile", pid, "--logmethod", "stderr");
            try
            {
                using QemuGuest guest = TapGuest.Boot(netns, "256M", 240);
                string net = WaitForNet(guest, "slaac preferred", 60);
                Match linkLocal = Regex.Match(net, @"^\s+(fe80::[0-9a-f:]+)/64\s+link-local preferred", RegexOptions.Multiline);
                Match global = Regex.Match(net, @"^\s+(2001:db8:1:0?:[0-9a-f:]+)/64\s+slaac preferred\s+preferred in \d+ s\s+valid in \d+ s", RegexOptions.Multiline);
                Assert.That(linkLocal.Success, Is.True, net);
                Assert.That(global.Success, Is.True, net);
                string guestLinkLocal = linkLocal.Groups[1].Value;
                string guestGlobal = global.Groups[1].Value;
                // RFC 7217 identifiers are not the MAC's EUI-64 (QEMU's 52:54:00:12:34:56 would give 5054:ff:fe12:3456).
                Assert.That(guestLinkLocal, Does.Not.Contain("ff:fe12:3456"), net);

                (int status, string ping) = netns.Exec(30, "ping", "-6", "-c", "3", "-W", "2", guestLinkLocal + "%" + NetworkNamespace.Tap);
                Assert.That(status, Is.EqualTo(0), ping + "\nguest:\n" + guest.Output);
                (status, ping) = netns.Exec(30, "ping", "-6", "-c", "3", "-W", "2", guestGlobal);
                Assert.That(status, Is.EqualTo(0), ping + "\nguest:\n" + guest.Output);
                // A datagram bigger than the MTU: the host fragments the request, the guest reassembles it and fragments its reply.
                (status, ping) = netns.Exec(30, "ping", "-6", "-c", "2", "-W", "2", "-s", "3000", guestGlobal);
                Assert.That(status, Is.EqualTo(0), ping + "\nguest:\n" + guest.Output);
                // IPv4 still works beside it.
                Assert.That(netns.WaitForPing(10), Is.True);

                net = guest.Command("net");
                Assert.That(net, Does.Match(@"ipv6 routers:\s+fe80::[0-9a-f:]+ expires in \d+ s"), net);
                Assert.That(net, Does.Contain(Prefix + "/64 expires in"), net);
                Assert.That(net, Does.Contain(Prefix + "53 expires in"), net);
                Assert.That(net, Does.Match(@"dns: servers [^\n]*\b" + Prefix + @"53\b"), "the RDNSS server is the resolver's:\n" + net);
                Assert.That(net, Does.Match(@"ipv6 neighbors:[\s\S]*fe80::[0-9a-f:]+\s+[0-9a-f:]{17}\s+(REACHABLE|STALE|DELAY|PROBE) router"), net);
                Assert.That(net, Does.Contain("ff02::1:ff"), "solicited-node groups joined:\n" + net);
                TestContext.Out.WriteLine(net);
                guest.Send("exit 0");
                Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
            }
            finally
            {
                if (!radvd.HasExited)
                {
                    radvd.Kill();
                }
                File.Delete(config);
                File.Delete(pid);
            }
        }

        /// <summary>
        /// A static <c>ip6=</c> that the host already uses: the host answers the guest's DAD probe, the address stays
        /// duplicate and unused, while the link-local one passes and answers <c>ping -6</c>.
        /// </summary>
        [Test]
        public void DadFindsTheHostsAddressTaken()
        {
            using NetworkNamespace netns = new NetworkNamespace(ipv6: true);
            using QemuGuest guest = TapGuest.Boot(netns, "256M", 240, "ip6=" + NetworkNamespace.HostAddress6 + "/64");
            WaitForNet(guest, "static duplicate", 30);
            string net = WaitForNet(guest, "link-local preferred", 30);
            Assert.That(net, Does.Contain("  " + NetworkNamespace.HostAddress6 + "/64  static duplicate"), net);
            Assert.That(net, Does.Match(@"dad_failed 1\b"), net);
            Match linkLocal = Regex.Match(net, @"^\s+(fe80::[0-9a-f:]+)/64\s+link-local preferred", RegexOptions.Multiline);
            Assert.That(linkLocal.Success, Is.True, net);
            (int status, string ping) = netns.Exec(30, "ping", "-6", "-c", "2", "-W", "2", linkLocal.Groups[1].Value + "%" + NetworkNamespace.Tap);
            Assert.That(status, Is.EqualTo(0), ping + "\nguest:\n" + guest.Output);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        /// <summary>
        /// TCP and UDP over IPv6 to the guest's global address (a static <c>ip6=</c> on the host's prefix): the host's
        /// <c>iperf3 -6</c> both ways, with four streams and over UDP; the echo server answers over IPv6 and IPv4
        /// (one dual-stack listener); the driver accepted HOST_TSO6 and GUEST_TSO6 (<c>info virtio-status</c>).
        /// </summary>
        [Test]
        public void Iperf3AndEchoOverIpv6WithTso6()
        {
            const string GuestAddress6 = "2001:db8:1::2";
            using NetworkNamespace netns = new NetworkNamespace(ipv6: true);
            using QemuMonitor monitor = new QemuMonitor();
            List<string> arguments = new List<string>
            {
                "-m", "256M", "--tap", NetworkNamespace.Tap, "--net-opt", "id=nic0", "--append", "ip=198.18.0.2/24 ip6=" + GuestAddress6 + "/64", "--",
            };
            arguments.AddRange(monitor.QemuArguments);
            using QemuGuest guest = new QemuGuest(arguments, netns.Name, 240);
            guest.WaitFor("^keel> ", 60);
            WaitForNet(guest, "static preferred", 30);
            (int status, string output) = netns.Exec(30, "ping", "-6", "-c", "2", "-W", "2", GuestAddress6);
            Assert.That(status, Is.EqualTo(0), output + "\nguest:\n" + guest.Output);

            string[][] runs =
            {
                new[] { "-6", "-c", GuestAddress6, "-t", "2" },
                new[] { "-6", "-c", GuestAddress6, "-t", "2", "-R" },
                new[] { "-6", "-c", GuestAddress6, "-t", "2", "-P", "4" },
                new[] { "-6", "-c", GuestAddress6, "-t", "2", "-u", "-b", "20M" },
            };
            foreach (string[] run in runs)
            {
                (status, output) = netns.Exec(40, "iperf3", run);
                Assert.That(status, Is.EqualTo(0), "iperf3 " + string.Join(' ', run) + ": " + output + "\nguest:\n" + guest.Output);
                Assert.That(output, Does.Contain("receiver"), output);
                TestContext.Out.WriteLine(output);
            }

            // The echo server's one listener (bound to ::) answers both families.
            const string Echo = "import socket,sys\ns=socket.create_connection((sys.argv[1],7),5)\ns.sendall(b'keel over ipv6')\n" +
                                "d=b''\nwhile len(d)<14:\n  c=s.recv(64)\n  if not c: break\n  d+=c\nprint(d.decode())";
            foreach (string address in new[] { GuestAddress6, NetworkNamespace.GuestAddress })
            {
                (status, output) = netns.Exec(20, "python3", "-c", Echo, address);
                Assert.That(status, Is.EqualTo(0), "echo to " + address + ": " + output + "\nguest:\n" + guest.Output);
                Assert.That(output, Does.Contain("keel over ipv6"), output);
            }

            string features = monitor.Command("info virtio-status /machine/peripheral/nic0/virtio-backend");
            string guestFeatures = Regex.Match(features, "Guest features:(.*?)Host features:", RegexOptions.Singleline).Groups[1].Value;
            Assert.That(guestFeatures, Does.Contain("VIRTIO_NET_F_HOST_TSO6"), features);
            Assert.That(guestFeatures, Does.Contain("VIRTIO_NET_F_GUEST_TSO6"), features);
            string net = guest.Command("net");
            TestContext.Out.WriteLine(net);
            Assert.That(net, Does.Match(@"tcp_tso_segments [1-9]"), "segments cut by the device:\n" + net);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        /// <summary>Runs <c>net</c> until its output contains <paramref name="text"/>; returns that output.</summary>
        private static string WaitForNet(QemuGuest guest, string text, int timeoutSeconds)
        {
            DateTime deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
            string net = "";
            while (DateTime.UtcNow < deadline)
            {
                net = guest.Command("net");
                if (net.Contains(text, StringComparison.Ordinal))
                {
                    return net;
                }
                Thread.Sleep(1000);
            }
            Assert.Fail("'" + text + "' never appeared in net; last:\n" + net + "\nguest:\n" + guest.Output);
            return net;
        }
    }
}
