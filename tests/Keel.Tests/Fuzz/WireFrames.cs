using System;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// Frames from the host (198.18.0.1, 02:00:00:00:00:01) to the stack under test (198.18.0.2,
    /// 02:00:00:00:00:02) around fuzzed bytes, with lengths and checksums made right (RFC 791, 768, 793, 792)
    /// so the input reaches the parser behind them instead of dying at the checksum.
    /// </summary>
    public static class WireFrames
    {
        public const int EtherTypeIpv4 = 0x0800;
        public const int EtherTypeArp = 0x0806;

        /// <summary>Ethernet header (to the stack, from the host) and <paramref name="payload"/>.</summary>
        public static byte[] Ethernet(int etherType, ReadOnlySpan<byte> payload)
        {
            byte[] f = new byte[14 + payload.Length];
            f[0] = 0x02;
            f[5] = 0x02;
            f[6] = 0x02;
            f[11] = 0x01;
            f[12] = (byte)(etherType >> 8);
            f[13] = (byte)etherType;
            payload.CopyTo(f.AsSpan(14));
            return f;
        }

        /// <summary>
        /// An IPv4 datagram from the host carrying <paramref name="payload"/> (ident <paramref name="id"/>, fragment
        /// field <paramref name="fragment"/>), checksums fixed. The transport checksum only when it is not a fragment.
        /// </summary>
        public static byte[] Ipv4(int protocol, ReadOnlySpan<byte> payload, ushort id = 0x1c46, int fragment = 0x4000, int source = 1,
                                  uint destination = 0xC6120002)
        {
            int length = Math.Min(payload.Length, FuzzStack.MaxFrame - 34);
            byte[] f = new byte[34 + length];
            Ethernet(EtherTypeIpv4, default).CopyTo(f, 0);
            f[14] = 0x45;
            f[16] = (byte)((20 + length) >> 8);
            f[17] = (byte)(20 + length);
            f[18] = (byte)(id >> 8);
            f[19] = (byte)id;
            f[20] = (byte)(fragment >> 8);
            f[21] = (byte)fragment;
            f[22] = 64;
            f[23] = (byte)protocol;
            f[26] = 198;
            f[27] = 18;
            f[29] = (byte)source;
            f[30] = (byte)(destination >> 24);
            f[31] = (byte)(destination >> 16);
            f[32] = (byte)(destination >> 8);
            f[33] = (byte)destination;
            payload.Slice(0, length).CopyTo(f.AsSpan(34));
            if ((fragment & 0x3FFF) == 0)
            {
                Frames.FixChecksums(f);
            }
            else
            {
                Frames.FixHeaderChecksum(f);
            }
            return f;
        }

        /// <summary>A UDP header (RFC 768; checksum left 0, <see cref="Ipv4"/> fills it) and <paramref name="payload"/>.</summary>
        public static byte[] Udp(int sourcePort, int destinationPort, ReadOnlySpan<byte> payload)
        {
            byte[] d = new byte[8 + payload.Length];
            d[0] = (byte)(sourcePort >> 8);
            d[1] = (byte)sourcePort;
            d[2] = (byte)(destinationPort >> 8);
            d[3] = (byte)destinationPort;
            d[4] = (byte)(d.Length >> 8);
            d[5] = (byte)d.Length;
            payload.CopyTo(d.AsSpan(8));
            return d;
        }
    }
}
