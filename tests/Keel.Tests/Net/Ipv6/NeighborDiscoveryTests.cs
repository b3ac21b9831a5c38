using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Ipv6;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net.Ipv6
{
    /// <summary>
    /// Neighbor Discovery (RFC 4861): NS/NA with hop limit 255 only, the NUD states, router solicitation at start-up,
    /// router advertisements (routers, prefixes, MTU, timers, RDNSS of RFC 8106) with bounded lists, Redirects only
    /// from the current first-hop router, and a cache that a flood of solicitations cannot empty of real neighbors.
    /// </summary>
    public class NeighborDiscoveryTests
    {
        private const int NS = 135;
        private const int NA = 136;
        private const int RS = 133;
        private const int RA = 134;
        private const int Redirect = 137;
        private static readonly byte[] Router = Frames.Ip6("fe80::1");
        private static readonly byte[] Prefix = Frames.Ip6("2001:db8:1::");

        private static byte[] RouterAdvertisement(params byte[][] options) =>
            Frames.Icmpv6(RA, 0, Frames.RouterAdvertisementBody(64, 1800, 0, 0, options), Router, Frames.AllNodes, 255,
                Frames.MulticastMac(Frames.AllNodes));

        private static byte[] StandardAdvertisement() =>
            RouterAdvertisement(Frames.LinkAddressOption(1, Frames.HostMac), Frames.PrefixOption(Prefix, 64, true, true, 86400, 14400));

        [Test]
        public void SolicitationForOurAddressIsAnsweredWithSolicitedOverrideAdvertisement()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.TakeSent();
            byte[] us = t.LinkLocal;
            t.Inject(Frames.Icmpv6(NS, 0, Frames.NeighborSolicitationBody(us, Frames.LinkAddressOption(1, Frames.HostMac)),
                Frames.HostLinkLocal, Frames.SolicitedNode(us), 255, Frames.MulticastMac(Frames.SolicitedNode(us))));
            List<byte[]> na = Frames.OfIcmpv6Type(t.TakeSent(), NA);
            Assert.That(na.Count, Is.EqualTo(1));
            byte[] f = na[0];
            int icmp = Frames.IcmpOffset(f);
            Assert.That(f[21], Is.EqualTo(255), "hop limit 255");
            Assert.That(f[icmp + 4], Is.EqualTo(0x60), "solicited and override, not router");
            Assert.That(Frames.Ip6Text(f, icmp + 8), Is.EqualTo(Frames.Ip6Text(us)));
            Assert.That(f[icmp + 24], Is.EqualTo(2), "target link-layer address option");
            Assert.That(f[(icmp + 26)..(icmp + 32)], Is.EqualTo(Frames.StackMac));
            Assert.That(f[0..6], Is.EqualTo(Frames.HostMac), "to the address the solicitation gave");
            Assert.That(Frames.Icmpv6ChecksumValid(f), Is.True);
            Assert.That(t.Ip.Nd.Neighbors.StateOf(NetBytesOf(Frames.HostLinkLocal)), Is.EqualTo(NeighborCache.StateStale));
            t.AssertIdle();
        }

        [Test]
        public void NdWithHopLimitBelow255IsIgnored()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.TakeSent();
            byte[] us = t.LinkLocal;
            t.Inject(Frames.Icmpv6(NS, 0, Frames.NeighborSolicitationBody(us, Frames.LinkAddressOption(1, Frames.HostMac)),
                Frames.HostLinkLocal, us, 254));
            t.Inject(Frames.Icmpv6(RA, 0, Frames.RouterAdvertisementBody(64, 1800, 0, 0), Router, Frames.AllNodes, 64,
                Frames.MulticastMac(Frames.AllNodes)));
            Assert.That(t.TakeSent(), Is.Empty);
            Assert.That(t.Counter(Ipv6Statistics.NdBadHopLimit), Is.EqualTo(2));
            Assert.That(t.Ip.Nd.Routers.InUse(0), Is.False);
            t.AssertIdle();
        }

        [Test]
        public void MalformedOptionsAndCodesAreDropped()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.TakeSent();
            byte[] us = t.LinkLocal;
            byte[] zeroLength = { 1, 0, 0, 0, 0, 0, 0, 0 };
            t.Inject(Frames.Icmpv6(NS, 0, Frames.NeighborSolicitationBody(us, zeroLength), Frames.HostLinkLocal, us, 255));
            t.Inject(Frames.Icmpv6(NS, 1, Frames.NeighborSolicitationBody(us), Frames.HostLinkLocal, us, 255));
            // From :: the destination must be the solicited-node group and there must be no source link-layer option.
            t.Inject(Frames.Icmpv6(NS, 0, Frames.NeighborSolicitationBody(us, Frames.LinkAddressOption(1, Frames.HostMac)),
                Frames.Unspecified, Frames.SolicitedNode(us), 255, Frames.MulticastMac(Frames.SolicitedNode(us))));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), NA), Is.Empty);
            Assert.That(t.Counter(Ipv6Statistics.NdBadOptions) + t.Counter(Ipv6Statistics.NdBad), Is.EqualTo(3));
            t.AssertIdle();
        }

        [Test]
        public void StartUpSendsRouterSolicitationAfterLinkLocalDad()
        {
            Ipv6TestStack t = new Ipv6TestStack(up: false);
            t.Stack.Poll();
            t.Run(3000);
            List<byte[]> sent = t.TakeSent();
            List<byte[]> ns = Frames.OfIcmpv6Type(sent, NS);
            Assert.That(ns.Count, Is.GreaterThanOrEqualTo(1), "a DAD probe");
            Assert.That(Frames.Ip6Text(ns[0], 22), Is.EqualTo("::"), "DAD probes come from ::");
            Assert.That(Frames.Ip6Text(ns[0], 38), Does.StartWith("ff02::1:ff"), "to the solicited-node group");
            int dadIndex = sent.IndexOf(ns[0]);
            List<byte[]> rs = Frames.OfIcmpv6Type(sent, RS);
            Assert.That(rs.Count, Is.GreaterThanOrEqualTo(1));
            Assert.That(sent.IndexOf(rs[0]), Is.GreaterThan(dadIndex));
            Assert.That(Frames.Ip6Text(rs[0], 38), Is.EqualTo("ff02::2"));
            Assert.That(Frames.Ip6Text(rs[0], 22), Is.EqualTo(Frames.Ip6Text(t.LinkLocal)), "from the link-local address, with its link-layer address");
            Assert.That(rs[0][21], Is.EqualTo(255));
            List<byte[]> na = Frames.OfIcmpv6Type(sent, NA);
            Assert.That(na.Count, Is.EqualTo(1), "an unsolicited advertisement of the new address");
            Assert.That(Frames.Ip6Text(na[0], 38), Is.EqualTo("ff02::1"));
            Assert.That(na[0][Frames.IcmpOffset(na[0]) + 4], Is.EqualTo(0x20), "override, not solicited");
            // Without an answer: three solicitations four seconds apart, then no more (RFC 4861 section 10).
            t.Run(15000);
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), RS).Count + rs.Count, Is.EqualTo(3));
            t.AssertIdle();
        }

        [Test]
        public void RouterAdvertisementSetsRouterPrefixMtuTimersAndDnsAndStopsSolicitation()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.Inject(Frames.Icmpv6(RA, 0, Frames.RouterAdvertisementBody(32, 1800, 20000, 2000,
                    Frames.LinkAddressOption(1, Frames.HostMac), Frames.MtuOption(1400),
                    Frames.PrefixOption(Prefix, 64, true, true, 86400, 14400),
                    Frames.RdnssOption(600, Frames.Ip6("2001:db8:1::53"), Frames.Ip6("2001:db8:1::54"))),
                Router, Frames.AllNodes, 255, Frames.MulticastMac(Frames.AllNodes)));
            Assert.That(t.Ip.Mtu, Is.EqualTo(1400));
            Assert.That(t.Ip.HopLimit, Is.EqualTo(32));
            Assert.That(t.Ip.Nd.RetransTimer.Milliseconds, Is.EqualTo(2000));
            Assert.That(t.Ip.Nd.ReachableTime.Milliseconds, Is.InRange(10000, 30000), "0.5 to 1.5 times the base");
            Assert.That(t.Ip.Nd.Routers.Find(NetBytesOf(Router), 128), Is.GreaterThanOrEqualTo(0));
            Assert.That(t.Ip.Nd.Prefixes.Covers(NetBytesOf(Frames.Ip6("2001:db8:1::77"))), Is.True);
            Assert.That(t.Stack.Ipv6DnsServer(0) == NetBytesOf(Frames.Ip6("2001:db8:1::53")), Is.True);
            Assert.That(t.Stack.Ipv6DnsServer(1) == NetBytesOf(Frames.Ip6("2001:db8:1::54")), Is.True);
            Assert.That(t.Ip.Nd.Neighbors.IsRouter(NetBytesOf(Router)), Is.True);
            t.TakeSent();
            t.Run(15000);
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), RS), Is.Empty, "solicitation stops once a router answered");
            // Lifetime 0 removes the router, the RDNSS servers with lifetime 0 go too.
            t.Inject(Frames.Icmpv6(RA, 0, Frames.RouterAdvertisementBody(64, 0, 0, 0, Frames.RdnssOption(0, Frames.Ip6("2001:db8:1::53"))),
                Router, Frames.AllNodes, 255, Frames.MulticastMac(Frames.AllNodes)));
            Assert.That(t.Ip.Nd.Routers.Find(NetBytesOf(Router), 128), Is.EqualTo(-1));
            Assert.That(t.Stack.Ipv6DnsServer(0).IsAny, Is.True);
            t.AssertIdle();
        }

        [Test]
        public void AdvertisementWithHundredsOfPrefixesAndManyRoutersStaysBounded()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            List<byte[]> options = new List<byte[]>();
            for (int i = 0; i < 45; i++)
            {
                byte[] p = Frames.Ip6("2001:db8:100::");
                p[6] = (byte)i;
                options.Add(Frames.PrefixOption(p, 64, true, true, 86400, 14400));
            }
            for (int r = 0; r < 20; r++)
            {
                byte[] router = Frames.Ip6("fe80::100");
                router[15] = (byte)r;
                t.Inject(Frames.Icmpv6(RA, 0, Frames.RouterAdvertisementBody(64, 1800, 0, 0, options.ToArray()), router, Frames.AllNodes, 255,
                    Frames.MulticastMac(Frames.AllNodes)));
            }
            Assert.That(t.Counter(Ipv6Statistics.PrefixesDropped), Is.GreaterThan(0));
            Assert.That(t.Counter(Ipv6Statistics.RoutersDropped), Is.EqualTo(16));
            Assert.That(t.Counter(Ipv6Statistics.AddressesDropped), Is.GreaterThan(0));
            // Still answers.
            t.LearnHost();
            t.Inject(Frames.Icmpv6(128, 0, Frames.EchoBody(1, 1, 8), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129).Count, Is.EqualTo(1));
            t.AssertIdle();
        }

        [Test]
        public void NeighborUnreachabilityDetectionWalksTheStates()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.TakeSent();
            IPv6Address host = NetBytesOf(Frames.HostLinkLocal);
            // Our echo reply to an unknown neighbor: INCOMPLETE, a multicast solicitation, the reply waits.
            t.Inject(Frames.Icmpv6(128, 0, Frames.EchoBody(1, 1, 8), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(t.Ip.Nd.Neighbors.StateOf(host), Is.EqualTo(NeighborCache.StateIncomplete));
            List<byte[]> ns = Frames.OfIcmpv6Type(t.TakeSent(), NS);
            Assert.That(ns.Count, Is.EqualTo(1));
            Assert.That(Frames.Ip6Text(ns[0], 38), Is.EqualTo("ff02::1:ff00:1"));
            // A solicited advertisement: REACHABLE, and the reply goes.
            t.Inject(Frames.Icmpv6(NA, 0, Frames.NeighborAdvertisementBody(0x60, Frames.HostLinkLocal, Frames.LinkAddressOption(2, Frames.HostMac)),
                Frames.HostLinkLocal, t.LinkLocal, 255));
            Assert.That(t.Ip.Nd.Neighbors.StateOf(host), Is.EqualTo(NeighborCache.StateReachable));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129).Count, Is.EqualTo(1));
            // ReachableTime passes: STALE. Sending: DELAY; 5 s later PROBE with unicast solicitations; unanswered: gone.
            t.Run(46000, 500);
            Assert.That(t.Ip.Nd.Neighbors.StateOf(host), Is.EqualTo(NeighborCache.StateStale));
            t.Inject(Frames.Icmpv6(128, 0, Frames.EchoBody(1, 2, 8), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(t.Ip.Nd.Neighbors.StateOf(host), Is.EqualTo(NeighborCache.StateDelay));
            t.TakeSent();
            t.Run(5100);
            Assert.That(t.Ip.Nd.Neighbors.StateOf(host), Is.EqualTo(NeighborCache.StateProbe));
            t.Run(4000);
            List<byte[]> probes = Frames.OfIcmpv6Type(t.TakeSent(), NS);
            Assert.That(probes.Count, Is.EqualTo(3));
            Assert.That(probes[0][0..6], Is.EqualTo(Frames.HostMac), "probes are unicast");
            Assert.That(t.Ip.Nd.Neighbors.StateOf(host), Is.EqualTo(NeighborCache.StateFree));
            t.AssertIdle();
        }

        [Test]
        public void AdvertisementWithoutOverrideDoesNotReplaceTheAddress()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            IPv6Address host = NetBytesOf(Frames.HostLinkLocal);
            byte[] other = { 0x02, 0, 0, 0, 0, 0x99 };
            t.Inject(Frames.Icmpv6(NA, 0, Frames.NeighborAdvertisementBody(0x40, Frames.HostLinkLocal, Frames.LinkAddressOption(2, Frames.HostMac)),
                Frames.HostLinkLocal, t.LinkLocal, 255));
            t.Inject(Frames.Icmpv6(NA, 0, Frames.NeighborAdvertisementBody(0x00, Frames.HostLinkLocal, Frames.LinkAddressOption(2, other)),
                Frames.HostLinkLocal, Frames.AllNodes, 255, Frames.MulticastMac(Frames.AllNodes)));
            Assert.That(t.Ip.Nd.Neighbors.MacOf(host), Is.EqualTo(0x020000000001UL));
            Assert.That(t.Ip.Nd.Neighbors.StateOf(host), Is.EqualTo(NeighborCache.StateStale));
            t.Inject(Frames.Icmpv6(NA, 0, Frames.NeighborAdvertisementBody(0x20, Frames.HostLinkLocal, Frames.LinkAddressOption(2, other)),
                Frames.HostLinkLocal, Frames.AllNodes, 255, Frames.MulticastMac(Frames.AllNodes)));
            Assert.That(t.Ip.Nd.Neighbors.MacOf(host), Is.EqualTo(0x020000000099UL));
            t.AssertIdle();
        }

        [Test]
        public void SolicitationFloodKeepsTheRealNeighborsWorking()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            IPv6Address host = NetBytesOf(Frames.HostLinkLocal);
            t.Inject(Frames.Icmpv6(NA, 0, Frames.NeighborAdvertisementBody(0x60, Frames.HostLinkLocal, Frames.LinkAddressOption(2, Frames.HostMac)),
                Frames.HostLinkLocal, t.LinkLocal, 255));
            for (int i = 0; i < 500; i++)
            {
                byte[] source = Frames.Ip6("fe80::5000:0");
                source[14] = (byte)(i >> 8);
                source[15] = (byte)i;
                byte[] mac = { 0x02, 0x50, 0, 0, (byte)(i >> 8), (byte)i };
                t.Inject(Frames.Icmpv6(NS, 0, Frames.NeighborSolicitationBody(t.LinkLocal, Frames.LinkAddressOption(1, mac)),
                    source, t.LinkLocal, 255, null));
            }
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), NA).Count, Is.EqualTo(500), "every solicitation answered");
            Assert.That(t.Ip.Nd.Neighbors.StateOf(host), Is.EqualTo(NeighborCache.StateReachable), "the real neighbor stays");
            Assert.That(t.Ip.Nd.Neighbors.PendingCount, Is.EqualTo(0));
            t.Inject(Frames.Icmpv6(128, 0, Frames.EchoBody(1, 9, 8), Frames.HostLinkLocal, t.LinkLocal));
            List<byte[]> replies = Frames.OfIcmpv6Type(t.TakeSent(), 129);
            Assert.That(replies.Count, Is.EqualTo(1));
            Assert.That(replies[0][0..6], Is.EqualTo(Frames.HostMac));
            t.AssertIdle();
        }

        [Test]
        public void RedirectIsTakenOnlyFromTheCurrentFirstHopRouter()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.Inject(StandardAdvertisement());
            t.Run(3000);
            IPv6Address destination = NetBytesOf(Frames.Ip6("2001:db8:99::1"));
            byte[] better = Frames.Ip6("fe80::2");
            IPv6Address hop;
            Assert.That(t.Ip.Nd.NextHop(destination, out hop), Is.True);
            Assert.That(hop == NetBytesOf(Router), Is.True, "off-link: the default router");
            // From a node that is not our router for that destination: rejected.
            t.Inject(Frames.Icmpv6(Redirect, 0, Frames.RedirectBody(better, Frames.Ip6("2001:db8:99::1")), Frames.Ip6("fe80::3"), t.LinkLocal, 255));
            Assert.That(t.Counter(Ipv6Statistics.RedirectRejected), Is.EqualTo(1));
            t.Ip.Nd.NextHop(destination, out hop);
            Assert.That(hop == NetBytesOf(Router), Is.True);
            // From the router: the destination now goes to the better first hop.
            t.Inject(Frames.Icmpv6(Redirect, 0, Frames.RedirectBody(better, Frames.Ip6("2001:db8:99::1"), Frames.LinkAddressOption(2, new byte[] { 2, 0, 0, 0, 0, 0x22 })),
                Router, t.LinkLocal, 255));
            t.Ip.Nd.NextHop(destination, out hop);
            Assert.That(hop == NetBytesOf(better), Is.True);
            Assert.That(t.Ip.Nd.Neighbors.MacOf(NetBytesOf(better)), Is.EqualTo(0x020000000022UL));
            t.AssertIdle();
        }

        internal static IPv6Address NetBytesOf(byte[] b) => IPv6Address.Read(b);
    }
}
