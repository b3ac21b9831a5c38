using System.Collections.Generic;
using Keel.Net.Ipv6;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net.Ipv6
{
    /// <summary>
    /// IPv6 header and extension-header checks (RFC 8200 sections 3 and 4) and ICMPv6 (RFC 4443): echo, errors
    /// with the pointer where the RFC puts it, errors never sent where section 2.4 (e) forbids them, rate limit.
    /// </summary>
    public class Ipv6HeaderAndIcmpTests
    {
        private const int ParameterProblem = 4;

        private static byte[] Echo(int sequence = 1, int data = 32) => Frames.EchoBody(0x1234, sequence, data);

        private static byte[] EchoMessage(Ipv6TestStack t, int sequence = 1) =>
            Frames.Icmpv6Message(128, 0, Echo(sequence), Frames.HostLinkLocal, t.LinkLocal);

        [Test]
        public void EchoRequestToLinkLocalIsAnsweredWithTheSameData()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.Inject(Frames.Icmpv6(128, 0, Echo(7, 56), Frames.HostLinkLocal, t.LinkLocal));
            List<byte[]> replies = Frames.OfIcmpv6Type(t.TakeSent(), 129);
            Assert.That(replies.Count, Is.EqualTo(1));
            byte[] r = replies[0];
            Assert.That(Frames.Icmpv6ChecksumValid(r), Is.True, "reply checksum (RFC 8200 section 8.1 pseudo-header)");
            Assert.That(r[14] >> 4, Is.EqualTo(6));
            Assert.That(Frames.Get16(r, 18), Is.EqualTo(8 + 56), "payload length");
            Assert.That(Frames.Ip6Text(r, 22), Is.EqualTo(Frames.Ip6Text(t.LinkLocal)), "from the address asked");
            Assert.That(Frames.Ip6Text(r, 38), Is.EqualTo("fe80::1"));
            Assert.That(r[0..6], Is.EqualTo(Frames.HostMac));
            byte[] body = Echo(7, 56);
            for (int i = 0; i < body.Length; i++)
            {
                Assert.That(r[58 + i], Is.EqualTo(body[i]), "identifier, sequence and data echoed");
            }
            Assert.That(t.Counter(Ipv6Statistics.IcmpEchoReplies), Is.EqualTo(1));
            t.AssertIdle();
        }

        [Test]
        public void BadChecksumVersionAndLengthAreCountedAndDropped()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            byte[] f = Frames.Icmpv6(128, 0, Echo(), Frames.HostLinkLocal, t.LinkLocal);
            byte[] badSum = (byte[])f.Clone();
            badSum[56] ^= 0xFF;
            t.Inject(badSum);
            byte[] badVersion = (byte[])f.Clone();
            badVersion[14] = 0x40;
            t.Inject(badVersion);
            byte[] longLength = (byte[])f.Clone();
            Frames.Put16(longLength, 18, 1000);
            t.Inject(longLength);
            byte[] jumbo = (byte[])f.Clone();
            Frames.Put16(jumbo, 18, 0);
            t.Inject(jumbo);
            t.Inject(f[..40]);
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129), Is.Empty);
            Assert.That(t.Counter(Ipv6Statistics.IcmpBadChecksum), Is.EqualTo(1));
            Assert.That(t.Counter(Ipv6Statistics.BadHeader), Is.EqualTo(2));
            Assert.That(t.Counter(Ipv6Statistics.BadLength), Is.EqualTo(2));
            t.AssertIdle();
        }

        [Test]
        public void PacketsForOtherAddressesOrFromMulticastAreDropped()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.Inject(Frames.Icmpv6(128, 0, Echo(), Frames.HostLinkLocal, Frames.Ip6("fe80::99")));
            t.Inject(Frames.Icmpv6(128, 0, Echo(), Frames.AllNodes, t.LinkLocal));
            Assert.That(t.Counter(Ipv6Statistics.NotForUs), Is.EqualTo(1));
            Assert.That(t.Counter(Ipv6Statistics.BadSource), Is.EqualTo(1));
            t.AssertIdle();
        }

        /// <summary>RFC 8200 section 4: an unrecognized Next Header gets Parameter Problem code 1 pointing at it (offset 6).</summary>
        [Test]
        public void UnknownNextHeaderGetsParameterProblemCode1()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.Inject(Frames.IPv6(253, new byte[16], Frames.HostLinkLocal, t.LinkLocal));
            byte[] e = Single(t, ParameterProblem);
            int icmp = Frames.IcmpOffset(e);
            Assert.That(e[icmp + 1], Is.EqualTo(1));
            Assert.That(Frames.Get32(e, icmp + 4), Is.EqualTo(6u));
            Assert.That(e[icmp + 8] >> 4, Is.EqualTo(6), "quotes the offending packet from its IPv6 header");
            Assert.That(Frames.Icmpv6ChecksumValid(e), Is.True);
            t.AssertIdle();
        }

        /// <summary>RFC 8200 section 4.1: a hop-by-hop header anywhere but first is an unrecognized Next Header.</summary>
        [Test]
        public void HopByHopNotFirstIsRefused()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            byte[] payload = Frames.Concat(Frames.OptionsHeader(Frames.NextHopByHop), Frames.OptionsHeader(58), EchoMessage(t));
            t.Inject(Frames.IPv6(Frames.NextDestinationOptions, payload, Frames.HostLinkLocal, t.LinkLocal));
            byte[] e = Single(t, ParameterProblem);
            int icmp = Frames.IcmpOffset(e);
            Assert.That(e[icmp + 1], Is.EqualTo(1));
            Assert.That(Frames.Get32(e, icmp + 4), Is.EqualTo(40u), "points at the destination options header's next header field");
            Assert.That(t.Counter(Ipv6Statistics.HopByHopNotFirst), Is.EqualTo(1));
            t.AssertIdle();
        }

        [Test]
        public void HopByHopFirstAndDestinationOptionsWithPaddingAreWalked()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            // Router alert (type 5, value 0) in hop-by-hop; Pad1s and a skippable unknown option (type 0x1E, action 00).
            byte[] payload = Frames.Concat(Frames.OptionsHeader(Frames.NextDestinationOptions, 5, 2, 0, 0),
                Frames.OptionsHeader(58, 0, 0, 0x1E, 2, 0xAA, 0xBB), EchoMessage(t));
            t.Inject(Frames.IPv6(Frames.NextHopByHop, payload, Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129).Count, Is.EqualTo(1));
            t.AssertIdle();
        }

        /// <summary>RFC 8200 section 4.2: the two high bits of an unknown option's type choose skip, drop, or drop and answer.</summary>
        [TestCase(0x40, false, false)]
        [TestCase(0x80, false, true)]
        [TestCase(0xC0, false, true)]
        [TestCase(0x80, true, true)]
        [TestCase(0xC0, true, false)]
        public void UnknownOptionActionBits(int type, bool toMulticast, bool answered)
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            byte[] destination = toMulticast ? Frames.AllNodes : t.LinkLocal;
            byte[] echo = Frames.Icmpv6Message(128, 0, Echo(), Frames.HostLinkLocal, destination);
            byte[] payload = Frames.Concat(Frames.OptionsHeader(58, (byte)(type | 0x1F), 1, 0), echo);
            t.Inject(Frames.IPv6(Frames.NextDestinationOptions, payload, Frames.HostLinkLocal, destination,
                destinationMac: toMulticast ? Frames.MulticastMac(destination) : null));
            List<byte[]> sent = t.TakeSent();
            Assert.That(Frames.OfIcmpv6Type(sent, 129), Is.Empty, "the packet is dropped");
            List<byte[]> errors = Frames.OfIcmpv6Type(sent, ParameterProblem);
            Assert.That(errors.Count, Is.EqualTo(answered ? 1 : 0));
            if (answered)
            {
                int icmp = Frames.IcmpOffset(errors[0]);
                Assert.That(errors[0][icmp + 1], Is.EqualTo(2));
                Assert.That(Frames.Get32(errors[0], icmp + 4), Is.EqualTo(42u), "points at the option type");
            }
            Assert.That(t.Counter(Ipv6Statistics.UnknownOptionDropped), Is.EqualTo(1));
            t.AssertIdle();
        }

        /// <summary>RFC 8200 section 4.4 / RFC 5095: type 0 with segments left is refused at the routing type; with none left it is skipped.</summary>
        [Test]
        public void RoutingHeaderType0IsRefused()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.Inject(Frames.IPv6(Frames.NextRouting, Frames.Concat(Frames.RoutingHeader(58, 0, 1), EchoMessage(t)), Frames.HostLinkLocal, t.LinkLocal));
            byte[] e = Single(t, ParameterProblem);
            int icmp = Frames.IcmpOffset(e);
            Assert.That(e[icmp + 1], Is.EqualTo(0));
            Assert.That(Frames.Get32(e, icmp + 4), Is.EqualTo(42u));
            t.Inject(Frames.IPv6(Frames.NextRouting, Frames.Concat(Frames.RoutingHeader(58, 0, 0), EchoMessage(t, 2)), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129).Count, Is.EqualTo(1));
            Assert.That(t.Counter(Ipv6Statistics.RoutingHeaderRefused), Is.EqualTo(1));
            t.AssertIdle();
        }

        [Test]
        public void LongExtensionChainsAreDropped()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            List<byte[]> parts = new List<byte[]>();
            for (int i = 0; i < 12; i++)
            {
                parts.Add(Frames.OptionsHeader(i == 11 ? 58 : Frames.NextDestinationOptions));
            }
            parts.Add(EchoMessage(t));
            t.Inject(Frames.IPv6(Frames.NextDestinationOptions, Frames.Concat(parts.ToArray()), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129), Is.Empty);
            Assert.That(t.Counter(Ipv6Statistics.ExtensionChainTooLong), Is.EqualTo(1));
            t.AssertIdle();
        }

        /// <summary>RFC 4443 section 2.4 (e): never about an error message, a packet sent to a group, or from ::.</summary>
        [Test]
        public void ErrorsAreNeverSentWhereTheRfcForbids()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            // An error message behind an unknown option of type 0x9F (action 10: answered even to multicast, but not to an error).
            byte[] error = Frames.Icmpv6Message(1, 4, new byte[12], Frames.HostLinkLocal, t.LinkLocal);
            t.Inject(Frames.IPv6(Frames.NextDestinationOptions, Frames.Concat(Frames.OptionsHeader(58, 0x9F, 1, 0), error),
                Frames.HostLinkLocal, t.LinkLocal));
            t.Inject(Frames.IPv6(253, new byte[8], Frames.HostLinkLocal, Frames.AllNodes, destinationMac: Frames.MulticastMac(Frames.AllNodes)));
            t.Inject(Frames.IPv6(253, new byte[8], Frames.Unspecified, t.LinkLocal));
            t.Inject(Frames.IPv6(253, new byte[8], Frames.HostLinkLocal, t.LinkLocal, destinationMac: new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF }));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), ParameterProblem), Is.Empty);
            Assert.That(t.Counter(Ipv6Statistics.IcmpErrorsSuppressed), Is.EqualTo(4));
            t.AssertIdle();
        }

        /// <summary>RFC 4443 section 2.4 (f): a burst of offending packets gets a bounded number of errors, then one per interval.</summary>
        [Test]
        public void ErrorsAreRateLimited()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            for (int i = 0; i < 50; i++)
            {
                t.Inject(Frames.IPv6(253, new byte[8], Frames.HostLinkLocal, t.LinkLocal));
            }
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), ParameterProblem).Count, Is.EqualTo(10));
            Assert.That(t.Counter(Ipv6Statistics.IcmpErrorsRateLimited), Is.EqualTo(40));
            t.S.Clock.AdvanceMilliseconds(250);
            for (int i = 0; i < 5; i++)
            {
                t.Inject(Frames.IPv6(253, new byte[8], Frames.HostLinkLocal, t.LinkLocal));
            }
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), ParameterProblem).Count, Is.EqualTo(2));
            t.AssertIdle();
        }

        [Test]
        public void WithoutIpv6TheFramesAreUnknownType()
        {
            SingleStack s = new SingleStack();
            s.Inject(Frames.Icmpv6(128, 0, Echo(), Frames.HostLinkLocal, Frames.Ip6("fe80::2")));
            Assert.That(s.Counter(Keel.Net.NetStatistics.EthRxUnknownType), Is.EqualTo(1));
            Assert.That(s.Capture.Frames, Is.Empty);
        }

        private static byte[] Single(Ipv6TestStack t, int type)
        {
            List<byte[]> found = Frames.OfIcmpv6Type(t.TakeSent(), type);
            Assert.That(found.Count, Is.EqualTo(1), "one ICMPv6 type " + type);
            return found[0];
        }
    }
}
