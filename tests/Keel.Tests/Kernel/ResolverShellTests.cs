using Keel.Kernel.Net;
using Keel.Kernel.Shell;
using Keel.Net;
using Keel.Net.Dns;
using Keel.Tests.Net.Ipv6;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// The shell's <c>resolve</c> (A then AAAA answers) against <see cref="FakeDnsServer"/>, and
    /// <see cref="AddressServices"/> keeping the resolver's servers current from router advertisements' RDNSS
    /// option (RFC 8106) unless <c>dns=</c> named one.
    /// </summary>
    public class ResolverShellTests
    {
        private static readonly IPv6Address Rdnss1 = new IPv6Address(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x53);
        private static readonly IPv6Address Rdnss2 = new IPv6Address(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x54);

        private static ShellArguments Arguments(string line)
        {
            ShellArguments arguments = new ShellArguments();
            char[] chars = line.ToCharArray();
            arguments.Parse(chars, chars.Length);
            return arguments;
        }

        private static string Run(NetPair pair, DnsResolver resolver, FakeDnsServer server, string line, TextCapture console)
        {
            TextCapture output = new TextCapture();
            new ResolveCommand(resolver, console).Execute(Arguments(line), output);
            for (int i = 0; i < 20000 && resolver.FreeQueries < 1; i++)
            {
                pair.Step();
                resolver.Poll();
                server.Poll();
            }
            return output.Text;
        }

        [Test]
        public void ResolvePrintsTheAAnswerThenTheAaaaAnswer()
        {
            NetPair pair = new NetPair();
            pair.StepMicroseconds = 1000;
            FakeDnsServer server = new FakeDnsServer(pair.A);
            server.Zone["www.keel.test"] = ("A", "198.18.0.80", 300);
            server.Zone6["www.keel.test"] = ("2001:db8::80", 600);
            server.Zone["v4.keel.test"] = ("A", "198.18.0.81", 300);
            // One query slot, as in a small-memory kernel: the AAAA lookup waits for the A lookup to end.
            DnsResolver resolver = new DnsResolver(pair.B, 1, 4);
            resolver.AddServer(NetPair.AddressA);
            TextCapture console = new TextCapture();
            string shown = Run(pair, resolver, server, "resolve www.keel.test", console);
            Assert.That(shown, Is.EqualTo("resolve: asking 198.18.0.1\n"));
            Assert.That(console.Text, Is.EqualTo("resolve www.keel.test: 198.18.0.80 ttl 300 s\n" +
                                                  "resolve www.keel.test: 2001:db8::80 ttl 600 s\n"));
            Assert.That(server.UdpQueries, Is.EqualTo(2));
            // From the cache both answers are printed at once.
            console = new TextCapture();
            shown = Run(pair, resolver, server, "resolve WWW.keel.test", console);
            Assert.That(shown, Does.Match(@"^resolve www\.keel\.test: 198\.18\.0\.80 ttl (300|29\d) s, cached\n" +
                                          @"resolve www\.keel\.test: 2001:db8::80 ttl (600|59\d) s, cached\n$"));
            Assert.That(console.Text, Is.Empty);
            console = new TextCapture();
            Run(pair, resolver, server, "resolve v4.keel.test", console);
            Assert.That(console.Text, Is.EqualTo("resolve v4.keel.test: 198.18.0.81 ttl 300 s\n" +
                                                  "resolve v4.keel.test: failed, no AAAA record\n"));
            console = new TextCapture();
            Run(pair, resolver, server, "resolve nothere.keel.test", console);
            Assert.That(console.Text, Is.EqualTo("resolve nothere.keel.test: failed, name does not exist\n"),
                "a name that does not exist is not asked for again");
            Assert.That(resolver.FreeQueries, Is.EqualTo(1));
        }

        [Test]
        public void AdvertisedDnsServersFollowTheRouterAdvertisements()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            DnsResolver resolver = new DnsResolver(t.Stack);
            AddressServices services = new AddressServices(t.Stack, null, resolver, IPAddress.Any);
            Assert.That(resolver.ServerCount, Is.EqualTo(0));
            t.Inject(Advertisement(600, Rdnss1, Rdnss2));
            services.Poll();
            Assert.That(resolver.ServerCount, Is.EqualTo(2));
            Assert.That(resolver.Server(0), Is.EqualTo((IPAddress)Rdnss1));
            Assert.That(resolver.Server(1), Is.EqualTo((IPAddress)Rdnss2));
            // RFC 8106 5.1: lifetime 0 removes the servers.
            t.Inject(Advertisement(0, Rdnss1, Rdnss2));
            services.Poll();
            Assert.That(resolver.ServerCount, Is.EqualTo(0));
        }

        [Test]
        public void ServerFromTheCommandLineReplacesTheAdvertisedOnes()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            DnsResolver resolver = new DnsResolver(t.Stack);
            IPv6Address configured = new IPv6Address(0x2001, 0xdb8, 9, 0, 0, 0, 0, 0x53);
            AddressServices services = new AddressServices(t.Stack, null, resolver, configured);
            Assert.That(resolver.ServerCount, Is.EqualTo(1));
            t.Inject(Advertisement(600, Rdnss1));
            services.Poll();
            Assert.That(resolver.ServerCount, Is.EqualTo(1));
            Assert.That(resolver.Server(0), Is.EqualTo((IPAddress)configured));
        }

        /// <summary>
        /// <c>ping6</c> sends RFC 4443 4.1 echo requests (type 128, code 0, identifier, sequence 1..N, 56 data bytes)
        /// one interval apart (1 s by default, as ping), prints the replies with the run's identifier as they come,
        /// and a summary one interval after the last request.
        /// </summary>
        [Test]
        public void Ping6SendsEchoRequestsOneIntervalApartAndPrintsTheReplies()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            TextCapture console = new TextCapture();
            Ping6Command ping = new Ping6Command(t.Stack, t.S.Clock, console);
            TextCapture output = new TextCapture();
            ping.Execute(Arguments("ping6 fe80::1 2"), output);
            Assert.That(output.Text, Is.EqualTo("ping6: fe80::1, 2 requests, 1000 ms apart\n"));
            System.Collections.Generic.List<byte[]> requests = Frames.OfIcmpv6Type(t.TakeSent(), 128);
            Assert.That(requests.Count, Is.EqualTo(1), "the first request at once");
            t.S.Clock.AdvanceMilliseconds(999);
            ping.Poll();
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 128), Is.Empty, "not before the interval");
            t.S.Clock.AdvanceMilliseconds(1);
            ping.Poll();
            requests = Frames.OfIcmpv6Type(t.TakeSent(), 128);
            Assert.That(requests.Count, Is.EqualTo(1), "the second a second later");
            Assert.That(ping.NextWake, Is.EqualTo(Keel.Hal.Instant.FromNanoseconds(t.S.Clock.NowNanoseconds) + Keel.Hal.Duration.FromSeconds(1)),
                "the summary a second after the last");
            int icmp = Frames.IcmpOffset(requests[0]);
            Assert.That(requests[0][icmp + 1], Is.EqualTo(0), "code 0");
            Assert.That(requests[0][(icmp + 6)..(icmp + 8)], Is.EqualTo(new byte[] { 0, 2 }), "sequence 2");
            Assert.That(requests[0].Length - icmp - 8, Is.EqualTo(Ping6Command.DataLength));
            Assert.That(Frames.Icmpv6ChecksumValid(requests[0]), Is.True);
            Assert.That(Frames.Ip6Text(requests[0], 14 + 24), Is.EqualTo("fe80::1"), "to the address asked");
            int identifier = requests[0][icmp + 4] << 8 | requests[0][icmp + 5];
            t.S.Clock.AdvanceMilliseconds(3);
            t.Inject(Frames.Icmpv6(129, 0, Frames.EchoBody(identifier, 2, 56), Frames.Ip6("fe80::1"), t.LinkLocal, 64));
            t.Inject(Frames.Icmpv6(129, 0, Frames.EchoBody(identifier ^ 1, 1, 56), Frames.Ip6("fe80::1"), t.LinkLocal, 64));
            Assert.That(console.Text, Is.EqualTo("ping6: reply from fe80::1 seq 2 bytes 56 time 3000 us\n"), "another run's reply is not shown");
            t.S.Clock.AdvanceMilliseconds(1000);
            ping.Poll();
            Assert.That(console.Text, Does.EndWith("ping6: fe80::1: 2 sent, 1 received\n"));
            Assert.That(ping.NextWake, Is.EqualTo(Keel.Hal.Instant.MaxValue), "the run is over");

            output = new TextCapture();
            ping.Execute(Arguments("ping6 198.18.0.1"), output);
            Assert.That(output.Text, Is.EqualTo("ping6: not an IPv6 address\n"));
        }

        [TestCase("ping6 -c 3 -i 0.2 fe80::1", 3, 200)]
        [TestCase("ping6 -i 2 fe80::1 -c 2", 2, 2000)]
        [TestCase("ping6 -c 1 fe80::1", 1, 1000)]
        public void Ping6TakesCountAndIntervalAsPing(string line, int count, int milliseconds)
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            Ping6Command ping = new Ping6Command(t.Stack, t.S.Clock, new TextCapture());
            TextCapture output = new TextCapture();
            ping.Execute(Arguments(line), output);
            Assert.That(output.Text, Does.Contain(", " + milliseconds + " ms apart"));
            int sent = Frames.OfIcmpv6Type(t.TakeSent(), 128).Count;
            for (int i = 0; i < 10 * count; i++)
            {
                t.S.Clock.AdvanceMilliseconds(milliseconds / 2);
                ping.Poll();
                sent += Frames.OfIcmpv6Type(t.TakeSent(), 128).Count;
            }
            Assert.That(sent, Is.EqualTo(count));
        }

        [TestCase("ping6 -i 0.001 fe80::1")]
        [TestCase("ping6 -i 61 fe80::1")]
        [TestCase("ping6 -i x fe80::1")]
        [TestCase("ping6 -c 0 fe80::1")]
        [TestCase("ping6 -c 1001 fe80::1")]
        [TestCase("ping6 -c")]
        public void Ping6RefusesBadOptions(string line)
        {
            Ipv6TestStack t = new Ipv6TestStack();
            TextCapture output = new TextCapture();
            new Ping6Command(t.Stack, t.S.Clock, new TextCapture()).Execute(Arguments(line), output);
            Assert.That(output.Text, Does.StartWith("usage: ping6"));
        }

        /// <summary>An address is its own answer, printed in its standard form (RFC 5952 for IPv6), with no query sent.</summary>
        [TestCase("198.18.0.1", "198.18.0.1")]
        [TestCase("2001:DB8:0:0:0:0:0:1", "2001:db8::1")]
        [TestCase("fe80::1", "fe80::1")]
        [TestCase("::ffff:198.18.0.1", "::ffff:198.18.0.1")]
        public void ResolveTakesAddressLiterals(string literal, string printed)
        {
            TextCapture output = new TextCapture();
            new ResolveCommand(null, new TextCapture()).Execute(Arguments("resolve " + literal), output);
            Assert.That(output.Text, Is.EqualTo("resolve " + literal + ": " + printed + ", an address (no lookup)\n"));
        }

        private static byte[] Advertisement(uint lifetime, params IPv6Address[] servers)
        {
            byte[][] addresses = new byte[servers.Length][];
            for (int i = 0; i < servers.Length; i++)
            {
                addresses[i] = Ipv6TestStack.Bytes(servers[i]);
            }
            return Frames.Icmpv6(134, 0, Frames.RouterAdvertisementBody(64, 1800, 0, 0, Frames.RdnssOption(lifetime, addresses)),
                Frames.Ip6("fe80::1"), Frames.AllNodes, 255, Frames.MulticastMac(Frames.AllNodes));
        }
    }
}
