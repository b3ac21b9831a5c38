using System.Collections.Generic;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Ipv6;
using Keel.Net.Sockets;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net.Ipv6
{
    /// <summary>
    /// The per-destination IPv6 path MTU (RFC 8201): a Packet Too Big (RFC 4443 section 3.2) about a UDP datagram
    /// lowers the destination's path MTU, never below 1280 and never up; later datagrams are fragmented to it with the
    /// fragment header (RFC 8200 section 4.5); the estimate is forgotten after 10 minutes (section 4), and new TCP
    /// connections start from it. The table is bounded.
    /// </summary>
    public class PathMtuTests
    {
        private static readonly IPEndPoint Host = new IPEndPoint(new IPv6Address(0xFE80000000000000UL, 1), 7000);

        private static Ipv6TestStack Stack(out Socket udp)
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            udp = t.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(udp.Bind(new IPEndPoint(IPAddress.IPv6Any, 5000)), Is.EqualTo(SocketError.Success));
            return t;
        }

        /// <summary>Sends a datagram of <paramref name="size"/> bytes to the host and returns the IPv6 frames it became.</summary>
        private static List<byte[]> SendDatagram(Ipv6TestStack t, Socket udp, int size)
        {
            byte[] data = new byte[size];
            for (int i = 0; i < size; i++)
            {
                data[i] = (byte)(i * 7);
            }
            Assert.That(udp.SendTo(data, Host, out SocketError error), Is.EqualTo(size));
            Assert.That(error, Is.EqualTo(SocketError.Success));
            return t.TakeSent().FindAll(f => f.Length >= 54 && f[12] == 0x86 && f[13] == 0xDD);
        }

        /// <summary>A Packet Too Big from a router (2001:db8::ff) reporting <paramref name="mtu"/> and quoting <paramref name="frame"/>.</summary>
        private static byte[] PacketTooBig(Ipv6TestStack t, byte[] frame, uint mtu)
        {
            int quoted = System.Math.Min(frame.Length - 14, 1280 - 48);
            byte[] body = new byte[4 + quoted];
            Frames.Put32(body, 0, mtu);
            System.Array.Copy(frame, 14, body, 4, quoted);
            return Frames.Icmpv6(2, 0, body, Frames.Ip6("2001:db8::ff"), t.LinkLocal);
        }

        /// <summary>Checks the frames are the fragments of one UDP datagram, each within <paramref name="mtu"/>; returns their data lengths.</summary>
        private static List<int> FragmentLengths(List<byte[]> frames, int mtu)
        {
            List<int> lengths = new List<int>();
            foreach (byte[] f in frames)
            {
                Assert.That(f.Length - 14, Is.LessThanOrEqualTo(mtu), "a fragment fits the path MTU");
                Assert.That(f[20], Is.EqualTo(44), "a fragment header follows the IPv6 header");
                Assert.That(f[54], Is.EqualTo(17), "fragments of a UDP datagram");
                lengths.Add(Frames.Get16(f, 18) - 8);
            }
            return lengths;
        }

        [Test]
        public void PacketTooBigAboutUdpFragmentsLaterDatagramsToThePathMtuUntilItAges()
        {
            Ipv6TestStack t = Stack(out Socket udp);
            List<byte[]> whole = SendDatagram(t, udp, 1400);
            Assert.That(whole.Count, Is.EqualTo(1), "1400 + 8 + 40 fits the link's 1500");
            Assert.That(whole[0][20], Is.EqualTo(17));

            t.Inject(PacketTooBig(t, whole[0], 1300));
            Assert.That(t.Counter(Ipv6Statistics.PacketTooBigRx), Is.EqualTo(1));
            Assert.That(t.Counter(Ipv6Statistics.PacketTooBigIgnored), Is.Zero);
            Assert.That(t.Counter(Ipv6Statistics.PathMtuLowered), Is.EqualTo(1));

            // 1408 bytes after the IPv6 header: pieces of (1300 - 40 - 8) & ~7 = 1248 bytes, then the 160 left.
            Assert.That(FragmentLengths(SendDatagram(t, udp, 1400), 1300), Is.EqualTo(new[] { 1248, 160 }));

            // Below 1280 is taken as 1280 (RFC 8201 section 4): (1280 - 48) & ~7 = 1232.
            t.Inject(PacketTooBig(t, whole[0], 1000));
            Assert.That(FragmentLengths(SendDatagram(t, udp, 1400), 1280), Is.EqualTo(new[] { 1232, 176 }));

            // A larger report never raises the estimate (RFC 8201 section 4).
            t.Inject(PacketTooBig(t, whole[0], 1400));
            Assert.That(t.Counter(Ipv6Statistics.PathMtuLowered), Is.EqualTo(2));
            Assert.That(FragmentLengths(SendDatagram(t, udp, 1400), 1280), Is.EqualTo(new[] { 1232, 176 }));

            // A datagram within the path MTU goes whole.
            List<byte[]> small = SendDatagram(t, udp, 1000);
            Assert.That(small.Count, Is.EqualTo(1));
            Assert.That(small[0][20], Is.EqualTo(17));

            // Ten minutes after it was lowered, the link MTU is tried again.
            t.Run(10 * 60 * 1000, 10000);
            t.LearnHost();
            List<byte[]> again = SendDatagram(t, udp, 1400);
            Assert.That(again.Count, Is.EqualTo(1));
            Assert.That(again[0][20], Is.EqualTo(17), "no fragment header");
            Assert.That(t.Counter(Ipv6Statistics.PathMtuExpired), Is.EqualTo(1));
            udp.Close();
            t.AssertIdle();
        }

        [Test]
        public void PacketTooBigAboutAPortNobodyHoldsIsIgnored()
        {
            Ipv6TestStack t = Stack(out Socket udp);
            List<byte[]> whole = SendDatagram(t, udp, 1400);
            udp.Close();
            t.Inject(PacketTooBig(t, whole[0], 1300));
            Assert.That(t.Counter(Ipv6Statistics.PacketTooBigIgnored), Is.EqualTo(1));
            Assert.That(t.Counter(Ipv6Statistics.PathMtuLowered), Is.Zero);
            t.AssertIdle();
        }

        [Test]
        public void ANewTcpConnectionStartsFromTheDestinationsPathMtu()
        {
            Ipv6TestStack t = Stack(out Socket udp);
            List<byte[]> whole = SendDatagram(t, udp, 1400);
            t.Inject(PacketTooBig(t, whole[0], 1280));
            Socket c = t.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(c.Connect(new IPEndPoint(Host.Address, 80)), Is.EqualTo(SocketError.InProgress));
            byte[] syn = t.TakeSent().Find(f => f.Length >= 74 && f[12] == 0x86 && f[13] == 0xDD && f[20] == 6);
            Assert.That(syn, Is.Not.Null);
            // The MSS option (kind 2, length 4) is the first option: 1280 - 40 - 20.
            Assert.That(syn[54 + 20], Is.EqualTo(2));
            Assert.That(Frames.Get16(syn, 54 + 22), Is.EqualTo(1280 - 60));
            c.GetTcpInfo(out TcpInfo info);
            Assert.That(info.PathMtu, Is.EqualTo(1280));
            c.Abort();
            udp.Close();
            t.Stack.Poll();
            t.AssertIdle();
        }

        [Test]
        public void TheTableIsBoundedAndAnEstimateLivesAtLeastFiveMinutes()
        {
            long[] counters = new long[Ipv6Statistics.Count];
            PathMtuCache cache = new PathMtuCache(2, Duration.FromSeconds(60), counters);
            Assert.That(cache.Age, Is.EqualTo(Duration.FromSeconds(300)), "RFC 8201 section 4: not less than 5 minutes");
            Instant now = Instant.FromNanoseconds(1);
            IPv6Address a = new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
            IPv6Address b = new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
            IPv6Address c = new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 3);
            Assert.That(cache.MtuFor(a, 1500, now), Is.EqualTo(1500));
            Assert.That(cache.Lower(a, 1400, 1500, now), Is.True);
            Assert.That(cache.Lower(b, 1300, 1500, now + Duration.FromSeconds(1)), Is.True);
            Assert.That(cache.Lower(c, 1450, 1500, now + Duration.FromSeconds(2)), Is.True);
            Assert.That(cache.Count, Is.EqualTo(2));
            Assert.That(counters[Ipv6Statistics.PathMtuEvicted], Is.EqualTo(1));
            Assert.That(cache.MtuFor(a, 1500, now + Duration.FromSeconds(3)), Is.EqualTo(1500), "the oldest gave way");
            Assert.That(cache.MtuFor(b, 1500, now + Duration.FromSeconds(3)), Is.EqualTo(1300));
            Assert.That(cache.MtuFor(b, 1280, now + Duration.FromSeconds(3)), Is.EqualTo(1280), "never above the link MTU");
            Assert.That(cache.MtuFor(c, 1500, now + Duration.FromSeconds(301)), Is.EqualTo(1450));
            Assert.That(cache.MtuFor(c, 1500, now + Duration.FromSeconds(302)), Is.EqualTo(1500));
        }
    }
}
