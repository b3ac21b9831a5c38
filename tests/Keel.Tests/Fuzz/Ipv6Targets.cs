using System;
using System.Collections.Generic;
using Keel.Tests.Fakes;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// Targets for the IPv6 parsers: a stack with IPv6 up (link-local address usable, the host fe80::1 known) fed
    /// IPv6 packets, ICMPv6 messages, Neighbor Discovery sequences and fragments, with the ICMPv6 checksum made
    /// right so the input reaches the parser behind it. Every frame sent back is checked (<see cref="SentFrameChecker"/>).
    /// </summary>
    public static class Ipv6Targets
    {
        private const int NextIcmp = 58;

        /// <summary>
        /// An IPv6 packet after the Ethernet header: the control byte's bit 0 makes the version, payload length and
        /// destination (our link-local address) right and fixes the checksum of an ICMPv6 message right after the
        /// header chain of options and routing headers.
        /// </summary>
        public static void Ipv6(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack(false, true);
            FuzzReader r = new FuzzReader(input);
            int control = r.U8();
            byte[] packet = r.Rest().ToArray();
            if ((control & 1) != 0 && packet.Length >= 40)
            {
                packet[0] = (byte)(0x60 | (packet[0] & 0x0F));
                Frames.Put16(packet, 4, Math.Min(packet.Length - 40, 0xFFFF));
                s.LinkLocal.CopyTo(packet, 24);
                FixIcmpChecksum(packet);
            }
            s.Inject(Ethernet(packet, (control & 2) != 0 ? Frames.MulticastMac(Frames.AllNodes) : Frames.StackMac));
            StackTargets.End(s);
        }

        /// <summary>
        /// One ICMPv6 message from fe80::1 (checksum fixed): control bits 0-1 choose the destination (our link-local,
        /// all-nodes, our solicited-node group, all-routers), bit 2 hop limit 1 instead of 255.
        /// </summary>
        public static void Icmpv6(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack(false, true);
            FuzzReader r = new FuzzReader(input);
            int control = r.U8();
            Send(s, control, r.Rest());
            StackTargets.End(s);
        }

        /// <summary>
        /// A sequence of ICMPv6 messages (Neighbor Discovery, MLD, echo): each record is a control byte (as in
        /// <see cref="Icmpv6"/>; bits 3-7: 100 ms steps to let pass first) and a 16-bit length and the message.
        /// </summary>
        public static void NeighborDiscovery(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack(false, true);
            FuzzReader r = new FuzzReader(input);
            while (!r.AtEnd)
            {
                int control = r.U8();
                ReadOnlySpan<byte> message = r.Chunk();
                if (control >> 3 != 0)
                {
                    s.Run((control >> 3) * 100, 100);
                }
                Send(s, control, message);
            }
            StackTargets.End(s);
        }

        /// <summary>
        /// IPv6 fragments of echo requests: each record is a control byte (bit 0: more fragments; bit 1: the second
        /// identification; bits 2-7: seconds to let pass first), a 16-bit offset (8-byte units) and a 16-bit length
        /// and the fragment's data.
        /// </summary>
        public static void Reassembly(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack(false, true);
            FuzzReader r = new FuzzReader(input);
            while (!r.AtEnd)
            {
                int control = r.U8();
                int offset = (r.U16() & 0x1FFF) * 8;
                ReadOnlySpan<byte> data = r.Chunk();
                if (control >> 2 != 0)
                {
                    s.Run((control >> 2) * 1000, 1000);
                }
                byte[] header = Frames.FragmentHeader(NextIcmp, offset, (control & 1) != 0, (control & 2) != 0 ? 0x2222u : 0x1111u);
                byte[] payload = Frames.Concat(header, data.Slice(0, Math.Min(data.Length, FuzzStack.MaxFrame - 62)).ToArray());
                s.Inject(Frames.IPv6(Frames.NextFragment, payload, Frames.HostLinkLocal, s.LinkLocal));
            }
            StackTargets.End(s);
        }

        private static void Send(FuzzStack s, int control, ReadOnlySpan<byte> message)
        {
            byte[] m = message.Slice(0, Math.Min(message.Length, FuzzStack.MaxFrame - 54)).ToArray();
            byte[] destination;
            switch (control & 3)
            {
                case 0: destination = s.LinkLocal; break;
                case 1: destination = Frames.AllNodes; break;
                case 2: destination = Frames.SolicitedNode(s.LinkLocal); break;
                default: destination = Frames.AllRouters; break;
            }
            if (m.Length >= 4)
            {
                m[2] = 0;
                m[3] = 0;
                Frames.Put16(m, 2, Frames.Checksum(m, 0, m.Length, Frames.PseudoHeaderSum6(Frames.HostLinkLocal, destination, NextIcmp, m.Length)));
            }
            byte[] mac = destination[0] == 0xFF ? Frames.MulticastMac(destination) : Frames.StackMac;
            s.Inject(Frames.IPv6(NextIcmp, m, Frames.HostLinkLocal, destination, (control & 4) != 0 ? 1 : 255, mac));
        }

        private static byte[] Ethernet(byte[] packet, byte[] destinationMac)
        {
            byte[] f = new byte[14 + Math.Min(packet.Length, FuzzStack.MaxFrame - 14)];
            destinationMac.CopyTo(f, 0);
            Frames.HostMac.CopyTo(f, 6);
            f[12] = 0x86;
            f[13] = 0xDD;
            Array.Copy(packet, 0, f, 14, f.Length - 14);
            return f;
        }

        /// <summary>Walks hop-by-hop, destination options and routing headers; fixes the checksum of an ICMPv6 message behind them.</summary>
        private static void FixIcmpChecksum(byte[] p)
        {
            int next = p[6];
            int at = 40;
            for (int i = 0; i < 8 && (next == 0 || next == 60 || next == 43) && at + 2 <= p.Length; i++)
            {
                next = p[at];
                at += (p[at + 1] + 1) * 8;
            }
            if (next != NextIcmp || at + 4 > p.Length)
            {
                return;
            }
            int length = p.Length - at;
            byte[] source = p[8..24];
            byte[] destination = p[24..40];
            p[at + 2] = 0;
            p[at + 3] = 0;
            Frames.Put16(p, at + 2, Frames.Checksum(p, at, length, Frames.PseudoHeaderSum6(source, destination, NextIcmp, length)));
        }

        /// <summary>Seeds from the RFC layouts the unit tests use: an echo request, options and routing headers, a router
        /// advertisement with every option Keel reads, solicitations and advertisements, a redirect, fragments.</summary>
        internal static IEnumerable<SeedCorpus.Seed> Seeds()
        {
            byte[] us = Frames.Ip6("fe80::2");
            byte[] echo = Frames.Icmpv6Message(128, 0, Frames.EchoBody(0x1234, 1, 32), Frames.HostLinkLocal, us);
            byte[] prefix = Frames.Ip6("2001:db8:1::");
            byte[] ra = Frames.Icmpv6Message(134, 0, Frames.RouterAdvertisementBody(64, 1800, 30000, 1000,
                Frames.LinkAddressOption(1, Frames.HostMac), Frames.MtuOption(1500), Frames.PrefixOption(prefix, 64, true, true, 86400, 14400),
                Frames.RdnssOption(600, Frames.Ip6("2001:db8:1::53"))), Frames.HostLinkLocal, Frames.AllNodes);
            byte[] ns = Frames.Icmpv6Message(135, 0, Frames.NeighborSolicitationBody(us, Frames.LinkAddressOption(1, Frames.HostMac)), Frames.HostLinkLocal, us);
            byte[] na = Frames.Icmpv6Message(136, 0, Frames.NeighborAdvertisementBody(0xE0, Frames.HostLinkLocal, Frames.LinkAddressOption(2, Frames.HostMac)),
                Frames.HostLinkLocal, us);
            byte[] redirect = Frames.Icmpv6Message(137, 0, Frames.RedirectBody(Frames.Ip6("fe80::3"), Frames.Ip6("2001:db8:9::1"),
                Frames.LinkAddressOption(2, Frames.HostMac)), Frames.HostLinkLocal, us);
            byte[] query = new byte[28];
            query[0] = 130;
            Frames.Put16(query, 4, 1000);
            yield return new SeedCorpus.Seed("ipv6", "echo", Frames.Concat(new byte[] { 1 }, Frames.IPv6(NextIcmp, echo, Frames.HostLinkLocal, us)[14..]));
            yield return new SeedCorpus.Seed("ipv6", "options-routing-echo", Frames.Concat(new byte[] { 1 }, Frames.IPv6(0,
                Frames.Concat(Frames.OptionsHeader(60, 5, 2, 0, 0), Frames.OptionsHeader(43, 0x1E, 2, 1, 2), Frames.RoutingHeader(NextIcmp, 0, 0), echo),
                Frames.HostLinkLocal, us)[14..]));
            yield return new SeedCorpus.Seed("icmpv6", "echo", Frames.Concat(new byte[] { 0 }, echo));
            yield return new SeedCorpus.Seed("icmpv6", "router-advertisement", Frames.Concat(new byte[] { 1 }, ra));
            yield return new SeedCorpus.Seed("icmpv6", "mld-query", Frames.Concat(new byte[] { 5 }, query));
            List<byte> sequence = new List<byte>();
            foreach ((int control, byte[] message) in new[] { (1, ra), (0, ns), (8, na), (16, redirect), (5, query), (200, echo) })
            {
                sequence.Add((byte)control);
                sequence.Add((byte)(message.Length >> 8));
                sequence.Add((byte)message.Length);
                sequence.AddRange(message);
            }
            yield return new SeedCorpus.Seed("nd", "ra-ns-na-redirect-query-echo", sequence.ToArray());
            byte[] big = Frames.Icmpv6Message(128, 0, Frames.EchoBody(0x1234, 2, 200), Frames.HostLinkLocal, us);
            List<byte> fragments = new List<byte>();
            foreach ((int control, int offset, int start, int end) in new[] { (1, 0, 0, 104), (0, 13, 104, big.Length) })
            {
                fragments.Add((byte)control);
                fragments.Add((byte)(offset >> 8));
                fragments.Add((byte)offset);
                fragments.Add((byte)((end - start) >> 8));
                fragments.Add((byte)(end - start));
                fragments.AddRange(big[start..end]);
            }
            yield return new SeedCorpus.Seed("ipv6-reassembly", "echo-two-fragments", fragments.ToArray());
        }
    }
}
