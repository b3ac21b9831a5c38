using System.Collections.Generic;

namespace Keel.Tests.Net
{
    /// <summary>Test-side IPv4 fragmentation and reassembly of frames, ICMP errors about them (host reference code; allocates).</summary>
    internal static class FrameBuilder
    {
        /// <summary>Fragments <paramref name="payload"/> into frames with the Ethernet/IP addressing of <paramref name="template"/>.</summary>
        public static List<byte[]> FragmentIPv4(byte[] template, byte[] payload, int protocol, int mtu, ushort id)
        {
            List<byte[]> frames = new List<byte[]>();
            int maxData = (mtu - 20) & ~7;
            for (int offset = 0; offset < payload.Length; offset += maxData)
            {
                int take = System.Math.Min(maxData, payload.Length - offset);
                bool more = offset + take < payload.Length;
                byte[] f = new byte[34 + take];
                System.Array.Copy(template, 0, f, 0, 34);
                f[16] = (byte)((20 + take) >> 8);
                f[17] = (byte)(20 + take);
                f[18] = (byte)(id >> 8);
                f[19] = (byte)id;
                int field = (offset >> 3) | (more ? 0x2000 : 0);
                f[20] = (byte)(field >> 8);
                f[21] = (byte)field;
                f[23] = (byte)protocol;
                f[24] = 0;
                f[25] = 0;
                ushort c = GoldenPacketTests.ReferenceChecksum(f, 14, 20);
                f[24] = (byte)(c >> 8);
                f[25] = (byte)c;
                System.Array.Copy(payload, offset, f, 34, take);
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
            int ihl = (offending[14] & 15) * 4;
            int quote = ihl + quotedPayload;
            byte[] f = new byte[14 + 20 + 8 + quote];
            System.Array.Copy(offending, 6, f, 0, 6);  // back to the sender's MAC
            System.Array.Copy(offending, 0, f, 6, 6);
            f[12] = 8;
            f[14] = 0x45;
            f[16] = (byte)((20 + 8 + quote) >> 8);
            f[17] = (byte)(20 + 8 + quote);
            f[22] = 64;
            f[23] = 1;
            System.Array.Copy(offending, 30, f, 26, 4); // from the datagram's destination
            System.Array.Copy(offending, 26, f, 30, 4); // to its source
            ushort c = GoldenPacketTests.ReferenceChecksum(f, 14, 20);
            f[24] = (byte)(c >> 8);
            f[25] = (byte)c;
            f[34] = 3;
            f[35] = 4;
            f[40] = (byte)(nextHopMtu >> 8);
            f[41] = (byte)nextHopMtu;
            System.Array.Copy(offending, 14, f, 42, quote);
            c = GoldenPacketTests.ReferenceChecksum(f, 34, 8 + quote);
            f[36] = (byte)(c >> 8);
            f[37] = (byte)c;
            return f;
        }

        /// <summary>Joins the IP payloads of fragment frames (one datagram); null when incomplete.</summary>
        public static byte[] Reassemble(List<byte[]> frames)
        {
            int total = -1;
            SortedDictionary<int, byte[]> parts = new SortedDictionary<int, byte[]>();
            foreach (byte[] f in frames)
            {
                if (f.Length < 34 || f[12] != 8 || f[13] != 0)
                {
                    continue;
                }
                int length = ((f[16] << 8) | f[17]) - 20;
                int field = (f[20] << 8) | f[21];
                int offset = (field & 0x1FFF) * 8;
                byte[] data = new byte[length];
                System.Array.Copy(f, 34, data, 0, length);
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
