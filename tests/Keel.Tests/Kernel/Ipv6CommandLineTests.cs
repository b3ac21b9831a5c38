using System.Text;
using Keel.Kernel.Config;
using Keel.Net;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary><c>ip6=</c>, <c>gw6=</c>, <c>ipv6=</c> on the kernel command line and the IPv6 text forms of RFC 4291 section 2.2.</summary>
    public class Ipv6CommandLineTests
    {
        private static KernelCommandLine Parse(string text) => KernelCommandLine.Parse(Encoding.ASCII.GetBytes(text));

        private static IPv6Address Address(string text) => IPv6Address.Read(System.Net.IPAddress.Parse(text).GetAddressBytes());

        [TestCase("2001:db8:0:0:8:800:200c:417a", "2001:db8::8:800:200c:417a")]
        [TestCase("2001:DB8::8:800:200C:417A", "2001:db8::8:800:200c:417a")]
        [TestCase("ff01::101", "ff01::101")]
        [TestCase("::1", "::1")]
        [TestCase("::", "::")]
        [TestCase("fe80::", "fe80::")]
        [TestCase("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8")]
        [TestCase("1::8", "1::8")]
        [TestCase("0:0:0:0:0:0:13.1.68.3", "::d01:4403")]
        [TestCase("::FFFF:129.144.52.38", "::ffff:129.144.52.38")]
        [TestCase("::ffff:198.18.0.1", "::ffff:198.18.0.1")]
        [TestCase("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304")]
        public void RfcTextFormsParse(string text, string canonical)
        {
            IPv6Address address;
            Assert.That(Ipv6Text.TryParseAddress(Encoding.ASCII.GetBytes(text), out address), Is.True);
            Assert.That(address == Address(canonical), Is.True);
        }

        [TestCase("")]
        [TestCase(":")]
        [TestCase(":::")]
        [TestCase("1::2::3")]
        [TestCase("1:2:3:4:5:6:7")]
        [TestCase("1:2:3:4:5:6:7:8:9")]
        [TestCase("1:2:3:4:5:6:7:8::")]
        [TestCase("12345::")]
        [TestCase("g::1")]
        [TestCase("::ffff:1.2.3")]
        [TestCase("::ffff:256.1.1.1")]
        [TestCase("1:2:3:4:5:6:7:1.2.3.4")]
        [TestCase("::1.2.3.4:5")]
        [TestCase("1.2.3.4")]
        [TestCase("1:")]
        [TestCase(":1")]
        [TestCase("198.18.0.2")]
        public void MalformedAddressesAreRefused(string text)
        {
            IPv6Address address;
            Assert.That(Ipv6Text.TryParseAddress(Encoding.ASCII.GetBytes(text), out address), Is.False);
        }

        [Test]
        public void DnsServerOfEitherFamilyIsParsed()
        {
            KernelCommandLine c = Parse("dns=2001:db8::53");
            Assert.That(c.IssueCount, Is.EqualTo(0));
            Assert.That(c.DnsServer6 == Address("2001:db8::53"), Is.True);
            Assert.That(c.DnsServer, Is.EqualTo(0u));
            Assert.That(c.HasDnsServer, Is.True);
            c = Parse("dns=2001:db8::53 dns=198.18.0.1");
            Assert.That(c.DnsServer, Is.EqualTo(0xC6120001u), "the last one wins");
            Assert.That(c.DnsServer6.IsAny, Is.True);
            foreach (string bad in new[] { "dns=ff02::1", "dns=::", "dns=2001:db8::1::2" })
            {
                c = Parse(bad);
                Assert.That(c.IssueCount, Is.EqualTo(1), bad);
                Assert.That(c.HasDnsServer, Is.False, bad);
            }
            Assert.That(Parse("ip=198.18.0.2/24").HasDnsServer, Is.False);
        }

        [Test]
        public void StaticAddressAndGatewayAreParsed()
        {
            KernelCommandLine c = Parse("ip=198.18.0.2/24 ip6=2001:db8:5::10/48 gw6=fe80::1");
            Assert.That(c.IssueCount, Is.EqualTo(0));
            Assert.That(c.Ipv6Address == Address("2001:db8:5::10"), Is.True);
            Assert.That(c.Ipv6PrefixLength, Is.EqualTo(48));
            Assert.That(c.Ipv6Gateway == Address("fe80::1"), Is.True);
            Assert.That(c.Ipv6Enabled, Is.True);
            TextCapture output = new TextCapture();
            c.PrintSettings(output);
            Assert.That(output.Text, Does.Contain(" ip6=2001:db8:5::10/48 gw6=fe80::1 "));
        }

        [Test]
        public void DefaultsAndIpv6Off()
        {
            KernelCommandLine c = Parse("");
            Assert.That(c.Ipv6Enabled, Is.True);
            Assert.That(c.Ipv6Address.IsAny, Is.True);
            Assert.That(c.Ipv6PrefixLength, Is.EqualTo(64));
            Assert.That(Parse("ip6=2001:db8::7").Ipv6PrefixLength, Is.EqualTo(64));
            Assert.That(Parse("ipv6=off").Ipv6Enabled, Is.False);
        }

        [TestCase("ip6=2001:db8::1/129")]
        [TestCase("ip6=ff02::1")]
        [TestCase("ip6=::")]
        [TestCase("ip6=nonsense")]
        [TestCase("gw6=198.18.0.1")]
        [TestCase("ipv6=maybe")]
        public void BadValuesAreReportedAndDefaultsKept(string line)
        {
            KernelCommandLine c = Parse(line);
            Assert.That(c.IssueCount, Is.EqualTo(1));
            Assert.That(c.Ipv6Address.IsAny, Is.True);
            Assert.That(c.Ipv6Gateway.IsAny, Is.True);
            Assert.That(c.Ipv6Enabled, Is.True);
        }
    }
}
