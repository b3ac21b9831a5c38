using System;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>One Keel guest on QEMU's user network with TCP and UDP port 5201 forwarded from a free port of 127.0.0.1.</summary>
    public abstract class UserNetworkFixture
    {
        private QemuGuest _guest;
        private int _port;

        /// <summary>QEMU -netdev user options besides hostfwd.</summary>
        protected abstract string Options { get; }

        [OneTimeSetUp]
        public void Boot()
        {
            _port = FreePort();
            string net = "user," + Options + ",hostfwd=tcp:127.0.0.1:" + _port + "-:5201,hostfwd=udp:127.0.0.1:" + _port + "-:5201";
            _guest = new QemuGuest(new[] { "-m", "256M", "--net", net }, null, 900);
            _guest.WaitFor("^keel> ", 60);
            _guest.WaitFor("dhcp: lease 10\\.0\\.2\\.15/24", 90);
        }

        [OneTimeTearDown]
        public void Stop() => _guest?.Dispose();

        protected QemuGuest Guest => _guest;

        /// <summary>A port free on 127.0.0.1 for both TCP and UDP (QEMU binds both for hostfwd).</summary>
        internal static int FreePort()
        {
            for (int attempt = 0; attempt < 50; attempt++)
            {
                TcpListener tcp = new TcpListener(IPAddress.Loopback, 0);
                tcp.Start();
                int port = ((IPEndPoint)tcp.LocalEndpoint).Port;
                try
                {
                    using UdpClient udp = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                    return port;
                }
                catch (SocketException)
                {
                }
                finally
                {
                    tcp.Stop();
                }
            }
            throw new System.InvalidOperationException("no free port on 127.0.0.1");
        }

        /// <summary>Sends a line to 127.0.0.1:<paramref name="port"/> and asserts it comes back (the guest's TCP echo behind a hostfwd).</summary>
        internal static void AssertEchoes(int port, string line, QemuGuest guest)
        {
            using TcpClient client = new TcpClient("127.0.0.1", port);
            NetworkStream stream = client.GetStream();
            stream.ReadTimeout = 30000;
            byte[] sent = System.Text.Encoding.ASCII.GetBytes(line);
            stream.Write(sent);
            byte[] back = new byte[sent.Length];
            int read = 0;
            while (read < back.Length)
            {
                int n = stream.Read(back, read, back.Length - read);
                Assert.That(n, Is.GreaterThan(0), "the echo closed early; guest:\n" + guest.Output);
                read += n;
            }
            Assert.That(System.Text.Encoding.ASCII.GetString(back), Is.EqualTo(line), guest.Output);
        }

        /// <summary>
        /// Waits for a SLAAC address in <paramref name="prefix"/>/64 (text ending in "::") from QEMU's router advertisements, checks
        /// <c>net</c> shows the router and the prefix, and that <c>ping6</c> reaches QEMU's router (::2) and DNS (::3).
        /// </summary>
        protected void AssertIpv6(string prefix)
        {
            string net = "";
            Match global = Match.Empty;
            // RFC 5952 text: the prefix's zero groups are "::" only when the identifier leaves a run of two or more.
            string stem = Regex.Escape(prefix.Substring(0, prefix.Length - 2));
            string pattern = @"^\s+(" + stem + @"(::|(:0)+:)[0-9a-f:]+)/64\s+slaac preferred\s+preferred in \d+ s\s+valid in \d+ s";
            for (DateTime deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline && !global.Success; System.Threading.Thread.Sleep(1000))
            {
                net = _guest.Command("net");
                global = Regex.Match(net, pattern, RegexOptions.Multiline);
            }
            Assert.That(global.Success, Is.True, net);
            Assert.That(net, Does.Match(@"ipv6 routers:\s+fe80::[0-9a-f:]+ expires in \d+ s"), net);
            Assert.That(net, Does.Contain(prefix + "/64 expires in"), net);
            TestContext.Out.WriteLine(net);
            foreach (string address in new[] { prefix + "2", prefix + "3" })
            {
                AssertPing6(address);
            }
        }

        /// <summary>Runs <c>ping6</c> until a reply from <paramref name="address"/> is printed (the first requests may wait for Neighbor Discovery).</summary>
        private void AssertPing6(string address)
        {
            for (int attempt = 0; attempt < 5; attempt++)
            {
                int before = _guest.Output.Length;
                _guest.Command("ping6 " + address + " 2");
                for (int wait = 0; wait < 20; wait++)
                {
                    int at = _guest.Output.IndexOf("ping6: reply from " + address + " seq ", before, StringComparison.Ordinal);
                    if (at >= 0)
                    {
                        string output = _guest.Output;
                        int end = output.IndexOf('\n', at);
                        TestContext.Out.WriteLine(output.Substring(at, (end < 0 ? output.Length : end) - at));
                        return;
                    }
                    System.Threading.Thread.Sleep(100);
                }
            }
            Assert.Fail("no ping6 reply from " + address + "; guest:\n" + _guest.Output);
        }

        protected void Iperf(params string[] options)
        {
            string[] arguments = new string[options.Length + 5];
            arguments[0] = "-c";
            arguments[1] = "127.0.0.1";
            arguments[2] = "-p";
            arguments[3] = _port.ToString();
            arguments[4] = "--json";
            System.Array.Copy(options, 0, arguments, 5, options.Length);
            (int status, string output) = NetworkNamespace.RunProcess(90, "iperf3", arguments);
            Assert.That(status, Is.EqualTo(0), "iperf3 " + string.Join(" ", options) + " failed:\n" + output + "\nguest:\n" + _guest.Output);
            using JsonDocument json = JsonDocument.Parse(output);
            JsonElement end = json.RootElement.GetProperty("end");
            bool udp = System.Array.IndexOf(options, "-u") >= 0;
            double bytes = udp ? end.GetProperty("sum").GetProperty("bytes").GetDouble()
                               : end.GetProperty("sum_received").GetProperty("bytes").GetDouble();
            TestContext.Out.WriteLine("iperf3 " + string.Join(" ", options) + " via 127.0.0.1:" + _port + ": " + bytes + " bytes");
            Assert.That(bytes, Is.GreaterThan(0), output);
        }
    }

    /// <summary>
    /// QEMU's user-mode network (slirp), as a hobby-OS developer runs it without root: no -append, so Keel
    /// takes its address from QEMU's built-in DHCP server (10.0.2.15), and the host's iperf3 reaches the guest
    /// through hostfwd on 127.0.0.1 in both directions. restrict=on: the guest can reach nothing outside QEMU.
    /// Needs no root.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class UserNetworkTests : UserNetworkFixture
    {
        protected override string Options => "restrict=on";

        [Test, Order(1)]
        public void LeaseFromQemusDhcpServerShowsInNet()
        {
            // The first prompt waits for the lease line (kernel/Shell/FirstPrompt.cs).
            Assert.That(Guest.Output.IndexOf("dhcp: lease 10.0.2.15/24", StringComparison.Ordinal),
                Is.LessThan(Guest.Output.IndexOf("keel> ", StringComparison.Ordinal)), Guest.Output);
            string net = Guest.Command("net");
            Assert.That(net, Does.Contain("address 10.0.2.15/24"), net);
            Assert.That(net, Does.Match("dhcp: bound, lease 10\\.0\\.2\\.15 from 10\\.0\\.2\\.2, expires in \\d+ s"), net);
        }

        [Test, Order(2)]
        public void Iperf3TcpThroughHostfwd() => Iperf("-t", "3");

        [Test, Order(3)]
        public void Iperf3TcpReverseThroughHostfwd() => Iperf("-t", "3", "-R");

        /// <summary>
        /// IPv6 on the user network: QEMU's router advertisements (prefix fec0::/64 by default, router fec0::2,
        /// DNS fec0::3) give the guest a SLAAC address, and the guest's <c>ping6</c> reaches QEMU's router and DNS
        /// addresses. QEMU 7.2's hostfwd takes no IPv6 address (its parser refuses "[::1]"), so the host cannot
        /// reach the guest over IPv6 here.
        /// </summary>
        [Test, Order(4)]
        public void Ipv6AddressFromQemusAdvertisementsAndPing6ToItsRouterAndDns() => AssertIpv6("fec0::");
    }

    /// <summary>
    /// iperf3 UDP through hostfwd. slirp's restrict=on drops every UDP datagram from the guest except DHCP and
    /// TFTP, the replies to a hostfwd'ed UDP flow included, so this guest runs unrestricted. Nothing leaves the
    /// machine all the same: Keel sends only DHCP, ARP, IPv6 Neighbor Discovery and MLD, echo requests to QEMU's
    /// own router and DNS addresses, and its replies, and the test resolves no name. QEMU advertises the IPv6
    /// prefix 2001:db8:7::/64 here (ipv6-prefix=), which the guest takes.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class UserNetworkUdpTests : UserNetworkFixture
    {
        protected override string Options => "restrict=off,ipv6-prefix=2001:db8:7::,ipv6-prefixlen=64";

        [Test, Order(5)]
        public void Iperf3UdpThroughHostfwd() => Iperf("-t", "3", "-u", "-b", "5M");

        /// <summary>The IPv6 prefix QEMU advertises follows its ipv6-prefix= option (here 2001:db8:7::/64).</summary>
        [Test, Order(6)]
        public void Ipv6AddressFromAConfiguredPrefix() => AssertIpv6("2001:db8:7::");
    }
}
