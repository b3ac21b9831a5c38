using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Ipv6;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net.Ipv6
{
    /// <summary>MLDv2 listener reports (RFC 3810) for the solicited-node groups, and the Ethernet multicast filter they open.</summary>
    public class MulticastListenerTests
    {
        private const int Report = 143;

        private static List<(int Type, string Group)> Records(byte[] f)
        {
            int icmp = Frames.IcmpOffset(f);
            int count = Frames.Get16(f, icmp + 6);
            List<(int, string)> records = new List<(int, string)>();
            int at = icmp + 8;
            for (int i = 0; i < count; i++)
            {
                records.Add((f[at], Frames.Ip6Text(f, at + 4)));
                at += 20 + 16 * Frames.Get16(f, at + 2) + 4 * f[at + 1];
            }
            return records;
        }

        [Test]
        public void JoiningTheSolicitedNodeGroupIsReportedTwiceWithRouterAlertAndHopLimit1()
        {
            Ipv6TestStack t = new Ipv6TestStack(up: false);
            t.Stack.Poll();
            t.Run(3000);
            List<byte[]> reports = Frames.OfIcmpv6Type(t.TakeSent(), Report);
            Assert.That(reports.Count, Is.GreaterThanOrEqualTo(2), "robustness variable 2");
            byte[] f = reports[0];
            Assert.That(f[0..6], Is.EqualTo(new byte[] { 0x33, 0x33, 0, 0, 0, 0x16 }));
            Assert.That(Frames.Ip6Text(f, 38), Is.EqualTo("ff02::16"));
            Assert.That(f[21], Is.EqualTo(1), "hop limit 1");
            Assert.That(f[20], Is.EqualTo(0), "hop-by-hop header first");
            Assert.That(f[56], Is.EqualTo(5), "router alert option");
            Assert.That(Frames.Get16(f, 58), Is.EqualTo(0), "value 0: MLD");
            Assert.That(Frames.Icmpv6ChecksumValid(f), Is.True);
            string group = Frames.Ip6Text(Frames.SolicitedNode(t.LinkLocal));
            Assert.That(Records(f), Does.Contain((4, group)), "CHANGE_TO_EXCLUDE_MODE for the solicited-node group");
            Assert.That(Records(f).Exists(r => r.Group == "ff02::1"), Is.False, "all-nodes is never reported");
            // Once the link-local address is usable the reports come from it.
            Assert.That(Frames.Ip6Text(reports[reports.Count - 1], 22), Is.EqualTo(Frames.Ip6Text(t.LinkLocal)));
            t.AssertIdle();
        }

        [Test]
        public void GeneralQueryIsAnsweredWithCurrentState()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.Run(3000);
            t.TakeSent();
            // MLDv2 general query (RFC 3810 section 5.1): Maximum Response Code 1000 ms, group ::, hop limit 1, router alert.
            byte[] body = new byte[24];
            Frames.Put16(body, 0, 1000);
            byte[] query = Frames.Icmpv6Message(130, 0, body, Frames.HostLinkLocal, Frames.AllNodes);
            t.Inject(Frames.IPv6(Frames.NextHopByHop, Frames.Concat(Frames.OptionsHeader(58, 5, 2, 0, 0), query), Frames.HostLinkLocal,
                Frames.AllNodes, 1, Frames.MulticastMac(Frames.AllNodes)));
            t.Run(1100);
            List<byte[]> reports = Frames.OfIcmpv6Type(t.TakeSent(), Report);
            Assert.That(reports.Count, Is.EqualTo(1));
            Assert.That(Records(reports[0]), Does.Contain((2, Frames.Ip6Text(Frames.SolicitedNode(t.LinkLocal)))), "MODE_IS_EXCLUDE");
            // With another hop limit it is not from this link.
            t.Inject(Frames.IPv6(58, query, Frames.HostLinkLocal, Frames.AllNodes, 64, Frames.MulticastMac(Frames.AllNodes)));
            t.Run(1100);
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), Report), Is.Empty);
            Assert.That(t.Counter(Ipv6Statistics.MldBad), Is.EqualTo(1));
            t.AssertIdle();
        }

        [Test]
        public void TheCardIsGivenTheGroupsEthernetAddresses()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            byte[] group = Frames.SolicitedNode(t.LinkLocal);
            string mac = System.BitConverter.ToString(Frames.MulticastMac(group)).Replace('-', ':').ToLowerInvariant();
            Assert.That(t.S.Device.MulticastFilter, Is.EquivalentTo(new[] { "33:33:00:00:00:01", mac }));
        }

        [Test]
        public void OnlyJoinedGroupsPassTheEthernetFilter()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            byte[] other = Frames.Ip6("ff02::1:ff12:3456");
            t.Inject(Frames.Icmpv6(128, 0, Frames.EchoBody(1, 1, 8), Frames.HostLinkLocal, other, 64, Frames.MulticastMac(other)));
            Assert.That(t.S.Counter(NetStatistics.EthRxNotForUs), Is.EqualTo(1));
            // ff02::1 (all nodes) is always taken; an echo to it is answered from the link-local address.
            t.Inject(Frames.Icmpv6(128, 0, Frames.EchoBody(1, 2, 8), Frames.HostLinkLocal, Frames.AllNodes, 64, Frames.MulticastMac(Frames.AllNodes)));
            List<byte[]> replies = Frames.OfIcmpv6Type(t.TakeSent(), 129);
            Assert.That(replies.Count, Is.EqualTo(1));
            Assert.That(Frames.Ip6Text(replies[0], 22), Is.EqualTo(Frames.Ip6Text(t.LinkLocal)));
            t.AssertIdle();
        }
    }
}
