using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Ipv6;
using Keel.Net.Sockets;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net.Ipv6
{
    /// <summary>
    /// TCP and UDP over IPv6, segment by segment, the test playing the host fe80::1: checksums over the IPv6
    /// pseudo-header (RFC 8200 section 8.1), MSS = MTU - 60, RST and ICMPv6 port unreachable (RFC 4443 section 3.1,
    /// code 4) for closed ports, a zero UDP checksum refused (RFC 8200 section 8.1), the dual-stack listener
    /// (IPV6_V6ONLY off by default) and V6Only, path MTU from Packet Too Big (RFC 8201: never below 1280), and SYN
    /// cookies over IPv6.
    /// </summary>
    public class Ipv6TransportTests
    {
        private const int Syn = 0x02;
        private const int Rst = 0x04;
        private const int Ack = 0x10;

        // ------------------------------------------------------------ frames

        /// <summary>An Ethernet/IPv6 frame carrying TCP segment <paramref name="s"/> from the host, checksum over the IPv6 pseudo-header.</summary>
        private static byte[] Tcp6(Seg s, byte[] source, byte[] destination)
        {
            byte[] v4 = Frames.Tcp(s);
            int tcpLength = v4.Length - 34;
            byte[] tcp = new byte[tcpLength];
            System.Array.Copy(v4, 34, tcp, 0, tcpLength);
            tcp[16] = 0;
            tcp[17] = 0;
            Frames.Put16(tcp, 16, Frames.Checksum(tcp, 0, tcpLength, Frames.PseudoHeaderSum6(source, destination, 6, tcpLength)));
            return Frames.IPv6(6, tcp, source, destination);
        }

        /// <summary>A UDP datagram from the host over IPv6 (checksum computed unless <paramref name="zeroChecksum"/>).</summary>
        private static byte[] Udp6(int sourcePort, int destinationPort, byte[] payload, byte[] source, byte[] destination, bool zeroChecksum = false)
        {
            byte[] udp = new byte[8 + payload.Length];
            Frames.Put16(udp, 0, sourcePort);
            Frames.Put16(udp, 2, destinationPort);
            Frames.Put16(udp, 4, udp.Length);
            payload.CopyTo(udp, 8);
            if (!zeroChecksum)
            {
                Frames.Put16(udp, 6, Frames.Checksum(udp, 0, udp.Length, Frames.PseudoHeaderSum6(source, destination, 17, udp.Length)));
            }
            return Frames.IPv6(17, udp, source, destination);
        }

        private static bool IsUdp4(byte[] f) => f.Length >= 42 && f[12] == 8 && f[13] == 0 && f[23] == 17;

        private static bool IsIpv6(byte[] f, int nextHeader) => f.Length >= 54 && f[12] == 0x86 && f[13] == 0xDD && f[20] == nextHeader;

        /// <summary>True when the transport checksum of a sent IPv6 frame (no extension headers) verifies.</summary>
        private static bool ChecksumValid6(byte[] f)
        {
            int length = Frames.Get16(f, 18);
            byte[] source = new byte[16];
            byte[] destination = new byte[16];
            System.Array.Copy(f, 22, source, 0, 16);
            System.Array.Copy(f, 38, destination, 0, 16);
            return Frames.Checksum(f, 54, length, Frames.PseudoHeaderSum6(source, destination, f[20], length)) == 0;
        }

        /// <summary>The TCP segment of a sent IPv6 frame, parsed by the IPv4 parser from an IPv4-shaped copy.</summary>
        private static Seg ParseTcp6(byte[] f)
        {
            int tcpLength = Frames.Get16(f, 18);
            byte[] v4 = new byte[34 + tcpLength];
            Frames.Put16(v4, 16, 20 + tcpLength);
            System.Array.Copy(f, 54, v4, 34, tcpLength);
            return Frames.ParseTcp(v4);
        }

        private static List<Seg> SentTcp6(Ipv6TestStack t)
        {
            List<Seg> segments = new List<Seg>();
            foreach (byte[] f in t.TakeSent())
            {
                if (IsIpv6(f, 6))
                {
                    Assert.That(ChecksumValid6(f), Is.True, "TCP checksum over the IPv6 pseudo-header");
                    segments.Add(ParseTcp6(f));
                }
            }
            return segments;
        }

        private static Seg SingleTcp6(Ipv6TestStack t)
        {
            List<Seg> segments = SentTcp6(t);
            Assert.That(segments.Count, Is.EqualTo(1), "one TCP segment sent");
            return segments[0];
        }

        private static Socket Listen(NetStack stack, IPAddress address, int port, bool v6Only = false, int backlog = 4)
        {
            Socket listener = stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            listener.V6Only = v6Only;
            Assert.That(listener.Bind(new IPEndPoint(address, port)), Is.EqualTo(SocketError.Success));
            Assert.That(listener.Listen(backlog), Is.EqualTo(SocketError.Success));
            return listener;
        }

        /// <summary>Passive open from fe80::1 port 40001 to port 80; returns the SYN-ACK and the accepted socket.</summary>
        private static Seg Establish(Ipv6TestStack t, out Socket accepted, int mss = 1440, bool timestamps = false)
        {
            Seg syn = Seg.Syn(1000, mss: mss);
            if (timestamps)
            {
                syn.WithTs(5000, 0);
            }
            t.Inject(Tcp6(syn, Frames.HostLinkLocal, t.LinkLocal));
            Seg synAck = SingleTcp6(t);
            Seg ack = Seg.Ack(1001, synAck.Sequence + 1);
            if (timestamps)
            {
                ack.WithTs(5001, synAck.TsVal);
            }
            t.Inject(Tcp6(ack, Frames.HostLinkLocal, t.LinkLocal));
            accepted = null;
            return synAck;
        }

        /// <summary>::ffff:a.b.c.d, built from RFC 4291 section 2.5.5.2's layout rather than the code under test.</summary>
        private static IPAddress Mapped(IPv4Address v4) => new IPv6Address(0, 0xFFFF00000000UL | v4.Value);

        // ------------------------------------------------------------ TCP

        [Test]
        public void PassiveOpenOverIpv6AnnouncesMtuLess60AndCarriesData()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            Socket listener = Listen(t.Stack, IPAddress.IPv6Any, 80);
            Seg synAck = Establish(t, out _);
            Assert.That(synAck.Flags, Is.EqualTo(Syn | Ack));
            Assert.That(synAck.Acknowledgment, Is.EqualTo(1001u));
            Assert.That(synAck.Mss, Is.EqualTo(1500 - 60), "MSS = MTU - 40 (IPv6) - 20 (TCP)");
            Assert.That(listener.Accept(out Socket accepted), Is.EqualTo(SocketError.Success));
            Assert.That(accepted.RemoteEndPoint, Is.EqualTo(new IPEndPoint(new IPv6Address(0xFE80000000000000UL, 1), 40001)));
            Assert.That(accepted.LocalEndPoint, Is.EqualTo(new IPEndPoint(t.Stack.Ipv6LinkLocal, 80)));

            // Data in: acknowledged; data out: one segment of the bytes written, from our link-local address.
            byte[] hello = System.Text.Encoding.ASCII.GetBytes("hello over ipv6");
            t.Inject(Tcp6(Seg.Data(1001, synAck.Sequence + 1, hello), Frames.HostLinkLocal, t.LinkLocal));
            byte[] buffer = new byte[64];
            Assert.That(accepted.Receive(buffer, out SocketError error), Is.EqualTo(hello.Length));
            Assert.That(error, Is.EqualTo(SocketError.Success));
            // Two full-sized segments (a smaller tail would wait for the ACK, Nagle).
            Assert.That(accepted.Send(new byte[2880], out error), Is.EqualTo(2880));
            t.Stack.Poll();
            List<Seg> sent = SentTcp6(t);
            int payload = 0;
            foreach (Seg s in sent)
            {
                Assert.That(s.PayloadLength, Is.LessThanOrEqualTo(1440));
                payload += s.PayloadLength;
                Assert.That(s.Acknowledgment, Is.EqualTo(1001u + (uint)hello.Length));
            }
            Assert.That(payload, Is.EqualTo(2880));
            accepted.Abort();
            listener.Close();
            t.AssertIdle();
        }

        [Test]
        public void ClosedPortAnswersResetOverIpv6()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.Inject(Tcp6(Seg.Syn(1000, mss: 1440), Frames.HostLinkLocal, t.LinkLocal));
            Seg rst = SingleTcp6(t);
            // RFC 9293 section 3.10.7.1: no ACK in the SYN, so <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
            Assert.That(rst.Flags, Is.EqualTo(Rst | Ack));
            Assert.That(rst.Sequence, Is.Zero);
            Assert.That(rst.Acknowledgment, Is.EqualTo(1001u));
            t.AssertIdle();
        }

        [Test]
        public void DualStackListenerAcceptsIpv4AndV6OnlyDoesNot()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.S.LearnHost();
            t.TakeSent();
            Socket dual = Listen(t.Stack, IPAddress.IPv6Any, 80);
            t.Inject(Frames.Tcp(Seg.Syn(1000, mss: 1460).WithPorts(40001, 80)));
            byte[] synAck = t.TakeSent().Find(Frames.IsTcp);
            Assert.That(synAck, Is.Not.Null, "an IPv4 SYN-ACK from the :: listener");
            Seg s = Frames.ParseTcp(synAck);
            Assert.That(s.Flags, Is.EqualTo(Syn | Ack));
            Assert.That(s.Mss, Is.EqualTo(1460), "MSS = MTU - 40 over IPv4");
            t.Inject(Frames.Tcp(Seg.Ack(1001, s.Sequence + 1).WithPorts(40001, 80)));
            Assert.That(dual.Accept(out Socket accepted), Is.EqualTo(SocketError.Success));
            // Linux and .NET report an IPv4 peer of an IPv6 socket as IPv4-mapped (RFC 4291 section 2.5.5.2).
            Assert.That(accepted.RemoteEndPoint, Is.EqualTo(new IPEndPoint(Mapped(NetPair.AddressA), 40001)), "an IPv4 peer, mapped");
            Assert.That(accepted.LocalEndPoint, Is.EqualTo(new IPEndPoint(Mapped(NetPair.AddressB), 80)));
            accepted.Abort();
            dual.Close();
            t.Stack.Poll();
            t.TakeSent();

            Socket v6Only = Listen(t.Stack, IPAddress.IPv6Any, 81, v6Only: true);
            t.Inject(Frames.Tcp(Seg.Syn(2000, mss: 1460).WithPorts(40002, 81)));
            byte[] answer = t.TakeSent().Find(Frames.IsTcp);
            Assert.That(answer, Is.Not.Null);
            Assert.That(Frames.ParseTcp(answer).Flags, Is.EqualTo(Rst | Ack), "a V6Only listener does not take IPv4");
            t.Inject(Tcp6(Seg.Syn(3000, mss: 1440).WithPorts(40003, 81), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(SingleTcp6(t).Flags, Is.EqualTo(Syn | Ack), "but does take IPv6");

            // An IPv4 listener never takes IPv6.
            Socket v4 = Listen(t.Stack, IPAddress.Any, 82);
            t.Inject(Tcp6(Seg.Syn(4000, mss: 1440).WithPorts(40004, 82), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(SingleTcp6(t).Flags, Is.EqualTo(Rst | Ack));
            v6Only.Close();
            v4.Close();
            t.AssertIdle();
        }

        private static SocketError BindOne(NetStack stack, ProtocolType protocol, IPAddress address, int port, bool v6Only, List<Socket> held)
        {
            Socket s = stack.CreateSocket(protocol == ProtocolType.Tcp ? SocketType.Stream : SocketType.Dgram, protocol);
            s.V6Only = v6Only;
            SocketError error = s.Bind(new IPEndPoint(address, port));
            held.Add(s);
            return error;
        }

        /// <summary>
        /// Which bindings of one port conflict, as Linux decides it (IPV6_V6ONLY, ipv6(7)): :: with V6Only and 0.0.0.0
        /// share no address, so either may come first; :: without V6Only takes IPv4 too and conflicts with both
        /// 0.0.0.0 and an IPv4 address of ours; distinct addresses of ours never conflict.
        /// </summary>
        [TestCase(ProtocolType.Tcp)]
        [TestCase(ProtocolType.Udp)]
        public void AV6OnlyBindingLeavesThePortToIpv4AndBack(ProtocolType protocol)
        {
            Ipv6TestStack t = new Ipv6TestStack();
            NetStack stack = t.Stack;
            List<Socket> held = new List<Socket>();
            Assert.That(BindOne(stack, protocol, IPAddress.IPv6Any, 80, true, held), Is.EqualTo(SocketError.Success));
            Assert.That(BindOne(stack, protocol, IPAddress.Any, 80, false, held), Is.EqualTo(SocketError.Success), "V6Only :: then 0.0.0.0");
            Assert.That(BindOne(stack, protocol, IPAddress.IPv6Any, 80, true, held), Is.EqualTo(SocketError.AddressAlreadyInUse));
            Assert.That(BindOne(stack, protocol, stack.Ipv6LinkLocal, 80, false, held), Is.EqualTo(SocketError.AddressAlreadyInUse),
                "an IPv6 address of ours is inside ::");
            Assert.That(BindOne(stack, protocol, NetPair.AddressB, 80, false, held), Is.EqualTo(SocketError.AddressAlreadyInUse),
                "an IPv4 address of ours is inside 0.0.0.0");

            Assert.That(BindOne(stack, protocol, IPAddress.Any, 81, false, held), Is.EqualTo(SocketError.Success));
            Assert.That(BindOne(stack, protocol, IPAddress.IPv6Any, 81, false, held), Is.EqualTo(SocketError.AddressAlreadyInUse),
                "a dual-stack :: takes IPv4 too");
            Assert.That(BindOne(stack, protocol, IPAddress.IPv6Any, 81, true, held), Is.EqualTo(SocketError.Success), "0.0.0.0 then V6Only ::");

            Assert.That(BindOne(stack, protocol, IPAddress.IPv6Any, 82, false, held), Is.EqualTo(SocketError.Success));
            Assert.That(BindOne(stack, protocol, IPAddress.Any, 82, false, held), Is.EqualTo(SocketError.AddressAlreadyInUse));
            Assert.That(BindOne(stack, protocol, NetPair.AddressB, 82, false, held), Is.EqualTo(SocketError.AddressAlreadyInUse));
            Assert.That(BindOne(stack, protocol, IPAddress.IPv6Any, 82, true, held), Is.EqualTo(SocketError.AddressAlreadyInUse));

            Assert.That(BindOne(stack, protocol, stack.Ipv6LinkLocal, 83, false, held), Is.EqualTo(SocketError.Success));
            Assert.That(BindOne(stack, protocol, NetPair.AddressB, 83, false, held), Is.EqualTo(SocketError.Success),
                "an IPv6 and an IPv4 address of ours share nothing");
            Assert.That(BindOne(stack, protocol, stack.Ipv6LinkLocal, 83, true, held), Is.EqualTo(SocketError.AddressAlreadyInUse));
            foreach (Socket s in held)
            {
                s.Close();
            }
            t.Stack.Poll();
            t.AssertIdle();
        }

        [Test]
        public void V6OnlyAndIpv4ListenersOnOnePortEachTakeTheirFamily()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.S.LearnHost();
            t.TakeSent();
            Socket v6 = Listen(t.Stack, IPAddress.IPv6Any, 80, v6Only: true);
            Socket v4 = Listen(t.Stack, IPAddress.Any, 80);
            t.Inject(Frames.Tcp(Seg.Syn(1000, mss: 1460).WithPorts(40001, 80)));
            byte[] synAck = t.TakeSent().Find(Frames.IsTcp);
            Assert.That(Frames.ParseTcp(synAck).Flags, Is.EqualTo(Syn | Ack));
            t.Inject(Frames.Tcp(Seg.Ack(1001, Frames.ParseTcp(synAck).Sequence + 1).WithPorts(40001, 80)));
            Assert.That(v4.Accept(out Socket a4), Is.EqualTo(SocketError.Success), "IPv4 goes to the 0.0.0.0 listener");
            Assert.That(v6.Accept(out _), Is.EqualTo(SocketError.WouldBlock));

            Seg s6 = Establish(t, out _);
            Assert.That(s6.Flags, Is.EqualTo(Syn | Ack));
            Assert.That(v6.Accept(out Socket a6), Is.EqualTo(SocketError.Success), "IPv6 goes to the V6Only listener");
            Assert.That(a6.RemoteEndPoint.Address.IsIPv6, Is.True);
            a4.Abort();
            a6.Abort();
            v4.Close();
            v6.Close();
            t.Stack.Poll();
            t.AssertIdle();
        }

        [Test]
        public void Ipv4MappedPeersAreReachedOverIpv4()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.S.LearnHost();
            t.TakeSent();
            IPEndPoint host = new IPEndPoint(Mapped(NetPair.AddressA), 9);

            // UDP: an unbound socket sending to a mapped address binds to :: and sends IPv4.
            Socket u = t.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(u.SendTo(new byte[] { 1, 2 }, host, out SocketError error), Is.EqualTo(2));
            Assert.That(error, Is.EqualTo(SocketError.Success));
            List<byte[]> sent = t.TakeSent();
            Assert.That(sent.Count, Is.EqualTo(1));
            Assert.That(IsUdp4(sent[0]), Is.True, "an IPv4 datagram");
            Assert.That(Frames.Get16(sent[0], 36), Is.EqualTo(9));
            Assert.That(u.LocalEndPoint.Address, Is.EqualTo(IPAddress.IPv6Any));
            u.Close();

            // TCP: connect to a mapped address; the SYN is IPv4, the endpoints are reported mapped.
            Socket c = t.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(c.Connect(new IPEndPoint(Mapped(NetPair.AddressA), 80)), Is.EqualTo(SocketError.InProgress));
            byte[] syn = t.TakeSent().Find(Frames.IsTcp);
            Assert.That(syn, Is.Not.Null, "an IPv4 SYN");
            Assert.That(Frames.ParseTcp(syn).Flags, Is.EqualTo(Syn));
            Assert.That(c.RemoteEndPoint, Is.EqualTo(new IPEndPoint(Mapped(NetPair.AddressA), 80)));
            Assert.That(c.LocalEndPoint.Address, Is.EqualTo(Mapped(NetPair.AddressB)));
            c.Abort();
            t.TakeSent();

            // Bound to our IPv4 address written mapped: an IPv4 binding (0.0.0.0 on the port conflicts).
            Socket b = t.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(b.Bind(new IPEndPoint(Mapped(NetPair.AddressB), 90)), Is.EqualTo(SocketError.Success));
            Assert.That(b.LocalEndPoint, Is.EqualTo(new IPEndPoint(Mapped(NetPair.AddressB), 90)));
            Socket b4 = t.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(b4.Bind(new IPEndPoint(IPAddress.Any, 90)), Is.EqualTo(SocketError.AddressAlreadyInUse));
            b4.Close();
            b.Close();

            // V6Only: no IPv4, mapped or not (Linux: EINVAL on bind, and no route on connect).
            Socket v6 = t.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            v6.V6Only = true;
            Assert.That(v6.Bind(new IPEndPoint(Mapped(NetPair.AddressB), 91)), Is.EqualTo(SocketError.InvalidArgument));
            Assert.That(v6.Connect(new IPEndPoint(Mapped(NetPair.AddressA), 80)), Is.EqualTo(SocketError.AddressFamilyNotSupported));
            v6.Close();
            t.Stack.Poll();
            t.AssertIdle();
        }

        [Test]
        public void Ipv4MappedAddressesInIpv6PacketsAreDroppedAndCounted()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            Socket u = t.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(u.Bind(new IPEndPoint(IPAddress.IPv6Any, 5201)), Is.EqualTo(SocketError.Success));
            // RFC 6890 section 2.2.3: ::ffff:0:0/96 is neither a valid source nor a valid destination.
            byte[] mapped = Frames.Ip6("::ffff:198.18.0.1");
            t.Inject(Udp6(40000, 5201, new byte[] { 1 }, mapped, t.LinkLocal));
            t.Inject(Udp6(40000, 5201, new byte[] { 1 }, Frames.HostLinkLocal, Frames.Ip6("::ffff:198.18.0.2")));
            t.Inject(Icmpv6EchoFrom(mapped, t.LinkLocal));
            Assert.That(t.Counter(Ipv6Statistics.MappedAddress), Is.EqualTo(3));
            Assert.That(u.Available, Is.Zero);
            Assert.That(t.TakeSent(), Is.Empty, "no answer, no error");
            u.Close();
            t.AssertIdle();
        }

        private static byte[] Icmpv6EchoFrom(byte[] source, byte[] destination) =>
            Frames.Icmpv6(128, 0, new byte[] { 0, 1, 0, 1, 0x61 }, source, destination);

        [Test]
        public void PacketTooBigLowersTheMssButNeverBelow1280()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            Socket listener = Listen(t.Stack, IPAddress.IPv6Any, 80);
            Seg synAck = Establish(t, out _);
            Assert.That(listener.Accept(out Socket accepted), Is.EqualTo(SocketError.Success));
            accepted.Send(new byte[1440], out _);
            t.Stack.Poll();
            List<byte[]> frames = t.TakeSent();
            byte[] first = frames.Find(f => IsIpv6(f, 6));
            Assert.That(ParseTcp6(first).PayloadLength, Is.EqualTo(1440));

            // RFC 4443 section 3.2: type 2, code 0, the MTU, then as much of the packet as fits.
            byte[] quoted = new byte[first.Length - 14];
            System.Array.Copy(first, 14, quoted, 0, quoted.Length);
            byte[] body = new byte[4 + quoted.Length];
            Frames.Put32(body, 0, 1000);
            quoted.CopyTo(body, 4);
            t.Inject(Frames.Icmpv6(2, 0, body, Frames.HostLinkLocal, t.LinkLocal));
            List<Seg> resent = SentTcp6(t);
            Assert.That(resent.Count, Is.GreaterThanOrEqualTo(1), "the segment again, cut to the new MSS");
            Assert.That(resent[0].PayloadLength, Is.EqualTo(1280 - 60), "an MTU below 1280 is taken as 1280 (RFC 8201 section 4)");
            Assert.That(resent[0].Sequence, Is.EqualTo(synAck.Sequence + 1));
            accepted.GetTcpInfo(out TcpInfo info);
            Assert.That(info.PathMtu, Is.EqualTo(1280));
            Assert.That(t.Counter(Ipv6Statistics.PacketTooBigRx), Is.EqualTo(1));
            Assert.That(t.Counter(Ipv6Statistics.PacketTooBigIgnored), Is.Zero);

            // A Packet Too Big quoting a segment not in flight changes nothing (RFC 5927).
            Frames.Put32(quoted, 40 + 4, synAck.Sequence + 100000);
            quoted.CopyTo(body, 4);
            t.Inject(Frames.Icmpv6(2, 0, body, Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(t.Counter(Ipv6Statistics.PacketTooBigIgnored), Is.EqualTo(1));
            accepted.Abort();
            listener.Close();
            t.AssertIdle();
        }

        [Test]
        public void SynCookiesWorkOverIpv6()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            Socket listener = Listen(t.Stack, IPAddress.IPv6Any, 80, backlog: 1);
            // The first SYN takes the one SYN-queue entry; the second is answered with a cookie.
            t.Inject(Tcp6(Seg.Syn(1000, mss: 1440).WithPorts(40001, 80), Frames.HostLinkLocal, t.LinkLocal));
            SingleTcp6(t);
            t.Inject(Tcp6(Seg.Syn(5000, mss: 1440).WithPorts(40002, 80), Frames.HostLinkLocal, t.LinkLocal));
            Seg cookieSynAck = SingleTcp6(t);
            Assert.That(cookieSynAck.Mss, Is.EqualTo(1440));
            Assert.That(t.Stack.Counter(NetStatistics.TcpSynCookiesSent), Is.EqualTo(1));
            t.Inject(Tcp6(Seg.Ack(5001, cookieSynAck.Sequence + 1).WithPorts(40002, 80), Frames.HostLinkLocal, t.LinkLocal));
            Assert.That(t.Stack.Counter(NetStatistics.TcpSynCookiesReceived), Is.EqualTo(1));
            Assert.That(t.Stack.Counter(NetStatistics.TcpSynCookiesFailed), Is.Zero);
            Assert.That(listener.Accept(out Socket accepted), Is.EqualTo(SocketError.Success));
            Assert.That(accepted.RemoteEndPoint.Port, Is.EqualTo(40002));
            accepted.GetTcpInfo(out TcpInfo info);
            Assert.That(info.SendMss, Is.EqualTo(1440), "the cookie's MSS, from the IPv6 table");

            // A cookie ACK from another address does not check.
            byte[] other = Frames.Ip6("fe80::2");
            t.Inject(Tcp6(Seg.Ack(5001, cookieSynAck.Sequence + 1).WithPorts(40003, 80), other, t.LinkLocal));
            Assert.That(t.Stack.Counter(NetStatistics.TcpSynCookiesFailed), Is.EqualTo(1));
            accepted.Abort();
            listener.Close();
            t.AssertIdle();
        }

        // ------------------------------------------------------------ UDP

        [Test]
        public void UdpOverIpv6ReachesADualStackSocketAndIsAnswered()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            Socket u = t.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(u.Bind(new IPEndPoint(IPAddress.IPv6Any, 5201)), Is.EqualTo(SocketError.Success));
            byte[] ping = { 1, 2, 3, 4, 5 };
            t.Inject(Udp6(40000, 5201, ping, Frames.HostLinkLocal, t.LinkLocal));
            byte[] buffer = new byte[64];
            Assert.That(u.ReceiveFrom(buffer, out IPEndPoint from, out SocketError error), Is.EqualTo(5));
            Assert.That(error, Is.EqualTo(SocketError.Success));
            Assert.That(from, Is.EqualTo(new IPEndPoint(new IPv6Address(0xFE80000000000000UL, 1), 40000)));
            Assert.That(u.SendTo(new byte[] { 9, 8, 7 }, from, out error), Is.EqualTo(3));
            Assert.That(error, Is.EqualTo(SocketError.Success));
            List<byte[]> sent = t.TakeSent().FindAll(f => IsIpv6(f, 17));
            Assert.That(sent.Count, Is.EqualTo(1));
            Assert.That(ChecksumValid6(sent[0]), Is.True, "UDP checksum over the IPv6 pseudo-header");
            Assert.That(Frames.Get16(sent[0], 54), Is.EqualTo(5201));
            Assert.That(Frames.Get16(sent[0], 56), Is.EqualTo(40000));
            Assert.That(Frames.Ip6Text(sent[0], 22), Is.EqualTo(Frames.Ip6Text(t.LinkLocal)), "from the address the datagram came to");

            // The same socket takes IPv4 (V6Only off) and reports the IPv4 sender as IPv4-mapped; the answer to that
            // address goes out as IPv4.
            t.S.LearnHost();
            byte[] v4 = Frames.IPv4(17, 8 + 2);
            Frames.Put16(v4, 34, 40001);
            Frames.Put16(v4, 36, 5201);
            Frames.Put16(v4, 38, 10);
            Frames.FixChecksums(v4);
            t.Inject(v4);
            Assert.That(u.ReceiveFrom(buffer, out from, out error), Is.EqualTo(2));
            Assert.That(from, Is.EqualTo(new IPEndPoint(Mapped(NetPair.AddressA), 40001)));
            t.TakeSent();
            Assert.That(u.SendTo(new byte[] { 6 }, from, out error), Is.EqualTo(1));
            List<byte[]> answers = t.TakeSent();
            Assert.That(answers.Count, Is.EqualTo(1));
            Assert.That(IsUdp4(answers[0]), Is.True, "an IPv4 datagram");
            Assert.That(Frames.Get16(answers[0], 36), Is.EqualTo(40001));

            // RFC 8200 section 8.1: a zero UDP checksum over IPv6 is discarded.
            long bad = t.Stack.Counter(NetStatistics.UdpBadChecksum);
            t.Inject(Udp6(40000, 5201, ping, Frames.HostLinkLocal, t.LinkLocal, zeroChecksum: true));
            Assert.That(t.Stack.Counter(NetStatistics.UdpBadChecksum), Is.EqualTo(bad + 1));
            Assert.That(u.Available, Is.Zero);
            u.Close();
            t.AssertIdle();
        }

        [Test]
        public void UdpToAClosedPortOverIpv6GetsPortUnreachable()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            t.Inject(Udp6(40000, 9999, new byte[20], Frames.HostLinkLocal, t.LinkLocal));
            List<byte[]> errors = Frames.OfIcmpv6Type(t.TakeSent(), 1);
            Assert.That(errors.Count, Is.EqualTo(1));
            byte[] e = errors[0];
            int icmp = Frames.IcmpOffset(e);
            Assert.That(e[icmp + 1], Is.EqualTo(4), "RFC 4443 section 3.1: code 4, port unreachable");
            Assert.That(e[icmp + 8] >> 4, Is.EqualTo(6), "quotes the datagram from its IPv6 header");
            Assert.That(Frames.Icmpv6ChecksumValid(e), Is.True);

            // Never to a multicast destination (RFC 4443 section 2.4 (e)).
            t.Inject(Udp6(40000, 9999, new byte[20], Frames.HostLinkLocal, Frames.AllNodes));
            Assert.That(Frames.OfIcmpv6Type(t.TakeSent(), 1), Is.Empty);
            t.AssertIdle();
        }

        [Test]
        public void ConnectOverIpv6PicksASourceAndAV6OnlySocketRefusesIpv4()
        {
            Ipv6TestStack t = new Ipv6TestStack();
            t.LearnHost();
            Socket c = t.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(c.Connect(new IPEndPoint(new IPv6Address(0xFE80000000000000UL, 1), 80)), Is.EqualTo(SocketError.InProgress));
            Seg syn = SingleTcp6(t);
            Assert.That(syn.Flags, Is.EqualTo(Syn));
            Assert.That(syn.Mss, Is.EqualTo(1440));
            Assert.That(c.LocalEndPoint.Address, Is.EqualTo((IPAddress)t.Stack.Ipv6LinkLocal));
            c.Abort();
            t.TakeSent();

            // Bound to one of our addresses first, in either family.
            Socket bound6 = t.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(bound6.Bind(new IPEndPoint(t.Stack.Ipv6LinkLocal, 0)), Is.EqualTo(SocketError.Success));
            Assert.That(bound6.Connect(new IPEndPoint(new IPv6Address(0xFE80000000000000UL, 1), 81)), Is.EqualTo(SocketError.InProgress));
            Assert.That(SingleTcp6(t).Flags, Is.EqualTo(Syn));
            Assert.That(bound6.Connect(new IPEndPoint(NetPair.AddressA, 81)), Is.Not.EqualTo(SocketError.InProgress), "an IPv6-bound socket has no IPv4 peer");
            bound6.Abort();
            Socket bound4 = t.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(bound4.Bind(new IPEndPoint(NetPair.AddressB, 0)), Is.EqualTo(SocketError.Success));
            Assert.That(bound4.Connect(new IPEndPoint(NetPair.AddressA, 82)), Is.EqualTo(SocketError.InProgress));
            bound4.Abort();
            t.TakeSent();

            Socket v6 = t.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            v6.V6Only = true;
            Assert.That(v6.Bind(new IPEndPoint(IPAddress.IPv6Any, 0)), Is.EqualTo(SocketError.Success));
            v6.SendTo(new byte[4], new IPEndPoint(NetPair.AddressA, 9), out SocketError error);
            Assert.That(error, Is.EqualTo(SocketError.AddressFamilyNotSupported));
            v6.Close();
            Socket other = t.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(other.Bind(new IPEndPoint(new IPv6Address(0x20010DB800000000UL, 99), 0)), Is.EqualTo(SocketError.AddressNotAvailable),
                "not one of our addresses");
            other.Close();
            t.Stack.Poll();
            t.AssertIdle();
        }
    }
}
