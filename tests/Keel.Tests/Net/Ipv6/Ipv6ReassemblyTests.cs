using System.Collections.Generic;
using Keel.Net.Ipv6;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net.Ipv6
{
    /// <summary>
    /// IPv6 reassembly (RFC 8200 section 4.5): whole datagrams in any order, overlaps dropping the datagram (RFC 5722),
    /// atomic fragments processed alone (RFC 6946), a first fragment without the header chain dropped (RFC 7112), the
    /// 60 s timeout, bounded memory under a flood; and our own fragmentation of a reply above the MTU.
    /// </summary>
    public class Ipv6ReassemblyTests
    {
        private static byte[] EchoMessage(Ipv6TestStack t, int data, int sequence = 1) =>
            Frames.Icmpv6Message(128, 0, Frames.EchoBody(0x4242, sequence, data), Frames.HostLinkLocal, t.LinkLocal);

        private static List<byte[]> Fragments(Ipv6TestStack t, byte[] message, int size, uint id) =>
            Frames.FragmentIPv6(58, message, size, id, Frames.HostLinkLocal, t.LinkLocal);

        /// <summary>Joins the fragmentable parts of the fragment frames of one datagram (host reference, from the RFC layout).</summary>
        private static byte[] Join(List<byte[]> frames)
        {
            SortedDictionary<int, byte[]> parts = new SortedDictionary<int, byte[]>();
            int total = -1;
            foreach (byte[] f in frames)
            {
                if (f[20] != Frames.NextFragment)
                {
                    continue;
                }
                int field = Frames.Get16(f, 56);
                int length = Frames.Get16(f, 18) - 8;
                byte[] data = f[62..(62 + length)];
                parts[field & 0xFFF8] = data;
                if ((field & 1) == 0)
                {
                    total = (field & 0xFFF8) + length;
                }
            }
            byte[] whole = new byte[total];
            foreach (KeyValuePair<int, byte[]> p in parts)
            {
                p.Value.CopyTo(whole, p.Key);
            }
            return whole;
        }

        [Test]
        public void FragmentedEchoIsReassembledInAnyOrderAndTheReplyFragmented()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            byte[] message = EchoMessage(t, 3000);
            List<byte[]> fragments = Fragments(t, message, 1232, 7);
            fragments.Reverse();
            foreach (byte[] f in fragments)
            {
                t.Inject(f);
            }
            List<byte[]> sent = t.TakeSent();
            Assert.That(t.Counter(Ipv6Statistics.Reassembled), Is.EqualTo(1));
            Assert.That(sent.Count, Is.EqualTo(3), "3008 bytes of reply in 1500-byte frames");
            foreach (byte[] f in sent)
            {
                Assert.That(f.Length, Is.LessThanOrEqualTo(1514));
                Assert.That(f[20], Is.EqualTo(Frames.NextFragment));
            }
            byte[] reply = Join(sent);
            Assert.That(reply.Length, Is.EqualTo(message.Length));
            Assert.That(reply[0], Is.EqualTo(129));
            Assert.That(Frames.Checksum(reply, 0, reply.Length, Frames.PseudoHeaderSum6(t.LinkLocal, Frames.HostLinkLocal, 58, reply.Length)), Is.EqualTo(0));
            Assert.That(reply[4..], Is.EqualTo(message[4..]), "identifier, sequence and 3000 bytes of data");
            t.AssertIdle();
        }

        [Test]
        public void OverlappingFragmentsDropTheDatagram()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            byte[] message = EchoMessage(t, 200);
            byte[] first = Frames.IPv6(Frames.NextFragment, Frames.Concat(Frames.FragmentHeader(58, 0, true, 9), message[..104]), Frames.HostLinkLocal, t.LinkLocal);
            byte[] overlap = Frames.IPv6(Frames.NextFragment, Frames.Concat(Frames.FragmentHeader(58, 96, false, 9), message[96..]), Frames.HostLinkLocal, t.LinkLocal);
            t.Inject(first);
            t.Inject(overlap);
            Assert.That(t.TakeSent(), Is.Empty);
            Assert.That(t.Counter(Ipv6Statistics.ReasmOverlaps), Is.EqualTo(1));
            // The rest of the datagram arriving later does not complete it either.
            t.Inject(Frames.IPv6(Frames.NextFragment, Frames.Concat(Frames.FragmentHeader(58, 104, false, 9), message[104..]), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129), Is.Empty);
            t.AssertIdle();
        }

        [Test]
        public void ExactDuplicateFragmentIsOnlyIgnored()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            List<byte[]> fragments = Fragments(t, EchoMessage(t, 200), 104, 11);
            t.Inject(fragments[0]);
            t.Inject(fragments[0]);
            t.Inject(fragments[1]);
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129).Count, Is.EqualTo(1));
            t.AssertIdle();
        }

        [Test]
        public void AtomicFragmentIsProcessedAlone()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.Inject(Frames.IPv6(Frames.NextFragment, Frames.Concat(Frames.FragmentHeader(58, 0, false, 5), EchoMessage(t, 16)), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129).Count, Is.EqualTo(1));
            Assert.That(t.Counter(Ipv6Statistics.AtomicFragments), Is.EqualTo(1));
            Assert.That(t.Counter(Ipv6Statistics.FragRx), Is.EqualTo(0));
            t.AssertIdle();
        }

        [Test]
        public void FirstFragmentWithoutTheWholeHeaderChainIsDropped()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            // The fragmentable part: a 24-byte destination options header, then the echo. The first fragment holds 16 bytes of it.
            byte[] fragmentable = Frames.Concat(Frames.OptionsHeader(58, 1, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0), EchoMessage(t, 8));
            Assert.That(fragmentable[1], Is.EqualTo(2), "24-byte header");
            List<byte[]> fragments = Frames.FragmentIPv6(Frames.NextDestinationOptions, fragmentable, 16, 3, Frames.HostLinkLocal, t.LinkLocal);
            foreach (byte[] f in fragments)
            {
                t.Inject(f);
            }
            List<byte[]> sent = t.TakeSent();
            Assert.That(Frames.OfIcmpv6Type(sent, 129), Is.Empty);
            Assert.That(t.Counter(Ipv6Statistics.ReasmIncompleteChain), Is.EqualTo(1));
            List<byte[]> errors = Frames.OfIcmpv6Type(sent, 4);
            Assert.That(errors.Count, Is.EqualTo(1));
            Assert.That(errors[0][Frames.IcmpOffset(errors[0]) + 1], Is.EqualTo(3), "Parameter Problem code 3 (RFC 7112 section 5)");
            t.AssertIdle();
        }

        [Test]
        public void IncompleteDatagramIsFreedAfterSixtySecondsAndReported()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.Inject(Fragments(t, EchoMessage(t, 200), 104, 13)[0]);
            t.Run(59000, 1000);
            Assert.That(t.Counter(Ipv6Statistics.ReasmTimeouts), Is.EqualTo(0));
            t.Run(2000, 1000);
            Assert.That(t.Counter(Ipv6Statistics.ReasmTimeouts), Is.EqualTo(1));
            // The first fragment came: its source is told (Time Exceeded code 1), quoting it from its IPv6 header.
            List<byte[]> errors = Frames.OfIcmpv6Type(t.TakeSent(), 3);
            Assert.That(errors.Count, Is.EqualTo(1));
            int icmp = Frames.IcmpOffset(errors[0]);
            Assert.That(errors[0][icmp + 1], Is.EqualTo(1));
            Assert.That(errors[0][icmp + 8] >> 4, Is.EqualTo(6));
            Assert.That(errors[0][icmp + 8 + 6], Is.EqualTo(Frames.NextFragment));
            Assert.That(Frames.Get16(errors[0], 18), Is.EqualTo(8 + 40 + 8 + 104), "header, fragment header and the 104 bytes quoted");
            Assert.That(Frames.Icmpv6ChecksumValid(errors[0]), Is.True);
            // Without the first fragment there is nothing to quote.
            t.Inject(Fragments(t, EchoMessage(t, 200), 104, 14)[1]);
            t.Run(61000, 1000);
            Assert.That(t.Counter(Ipv6Statistics.ReasmTimeouts), Is.EqualTo(2));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 3), Is.Empty);
            t.AssertIdle();
        }

        [Test]
        public void FragmentFloodStaysBoundedAndRealDatagramsStillComplete()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            byte[] message = EchoMessage(t, 200);
            for (uint id = 0; id < 400; id++)
            {
                t.Inject(Frames.IPv6(Frames.NextFragment, Frames.Concat(Frames.FragmentHeader(58, 8 * (int)(id % 7 + 1), true, 1000 + id), new byte[64]),
                    Frames.HostLinkLocal, t.LinkLocal));
            }
            Assert.That(t.Counter(Ipv6Statistics.FragRx), Is.EqualTo(400));
            Assert.That(t.S.Device.ReceivePackets.InUse, Is.LessThanOrEqualTo(t.Stack.Config.Ipv6ReassemblyPackets));
            foreach (byte[] f in Fragments(t, message, 104, 77))
            {
                t.Inject(f);
            }
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 129).Count, Is.EqualTo(1));
            t.AssertIdle();
        }
    }
}
