using System.Collections.Generic;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// IPv6 frames (RFC 8200, Ethernet framing RFC 2464) for the tests, written from the RFC layouts: the header,
    /// extension headers, ICMPv6 (RFC 4443) with the pseudo-header checksum of RFC 8200 section 8.1, Neighbor
    /// Discovery messages and options (RFC 4861, RDNSS RFC 8106), MLD queries (RFC 3810) and fragments. By default
    /// frames go from the host fe80::1 (02:00:00:00:00:01) to the stack's MAC.
    /// </summary>
    public static partial class Frames
    {
        public const int IPv6Header = 40;
        public const int ProtocolIcmpv6 = 58;
        public const int NextHopByHop = 0;
        public const int NextRouting = 43;
        public const int NextFragment = 44;
        public const int NextNone = 59;
        public const int NextDestinationOptions = 60;

        public static readonly byte[] HostLinkLocal = Ip6("fe80::1");
        public static readonly byte[] AllNodes = Ip6("ff02::1");
        public static readonly byte[] AllRouters = Ip6("ff02::2");
        public static readonly byte[] Unspecified = new byte[16];

        /// <summary>The 16 bytes of an IPv6 address in text form.</summary>
        public static byte[] Ip6(string text) => System.Net.IPAddress.Parse(text).GetAddressBytes();

        /// <summary>The text form of 16 bytes.</summary>
        public static string Ip6Text(byte[] b, int offset = 0)
        {
            byte[] a = new byte[16];
            System.Array.Copy(b, offset, a, 0, 16);
            return new System.Net.IPAddress(a).ToString();
        }

        /// <summary>The Ethernet address of an IPv6 multicast group (RFC 2464 section 7: 33:33 and its last four bytes).</summary>
        public static byte[] MulticastMac(byte[] group) => new byte[] { 0x33, 0x33, group[12], group[13], group[14], group[15] };

        /// <summary>The solicited-node group of an address (RFC 4291 section 2.7.1): ff02::1:ff and its last three bytes.</summary>
        public static byte[] SolicitedNode(byte[] address)
        {
            byte[] g = Ip6("ff02::1:ff00:0");
            g[13] = address[13];
            g[14] = address[14];
            g[15] = address[15];
            return g;
        }

        /// <summary>
        /// An Ethernet frame with an IPv6 header (next header <paramref name="nextHeader"/>, hop limit
        /// <paramref name="hopLimit"/>) and <paramref name="payload"/> as it is.
        /// </summary>
        public static byte[] IPv6(int nextHeader, byte[] payload, byte[] source = null, byte[] destination = null, int hopLimit = 64,
                                  byte[] destinationMac = null, byte[] sourceMac = null)
        {
            byte[] f = new byte[EthernetHeader + IPv6Header + payload.Length];
            (destinationMac ?? StackMac).CopyTo(f, 0);
            (sourceMac ?? HostMac).CopyTo(f, 6);
            f[12] = 0x86;
            f[13] = 0xDD;
            int ip = EthernetHeader;
            f[ip] = 0x60;
            Put16(f, ip + 4, payload.Length);
            f[ip + 6] = (byte)nextHeader;
            f[ip + 7] = (byte)hopLimit;
            (source ?? HostLinkLocal).CopyTo(f, ip + 8);
            destination.CopyTo(f, ip + 24);
            payload.CopyTo(f, ip + IPv6Header);
            return f;
        }

        /// <summary>Partial sum of the IPv6 pseudo-header (RFC 8200 section 8.1): addresses, upper-layer length, next header.</summary>
        public static uint PseudoHeaderSum6(byte[] source, byte[] destination, int nextHeader, int length)
        {
            uint sum = 0;
            for (int i = 0; i < 16; i += 2)
            {
                sum += (uint)Get16(source, i) + (uint)Get16(destination, i);
            }
            return sum + (uint)(length >> 16) + (uint)(length & 0xFFFF) + (uint)nextHeader;
        }

        /// <summary>An ICMPv6 message (type, code, the rest after the checksum) with its checksum for the given addresses.</summary>
        public static byte[] Icmpv6Message(int type, int code, byte[] body, byte[] source, byte[] destination)
        {
            byte[] m = new byte[4 + body.Length];
            m[0] = (byte)type;
            m[1] = (byte)code;
            body.CopyTo(m, 4);
            Put16(m, 2, Checksum(m, 0, m.Length, PseudoHeaderSum6(source, destination, ProtocolIcmpv6, m.Length)));
            return m;
        }

        /// <summary>An Ethernet/IPv6 frame carrying an ICMPv6 message, checksum filled in.</summary>
        public static byte[] Icmpv6(int type, int code, byte[] body, byte[] source = null, byte[] destination = null, int hopLimit = 64,
                                    byte[] destinationMac = null)
        {
            source ??= HostLinkLocal;
            return IPv6(ProtocolIcmpv6, Icmpv6Message(type, code, body, source, destination), source, destination, hopLimit, destinationMac);
        }

        /// <summary>An echo request body (RFC 4443 section 4.1): identifier, sequence, <paramref name="dataLength"/> bytes of data.</summary>
        public static byte[] EchoBody(int identifier, int sequence, int dataLength)
        {
            byte[] b = new byte[4 + dataLength];
            Put16(b, 0, identifier);
            Put16(b, 2, sequence);
            for (int i = 0; i < dataLength; i++)
            {
                b[4 + i] = (byte)(i * 7 + 1);
            }
            return b;
        }

        /// <summary>True when the frame is IPv6 and its ICMPv6 message (right after the header) has a right checksum.</summary>
        public static bool Icmpv6ChecksumValid(byte[] f)
        {
            if (f.Length < EthernetHeader + IPv6Header + 4 || f[12] != 0x86 || f[13] != 0xDD)
            {
                return false;
            }
            int start = IcmpOffset(f);
            int length = Get16(f, EthernetHeader + 4) - (start - EthernetHeader - IPv6Header);
            byte[] source = new byte[16];
            byte[] destination = new byte[16];
            System.Array.Copy(f, EthernetHeader + 8, source, 0, 16);
            System.Array.Copy(f, EthernetHeader + 24, destination, 0, 16);
            return Checksum(f, start, length, PseudoHeaderSum6(source, destination, ProtocolIcmpv6, length)) == 0;
        }

        /// <summary>Where the ICMPv6 header of an IPv6 frame starts (after a hop-by-hop header if there is one); -1 when not ICMPv6.</summary>
        public static int IcmpOffset(byte[] f)
        {
            int at = EthernetHeader + IPv6Header;
            int next = f[EthernetHeader + 6];
            if (next == NextHopByHop)
            {
                next = f[at];
                at += (f[at + 1] + 1) * 8;
            }
            return next == ProtocolIcmpv6 ? at : -1;
        }

        /// <summary>The ICMPv6 type of an IPv6 frame, or -1.</summary>
        public static int Icmpv6Type(byte[] f)
        {
            if (f.Length < EthernetHeader + IPv6Header || f[12] != 0x86 || f[13] != 0xDD)
            {
                return -1;
            }
            int at = IcmpOffset(f);
            return at < 0 || at >= f.Length ? -1 : f[at];
        }

        /// <summary>The frames of <paramref name="frames"/> that carry ICMPv6 type <paramref name="type"/>.</summary>
        public static List<byte[]> OfIcmpv6Type(IEnumerable<byte[]> frames, int type)
        {
            List<byte[]> found = new List<byte[]>();
            foreach (byte[] f in frames)
            {
                if (Icmpv6Type(f) == type)
                {
                    found.Add(f);
                }
            }
            return found;
        }

        // ------------------------------------------------------------ Neighbor Discovery (RFC 4861 section 4)

        /// <summary>A link-layer address option (type 1 source, 2 target; length 1 = 8 bytes).</summary>
        public static byte[] LinkAddressOption(int type, byte[] mac)
        {
            byte[] o = new byte[8];
            o[0] = (byte)type;
            o[1] = 1;
            mac.CopyTo(o, 2);
            return o;
        }

        /// <summary>A Prefix Information option (section 4.6.2; 32 bytes).</summary>
        public static byte[] PrefixOption(byte[] prefix, int prefixLength, bool onLink, bool autonomous, uint valid, uint preferred)
        {
            byte[] o = new byte[32];
            o[0] = 3;
            o[1] = 4;
            o[2] = (byte)prefixLength;
            o[3] = (byte)((onLink ? 0x80 : 0) | (autonomous ? 0x40 : 0));
            Put32(o, 4, valid);
            Put32(o, 8, preferred);
            prefix.CopyTo(o, 16);
            return o;
        }

        /// <summary>An MTU option (section 4.6.4).</summary>
        public static byte[] MtuOption(uint mtu)
        {
            byte[] o = new byte[8];
            o[0] = 5;
            o[1] = 1;
            Put32(o, 4, mtu);
            return o;
        }

        /// <summary>A Recursive DNS Server option (RFC 8106 section 5.1).</summary>
        public static byte[] RdnssOption(uint lifetime, params byte[][] servers)
        {
            byte[] o = new byte[8 + 16 * servers.Length];
            o[0] = 25;
            o[1] = (byte)(1 + 2 * servers.Length);
            Put32(o, 4, lifetime);
            for (int i = 0; i < servers.Length; i++)
            {
                servers[i].CopyTo(o, 8 + 16 * i);
            }
            return o;
        }

        private static byte[] Join(byte[] head, byte[][] options)
        {
            List<byte> all = new List<byte>(head);
            foreach (byte[] o in options)
            {
                all.AddRange(o);
            }
            return all.ToArray();
        }

        /// <summary>The body (after the checksum) of a Neighbor Solicitation for <paramref name="target"/> (section 4.3).</summary>
        public static byte[] NeighborSolicitationBody(byte[] target, params byte[][] options)
        {
            byte[] head = new byte[20];
            target.CopyTo(head, 4);
            return Join(head, options);
        }

        /// <summary>The body of a Neighbor Advertisement (section 4.4): flags R 0x80, S 0x40, O 0x20.</summary>
        public static byte[] NeighborAdvertisementBody(int flags, byte[] target, params byte[][] options)
        {
            byte[] head = new byte[20];
            head[0] = (byte)flags;
            target.CopyTo(head, 4);
            return Join(head, options);
        }

        /// <summary>The body of a Router Advertisement (section 4.2).</summary>
        public static byte[] RouterAdvertisementBody(int curHopLimit, int routerLifetime, uint reachableTime, uint retransTimer, params byte[][] options)
        {
            byte[] head = new byte[12];
            head[0] = (byte)curHopLimit;
            Put16(head, 2, routerLifetime);
            Put32(head, 4, reachableTime);
            Put32(head, 8, retransTimer);
            return Join(head, options);
        }

        /// <summary>The body of a Redirect (section 4.5).</summary>
        public static byte[] RedirectBody(byte[] target, byte[] destination, params byte[][] options)
        {
            byte[] head = new byte[36];
            target.CopyTo(head, 4);
            destination.CopyTo(head, 20);
            return Join(head, options);
        }

        // ------------------------------------------------------------ extension headers and fragments

        /// <summary>A hop-by-hop or destination options header (RFC 8200 section 4.3, 4.6) holding <paramref name="options"/>, padded with PadN to a multiple of 8.</summary>
        public static byte[] OptionsHeader(int nextHeader, params byte[] options)
        {
            int length = (2 + options.Length + 7) / 8 * 8;
            byte[] h = new byte[length];
            h[0] = (byte)nextHeader;
            h[1] = (byte)(length / 8 - 1);
            options.CopyTo(h, 2);
            int pad = length - 2 - options.Length;
            if (pad == 1)
            {
                h[length - 1] = 0;
            }
            else if (pad > 1)
            {
                h[2 + options.Length] = 1;
                h[3 + options.Length] = (byte)(pad - 2);
            }
            return h;
        }

        /// <summary>A routing header (RFC 8200 section 4.4) of <paramref name="type"/> with <paramref name="segmentsLeft"/> and one address.</summary>
        public static byte[] RoutingHeader(int nextHeader, int type, int segmentsLeft)
        {
            byte[] h = new byte[24];
            h[0] = (byte)nextHeader;
            h[1] = 2;
            h[2] = (byte)type;
            h[3] = (byte)segmentsLeft;
            return h;
        }

        /// <summary>A fragment header (RFC 8200 section 4.5).</summary>
        public static byte[] FragmentHeader(int nextHeader, int offset, bool more, uint id)
        {
            byte[] h = new byte[8];
            h[0] = (byte)nextHeader;
            Put16(h, 2, offset | (more ? 1 : 0));
            Put32(h, 4, id);
            return h;
        }

        public static byte[] Concat(params byte[][] parts) => Join(new byte[0], parts);

        /// <summary>
        /// Fragments of <paramref name="payload"/> (what follows the fragment header: the fragmentable part) into
        /// IPv6 frames of <paramref name="fragmentSize"/> payload bytes (a multiple of 8 but the last).
        /// </summary>
        public static List<byte[]> FragmentIPv6(int nextHeader, byte[] payload, int fragmentSize, uint id, byte[] source, byte[] destination)
        {
            List<byte[]> frames = new List<byte[]>();
            for (int offset = 0; offset < payload.Length; offset += fragmentSize)
            {
                int take = System.Math.Min(fragmentSize, payload.Length - offset);
                byte[] piece = new byte[take];
                System.Array.Copy(payload, offset, piece, 0, take);
                frames.Add(IPv6(NextFragment, Concat(FragmentHeader(nextHeader, offset, offset + take < payload.Length, id), piece), source, destination));
            }
            return frames;
        }
    }
}
