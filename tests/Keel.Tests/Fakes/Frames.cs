using System.Collections.Generic;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// The one frame builder and parser of the tests (host reference code; allocates): big-endian fields, the
    /// Internet checksum (RFC 1071), Ethernet + IPv4 (RFC 791) frames, TCP segments (<see cref="Seg"/>), IPv4
    /// fragmentation and reassembly, and ICMP "fragmentation needed" (RFC 1191). By default frames go between
    /// the host 198.18.0.1 / 02:00:00:00:00:01 and the stack under test 198.18.0.2 / 02:00:00:00:00:02.
    /// </summary>
    public static partial class Frames
    {
        public const int EthernetHeader = 14;
        public const int IPv4Header = 20;
        public const int TcpHeader = 20;
        public const int ProtocolIcmp = 1;
        public const int ProtocolTcp = 6;
        public const int ProtocolUdp = 17;

        public static readonly byte[] HostMac = { 0x02, 0, 0, 0, 0, 0x01 };
        public static readonly byte[] StackMac = { 0x02, 0, 0, 0, 0, 0x02 };
        public static readonly byte[] HostIp = { 198, 18, 0, 1 };
        public static readonly byte[] StackIp = { 198, 18, 0, 2 };

        // ------------------------------------------------------------ fields

        public static void Put16(byte[] b, int i, int v)
        {
            b[i] = (byte)(v >> 8);
            b[i + 1] = (byte)v;
        }

        public static void Put32(byte[] b, int i, uint v)
        {
            b[i] = (byte)(v >> 24);
            b[i + 1] = (byte)(v >> 16);
            b[i + 2] = (byte)(v >> 8);
            b[i + 3] = (byte)v;
        }

        public static int Get16(byte[] b, int i) => (b[i] << 8) | b[i + 1];

        public static uint Get32(byte[] b, int i) => (uint)((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);

        /// <summary>The Internet checksum (RFC 1071) of <paramref name="length"/> bytes, starting from the partial sum <paramref name="initial"/>.</summary>
        public static ushort Checksum(byte[] data, int offset, int length, uint initial = 0)
        {
            uint sum = initial;
            for (int i = 0; i < length; i += 2)
            {
                int hi = data[offset + i];
                int lo = i + 1 < length ? data[offset + i + 1] : 0;
                sum += (uint)((hi << 8) | lo);
            }
            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
            return (ushort)~sum;
        }

        /// <summary>Partial sum of the IPv4 pseudo-header (RFC 9293 section 3.1) of the IPv4 frame <paramref name="frame"/>.</summary>
        public static uint PseudoHeaderSum(byte[] frame, int protocol, int length)
        {
            uint sum = 0;
            for (int i = EthernetHeader + 12; i < EthernetHeader + 20; i += 2)
            {
                sum += (uint)Get16(frame, i);
            }
            return sum + (uint)protocol + (uint)length;
        }

        // ------------------------------------------------------------ building

        /// <summary>
        /// An Ethernet frame carrying an IPv4 datagram (DF set, TTL 64, header checksum filled in) whose payload is
        /// <paramref name="payloadLength"/> zero bytes after the IP header, for the caller to fill.
        /// </summary>
        public static byte[] IPv4(int protocol, int payloadLength, byte[] sourceIp = null, byte[] destinationIp = null,
                                  byte[] sourceMac = null, byte[] destinationMac = null, ushort id = 0)
        {
            byte[] f = new byte[EthernetHeader + IPv4Header + payloadLength];
            (destinationMac ?? StackMac).CopyTo(f, 0);
            (sourceMac ?? HostMac).CopyTo(f, 6);
            f[12] = 0x08;
            int ip = EthernetHeader;
            f[ip] = 0x45;
            Put16(f, ip + 2, IPv4Header + payloadLength);
            Put16(f, ip + 4, id);
            f[ip + 6] = 0x40;
            f[ip + 8] = 64;
            f[ip + 9] = (byte)protocol;
            (sourceIp ?? HostIp).CopyTo(f, ip + 12);
            (destinationIp ?? StackIp).CopyTo(f, ip + 16);
            Put16(f, ip + 10, Checksum(f, ip, IPv4Header));
            return f;
        }

        /// <summary>The Ethernet/IPv4 frame of TCP segment <paramref name="s"/> (from the host to the stack unless told), checksums filled in.</summary>
        public static byte[] Tcp(Seg s, byte[] sourceIp = null, byte[] destinationIp = null)
        {
            byte[] options = s.OptionBytes();
            int tcpLength = TcpHeader + options.Length + s.PayloadLength;
            byte[] f = IPv4(ProtocolTcp, tcpLength, sourceIp, destinationIp);
            int t = EthernetHeader + IPv4Header;
            Put16(f, t, s.SourcePort);
            Put16(f, t + 2, s.DestinationPort);
            Put32(f, t + 4, s.Sequence);
            Put32(f, t + 8, s.Acknowledgment);
            f[t + 12] = (byte)(((TcpHeader + options.Length) / 4) << 4);
            f[t + 13] = (byte)s.Flags;
            Put16(f, t + 14, s.Window < 0 ? 65535 : s.Window);
            options.CopyTo(f, t + TcpHeader);
            int data = t + TcpHeader + options.Length;
            for (int i = 0; i < s.PayloadLength; i++)
            {
                f[data + i] = s.Payload != null ? s.Payload[i] : s.Fill;
            }
            Put16(f, t + 16, Checksum(f, t, tcpLength, PseudoHeaderSum(f, ProtocolTcp, tcpLength)));
            return f;
        }

        /// <summary>
        /// Recomputes only the IPv4 header checksum of a frame a test has changed; returns the header length, or 0
        /// (nothing done) when the frame is not IPv4 or its header does not fit.
        /// </summary>
        public static int FixHeaderChecksum(byte[] f)
        {
            if (f.Length < 34 || f[12] != 8 || f[13] != 0)
            {
                return 0;
            }
            int ihl = (f[14] & 15) * 4;
            if (ihl < 20 || 14 + ihl > f.Length)
            {
                return 0;
            }
            f[24] = 0;
            f[25] = 0;
            ushort c = Checksum(f, 14, ihl);
            f[24] = (byte)(c >> 8);
            f[25] = (byte)c;
            return ihl;
        }

        /// <summary>Recomputes the IPv4 header checksum and the TCP, UDP or ICMP checksum of a frame a test has changed.</summary>
        public static void FixChecksums(byte[] f)
        {
            int ihl = FixHeaderChecksum(f);
            if (ihl == 0)
            {
                return;
            }
            ushort c;
            int total = (f[16] << 8) | f[17];
            int length = System.Math.Min(total, f.Length - 14) - ihl;
            int t = 14 + ihl;
            if (length <= 0)
            {
                return;
            }
            uint pseudo = 0;
            for (int i = 26; i < 34; i += 2)
            {
                pseudo += (uint)((f[i] << 8) | f[i + 1]);
            }
            pseudo += (uint)f[23] + (uint)length;
            int field = f[23] == 6 ? 16 : f[23] == 17 ? 6 : f[23] == 1 ? 2 : -1;
            if (field < 0 || field + 2 > length)
            {
                return;
            }
            f[t + field] = 0;
            f[t + field + 1] = 0;
            c = Checksum(f, t, length, f[23] == 1 ? 0 : pseudo);
            f[t + field] = (byte)(c >> 8);
            f[t + field + 1] = (byte)c;
        }

        // ------------------------------------------------------------ parsing

        /// <summary>True when <paramref name="f"/> is an Ethernet/IPv4 frame carrying TCP.</summary>
        public static bool IsTcp(byte[] f) =>
            f.Length >= EthernetHeader + IPv4Header + TcpHeader && f[12] == 8 && f[13] == 0 && f[EthernetHeader + 9] == ProtocolTcp;

        /// <summary>True when the TCP checksum of the IPv4 frame <paramref name="f"/> (no IP options) is right.</summary>
        public static bool TcpChecksumValid(byte[] f)
        {
            int tcpLength = Get16(f, EthernetHeader + 2) - IPv4Header;
            return Checksum(f, EthernetHeader + IPv4Header, tcpLength, PseudoHeaderSum(f, ProtocolTcp, tcpLength)) == 0;
        }

        /// <summary>The TCP segment in an Ethernet/IPv4 frame (IP header without options): fields, options, payload.</summary>
        public static Seg ParseTcp(byte[] f)
        {
            int t = EthernetHeader + IPv4Header;
            int doff = (f[t + 12] >> 4) * 4;
            Seg a = new Seg
            {
                SourcePort = Get16(f, t),
                DestinationPort = Get16(f, t + 2),
                Sequence = Get32(f, t + 4),
                Acknowledgment = Get32(f, t + 8),
                Flags = f[t + 13],
                Window = Get16(f, t + 14),
                Sack = new List<(uint, uint)>(),
            };
            a.PayloadLength = Get16(f, EthernetHeader + 2) - IPv4Header - doff;
            a.Payload = new byte[a.PayloadLength];
            System.Array.Copy(f, t + doff, a.Payload, 0, a.PayloadLength);
            int i = t + TcpHeader;
            while (i < t + doff)
            {
                int kind = f[i];
                if (kind == 0)
                {
                    break;
                }
                if (kind == 1)
                {
                    i++;
                    continue;
                }
                int len = f[i + 1];
                if (len < 2)
                {
                    break;
                }
                switch (kind)
                {
                    case 2:
                        a.Mss = Get16(f, i + 2);
                        break;
                    case 3:
                        a.WindowScale = f[i + 2];
                        break;
                    case 4:
                        a.SackPermitted = true;
                        break;
                    case 5:
                        for (int b = i + 2; b + 8 <= i + len; b += 8)
                        {
                            a.Sack.Add((Get32(f, b), Get32(f, b + 4)));
                        }
                        break;
                    case 8:
                        a.HasTs = true;
                        a.TsVal = Get32(f, i + 2);
                        a.TsEcr = Get32(f, i + 6);
                        break;
                }
                i += len;
            }
            return a;
        }

        // ------------------------------------------------------------ fragments and ICMP errors

        /// <summary>Fragments <paramref name="payload"/> into frames with the Ethernet/IP addressing of <paramref name="template"/>.</summary>
        public static List<byte[]> FragmentIPv4(byte[] template, byte[] payload, int protocol, int mtu, ushort id)
        {
            List<byte[]> frames = new List<byte[]>();
            int maxData = (mtu - IPv4Header) & ~7;
            for (int offset = 0; offset < payload.Length; offset += maxData)
            {
                int take = System.Math.Min(maxData, payload.Length - offset);
                bool more = offset + take < payload.Length;
                byte[] f = new byte[EthernetHeader + IPv4Header + take];
                System.Array.Copy(template, 0, f, 0, EthernetHeader + IPv4Header);
                Put16(f, 16, IPv4Header + take);
                Put16(f, 18, id);
                Put16(f, 20, (offset >> 3) | (more ? 0x2000 : 0));
                f[23] = (byte)protocol;
                Put16(f, 24, 0);
                Put16(f, 24, Checksum(f, EthernetHeader, IPv4Header));
                System.Array.Copy(payload, offset, f, EthernetHeader + IPv4Header, take);
                frames.Add(f);
            }
            return frames;
        }

        /// <summary>
        /// ICMP destination unreachable, fragmentation needed (RFC 792 type 3 code 4; RFC 1191 section 4: next-hop MTU
        /// in bytes 6-7) answering the Ethernet/IPv4 frame <paramref name="offending"/>, as a router at its destination
        /// address would send it: quotes the IP header and the first <paramref name="quotedPayload"/> bytes after it.
        /// </summary>
        public static byte[] FragmentationNeeded(byte[] offending, int nextHopMtu, int quotedPayload = 8)
        {
            int ihl = (offending[EthernetHeader] & 15) * 4;
            int quote = ihl + quotedPayload;
            byte[] f = new byte[EthernetHeader + IPv4Header + 8 + quote];
            System.Array.Copy(offending, 6, f, 0, 6);  // back to the sender's MAC
            System.Array.Copy(offending, 0, f, 6, 6);
            f[12] = 8;
            f[14] = 0x45;
            Put16(f, 16, IPv4Header + 8 + quote);
            f[22] = 64;
            f[23] = ProtocolIcmp;
            System.Array.Copy(offending, 30, f, 26, 4); // from the datagram's destination
            System.Array.Copy(offending, 26, f, 30, 4); // to its source
            Put16(f, 24, Checksum(f, EthernetHeader, IPv4Header));
            f[34] = 3;
            f[35] = 4;
            Put16(f, 40, nextHopMtu);
            System.Array.Copy(offending, EthernetHeader, f, 42, quote);
            Put16(f, 36, Checksum(f, 34, 8 + quote));
            return f;
        }

        /// <summary>Joins the IP payloads of fragment frames (one datagram); null when incomplete.</summary>
        public static byte[] Reassemble(List<byte[]> frames)
        {
            int total = -1;
            SortedDictionary<int, byte[]> parts = new SortedDictionary<int, byte[]>();
            foreach (byte[] f in frames)
            {
                if (f.Length < EthernetHeader + IPv4Header || f[12] != 8 || f[13] != 0)
                {
                    continue;
                }
                int length = Get16(f, 16) - IPv4Header;
                int field = Get16(f, 20);
                int offset = (field & 0x1FFF) * 8;
                byte[] data = new byte[length];
                System.Array.Copy(f, EthernetHeader + IPv4Header, data, 0, length);
                parts[offset] = data;
                if ((field & 0x2000) == 0)
                {
                    total = offset + length;
                }
            }
            if (total < 0)
            {
                return null;
            }
            byte[] result = new byte[total];
            int have = 0;
            foreach (KeyValuePair<int, byte[]> p in parts)
            {
                System.Array.Copy(p.Value, 0, result, p.Key, p.Value.Length);
                have += p.Value.Length;
            }
            return have == total ? result : null;
        }
    }
}
