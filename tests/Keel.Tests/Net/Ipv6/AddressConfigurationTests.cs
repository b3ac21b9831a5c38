using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Ipv6;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net.Ipv6
{
    /// <summary>
    /// Stateless address autoconfiguration (RFC 4862): link-local at start-up, SLAAC with lifetimes and the two-hour
    /// rule, DAD before use and a new identifier after a conflict (RFC 7217), a static address and router.
    /// </summary>
    public class AddressConfigurationTests
    {
        private static readonly byte[] Router = Frames.Ip6("fe80::1");
        private static readonly byte[] Prefix = Frames.Ip6("2001:db8:1::");

        private static byte[] Advertisement(uint valid, uint preferred, int routerLifetime = 1800) =>
            Frames.Icmpv6(134, 0, Frames.RouterAdvertisementBody(64, routerLifetime, 0, 0, Frames.LinkAddressOption(1, Frames.HostMac),
                    Frames.PrefixOption(Prefix, 64, true, true, valid, preferred)),
                Router, Frames.AllNodes, 255, Frames.MulticastMac(Frames.AllNodes));

        private static int SlaacIndex(Ipv6TestStack t)
        {
            Ipv6AddressTable table = t.Ip.Addresses;
            for (int i = 0; i < table.Capacity; i++)
            {
                if (table.State(i) != Ipv6AddressTable.StateFree && table.Origin(i) == Ipv6AddressTable.OriginSlaac)
                {
                    return i;
                }
            }
            return -1;
        }

        [Test]
        public void LinkLocalUsesAStableOpaqueIdentifier()
        {
            Ipv6TestStack a = new Ipv6TestStack();
            Ipv6TestStack b = new Ipv6TestStack();
            IPv6Address address = a.Stack.Ipv6LinkLocal;
            Assert.That(address.High, Is.EqualTo(0xFE80000000000000UL));
            Assert.That(address == b.Stack.Ipv6LinkLocal, Is.True, "same secret and card: same identifier");
            // Not the modified EUI-64 of 02:00:00:00:00:02 (RFC 4291 appendix A: 0000:00ff:fe00:0002).
            Assert.That(address.Low, Is.Not.EqualTo(0x000000FFFE000002UL));
        }

        [Test]
        public void StableIdentifiersDependOnPrefixCounterAndSecretOnly()
        {
            ulong mac = 0x020000000002UL;
            ulong id = StableInterfaceId.Generate(1, 2, 0x20010DB800010000UL, mac, 0);
            Assert.That(StableInterfaceId.Generate(1, 2, 0x20010DB800010000UL, mac, 0), Is.EqualTo(id));
            Assert.That(StableInterfaceId.Generate(1, 2, 0x20010DB800020000UL, mac, 0), Is.Not.EqualTo(id), "another prefix");
            Assert.That(StableInterfaceId.Generate(1, 2, 0x20010DB800010000UL, mac, 1), Is.Not.EqualTo(id), "after a DAD conflict");
            Assert.That(StableInterfaceId.Generate(3, 2, 0x20010DB800010000UL, mac, 0), Is.Not.EqualTo(id), "another secret");
            Assert.That(StableInterfaceId.Reserved(0), Is.True);
            Assert.That(StableInterfaceId.Reserved(0xFDFFFFFFFFFFFF80UL), Is.True, "RFC 5453 reserved subnet anycast");
            Assert.That(StableInterfaceId.Reserved(0xFDFFFFFFFFFFFF7FUL), Is.False);
        }

        [Test]
        public void SlaacAddressIsTentativeUntilDadThenPreferredThenDeprecatedThenGone()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.TakeSent();
            t.Inject(Advertisement(20, 10));
            int i = SlaacIndex(t);
            Assert.That(i, Is.GreaterThanOrEqualTo(0));
            IPv6Address address = t.Ip.Addresses.Address(i);
            Assert.That(address.High, Is.EqualTo(0x20010DB800010000UL));
            Assert.That(t.Ip.Addresses.State(i), Is.EqualTo(Ipv6AddressTable.StateTentative));
            Assert.That(t.Stack.Ipv6GlobalAddress.IsAny, Is.True, "a tentative address is not used");
            t.Run(2500);
            Assert.That(t.Ip.Addresses.State(i), Is.EqualTo(Ipv6AddressTable.StatePreferred));
            Assert.That(t.Stack.Ipv6GlobalAddress == address, Is.True);
            List<byte[]> sent = t.TakeSent();
            List<byte[]> dad = Frames.OfIcmpv6Type(sent, 135);
            Assert.That(dad.Count, Is.EqualTo(1));
            Assert.That(Frames.Ip6Text(dad[0], 22), Is.EqualTo("::"));
            Assert.That(Frames.Ip6Text(dad[0], Frames.IcmpOffset(dad[0]) + 8), Is.EqualTo(Frames.Ip6Text(Ipv6TestStack.Bytes(address))));
            t.Run(8000);
            Assert.That(t.Ip.Addresses.State(i), Is.EqualTo(Ipv6AddressTable.StateDeprecated));
            Assert.That(t.Stack.Ipv6GlobalAddress == address, Is.True, "deprecated is still used when nothing better exists");
            t.Run(10000);
            Assert.That(t.Ip.Addresses.State(i), Is.EqualTo(Ipv6AddressTable.StateFree));
            t.AssertIdle();
        }

        /// <summary>RFC 4862 section 5.5.3 (e): an advertisement cannot cut the remaining valid lifetime below two hours.</summary>
        [Test]
        public void TwoHourRuleKeepsTheValidLifetime()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.Inject(Advertisement(86400, 14400));
            t.Run(2500);
            int i = SlaacIndex(t);
            t.Inject(Advertisement(60, 30));
            t.Run(120000, 1000);
            Assert.That(t.Ip.Addresses.State(i), Is.EqualTo(Ipv6AddressTable.StateDeprecated), "preferred lifetime updated to 30 s");
            t.Run(7200000 - 120000 + 1000, 60000);
            Assert.That(t.Ip.Addresses.State(i), Is.EqualTo(Ipv6AddressTable.StateFree), "valid lifetime cut to two hours");
            t.AssertIdle();
        }

        [Test]
        public void DuplicateDetectedDuringDadGivesANewIdentifier()
        {
            Ipv6TestStack t = new Ipv6TestStack(up: false);
            t.Stack.Poll();
            IPv6Address first = t.Ip.Addresses.Address(0);
            Assert.That(t.Ip.Addresses.State(0), Is.EqualTo(Ipv6AddressTable.StateTentative));
            // Another node answers for the tentative address (RFC 4862 section 5.4.4).
            t.Inject(Frames.Icmpv6(136, 0, Frames.NeighborAdvertisementBody(0x20, Ipv6TestStack.Bytes(first), Frames.LinkAddressOption(2, Frames.HostMac)),
                Frames.HostLinkLocal, Frames.AllNodes, 255, Frames.MulticastMac(Frames.AllNodes)));
            IPv6Address second = t.Ip.Addresses.Address(0);
            Assert.That(second != first, Is.True);
            Assert.That(second.High, Is.EqualTo(0xFE80000000000000UL));
            Assert.That(t.Counter(Ipv6Statistics.DadFailed), Is.EqualTo(1));
            // Another node probing the same address from :: is a conflict too (section 5.4.3).
            t.Inject(Frames.Icmpv6(135, 0, Frames.NeighborSolicitationBody(Ipv6TestStack.Bytes(second)), Frames.Unspecified,
                Frames.SolicitedNode(Ipv6TestStack.Bytes(second)), 255, Frames.MulticastMac(Frames.SolicitedNode(Ipv6TestStack.Bytes(second)))));
            IPv6Address third = t.Ip.Addresses.Address(0);
            Assert.That(third != second, Is.True);
            t.Run(3000);
            Assert.That(t.Stack.Ipv6LinkLocal == third, Is.True);
            // A tentative address takes nothing but ND: an echo to the old one is not answered.
            t.TakeSent();
            t.Inject(Frames.Icmpv6(128, 0, Frames.EchoBody(1, 1, 8), Frames.HostLinkLocal, Ipv6TestStack.Bytes(first)));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129), Is.Empty);
            t.AssertIdle();
        }

        [Test]
        public void StaticAddressAndGatewayRouteOffLinkTrafficThroughTheGateway()
        {
            IPv6Address address = IPv6Address.Read(Frames.Ip6("2001:db8:5::10"));
            IPv6Address gateway = IPv6Address.Read(Frames.Ip6("2001:db8:5::1"));
            Ipv6TestStack t = new Ipv6TestStack(c =>
            {
                c.Ipv6Address = address;
                c.Ipv6PrefixLength = 64;
                c.Ipv6Gateway = gateway;
            });
            t.Run(2000);
            Assert.That(t.Stack.Ipv6GlobalAddress == address, Is.True);
            t.TakeSent();
            t.Inject(Frames.Icmpv6(128, 0, Frames.EchoBody(1, 1, 8), Frames.Ip6("2001:db8:77::9"), Ipv6TestStack.Bytes(address)));
            List<byte[]> ns = Frames.OfIcmpv6Type(t.TakeSent(), 135);
            Assert.That(ns.Count, Is.EqualTo(1));
            Assert.That(Frames.Ip6Text(ns[0], Frames.IcmpOffset(ns[0]) + 8), Is.EqualTo("2001:db8:5::1"), "resolves the gateway");
            Assert.That(Frames.Ip6Text(ns[0], 22), Is.EqualTo("2001:db8:5::10"), "from the global address (same scope as the target)");
            // The gateway answers: the reply goes out to its MAC.
            t.Inject(Frames.Icmpv6(136, 0, Frames.NeighborAdvertisementBody(0xE0, Frames.Ip6("2001:db8:5::1"), Frames.LinkAddressOption(2, Frames.HostMac)),
                Frames.Ip6("2001:db8:5::1"), Ipv6TestStack.Bytes(address), 255));
            List<byte[]> replies = Frames.OfIcmpv6Type(t.TakeSent(), 129);
            Assert.That(replies.Count, Is.EqualTo(1));
            Assert.That(Frames.Ip6Text(replies[0], 38), Is.EqualTo("2001:db8:77::9"));
            // On-link destinations of the static prefix go direct.
            IPv6Address hop;
            Assert.That(t.Ip.Nd.NextHop(IPv6Address.Read(Frames.Ip6("2001:db8:5::33")), out hop), Is.True);
            Assert.That(hop == IPv6Address.Read(Frames.Ip6("2001:db8:5::33")), Is.True);
            TextCapture text = new TextCapture();
            t.Stack.PrintStatus(text);
            Assert.That(text.ToString(), Does.Contain("  2001:db8:5::/64 expires never"), "the static prefix, not the address");
            t.AssertIdle();
        }

        [Test]
        public void NetShowsAddressesRoutersPrefixesNeighborsAndDns()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.Inject(Frames.Icmpv6(134, 0, Frames.RouterAdvertisementBody(64, 1800, 0, 0, Frames.LinkAddressOption(1, Frames.HostMac),
                    Frames.PrefixOption(Prefix, 64, true, true, 86400, 14400), Frames.RdnssOption(600, Frames.Ip6("2001:db8:1::53"))),
                Router, Frames.AllNodes, 255, Frames.MulticastMac(Frames.AllNodes)));
            t.Run(2500);
            TextCapture text = new TextCapture();
            t.Stack.PrintStatus(text);
            string net = text.ToString();
            Assert.That(net, Does.Match(@"fe80::[0-9a-f:]+/64  link-local preferred  preferred never  valid never"));
            Assert.That(net, Does.Match(@"2001:db8:1:0:[0-9a-f:]+/64  slaac preferred  preferred in 1439\d s  valid in 8639\d s"));
            Assert.That(net, Does.Contain("ipv6 routers:\n  fe80::1 expires in 17"));
            Assert.That(net, Does.Contain("2001:db8:1::/64 expires in 8639"));
            Assert.That(net, Does.Contain("2001:db8:1::53 expires in 59"));
            Assert.That(net, Does.Contain("fe80::1  02:00:00:00:00:01  STALE router"));
            Assert.That(net, Does.Contain("nd_ra_rx 1"));
        }
    }
}
