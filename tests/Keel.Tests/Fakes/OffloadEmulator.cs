using Keel.Buffers;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// What a NIC does for the two transmit offloads, written once for every test device (the simulated virtio
    /// card and the card fake <c>TestNetDevice</c>): completing a partial checksum (virtio NEEDS_CSUM: the one's
    /// complement sum from csum_start to the end, stored at csum_start + csum_offset, RFC 1071) and cutting a
    /// TCP/IPv4 or TCP/IPv6 segment into MSS-sized wire frames (each with its own IPv4 total length, id and header
    /// checksum or IPv6 payload length, TCP sequence number, FIN/PSH on the last only, and TCP checksum over the
    /// RFC 793 or RFC 8200 section 8.1 pseudo-header).
    /// Offsets are frame-relative; the Ethernet header is 14 bytes.
    /// </summary>
    public static unsafe class OffloadEmulator
    {
        public const int IpStart = 14;

        /// <summary>The parts of a TSO frame that every segment starts from.</summary>
        public struct TsoFrame
        {
            public int IpHeaderLength;
            public int Headers;
            public int IpId;
            public uint Sequence;
            public byte TcpFlags;
        }

        public static ushort Fold(ulong sum)
        {
            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
            return (ushort)sum;
        }

        /// <summary>Sums [start, end) of contiguous <paramref name="data"/> and stores the complement at <paramref name="field"/>.</summary>
        public static void CompleteChecksum(byte* data, int start, int end, int field)
        {
            ulong sum = 0;
            for (int i = start; i < end; i++)
            {
                sum += ((i - start) & 1) == 0 ? (ulong)data[i] << 8 : data[i];
            }
            ushort result = (ushort)~Fold(sum);
            data[field] = (byte)(result >> 8);
            data[field + 1] = (byte)result;
        }

        /// <summary>The same over a packet's segments; the checksum field lies in the linear area.</summary>
        public static void CompleteChecksum(Packet frame, int start, int offset)
        {
            ulong sum = 0;
            int position = 0;
            for (int s = 0; s < frame.SegmentCount; s++)
            {
                int length;
                byte* p = frame.Segment(s, out length);
                for (int i = 0; i < length; i++, position++)
                {
                    if (position >= start)
                    {
                        sum += ((position - start) & 1) == 0 ? (ulong)p[i] << 8 : p[i];
                    }
                }
            }
            ushort result = (ushort)~Fold(sum);
            byte* field = frame.Data + start + offset;
            field[0] = (byte)(result >> 8);
            field[1] = (byte)result;
        }

        /// <summary>Reads what segmentation needs from the first bytes of a TCP/IPv4 frame (TCP header at <paramref name="tcpStart"/>).</summary>
        public static TsoFrame Parse(byte* frame, int tcpStart)
        {
            TsoFrame t;
            t.IpHeaderLength = (frame[IpStart] & 15) * 4;
            t.Headers = tcpStart + (frame[tcpStart + 12] >> 4) * 4;
            t.IpId = (frame[IpStart + 4] << 8) | frame[IpStart + 5];
            t.Sequence = (uint)(frame[tcpStart + 4] << 24 | frame[tcpStart + 5] << 16 | frame[tcpStart + 6] << 8 | frame[tcpStart + 7]);
            t.TcpFlags = frame[tcpStart + 13];
            return t;
        }

        /// <summary>
        /// Fixes the copied headers <paramref name="h"/> of segment <paramref name="index"/> carrying
        /// <paramref name="take"/> payload bytes from payload offset <paramref name="done"/>: IP total length, id
        /// and header checksum, TCP sequence and flags, and the pseudo-header sum in the TCP checksum field
        /// (complete it with <see cref="CompleteChecksum(byte*, int, int, int)"/> over the TCP segment).
        /// </summary>
        public static void FixSegmentHeaders(byte* h, TsoFrame t, int tcpStart, int index, int done, int take, bool last)
        {
            int segmentLength = t.Headers + take;
            int ipLength = segmentLength - IpStart;
            uint s = t.Sequence + (uint)done;
            h[tcpStart + 4] = (byte)(s >> 24);
            h[tcpStart + 5] = (byte)(s >> 16);
            h[tcpStart + 6] = (byte)(s >> 8);
            h[tcpStart + 7] = (byte)s;
            h[tcpStart + 13] = last ? t.TcpFlags : (byte)(t.TcpFlags & ~0x09); // FIN and PSH on the last only
            int tcpLength = segmentLength - tcpStart;
            ulong pseudo;
            if ((h[IpStart] >> 4) == 6)
            {
                int payloadLength = ipLength - 40;
                h[IpStart + 4] = (byte)(payloadLength >> 8);
                h[IpStart + 5] = (byte)payloadLength;
                pseudo = 6 + (ulong)tcpLength;
                for (int i = IpStart + 8; i < IpStart + 40; i += 2)
                {
                    pseudo += (ulong)((h[i] << 8) | h[i + 1]);
                }
                ushort folded6 = Fold(pseudo);
                h[tcpStart + 16] = (byte)(folded6 >> 8);
                h[tcpStart + 17] = (byte)folded6;
                return;
            }
            h[IpStart + 2] = (byte)(ipLength >> 8);
            h[IpStart + 3] = (byte)ipLength;
            int id = (t.IpId + index) & 0xFFFF;
            h[IpStart + 4] = (byte)(id >> 8);
            h[IpStart + 5] = (byte)id;
            h[IpStart + 10] = 0;
            h[IpStart + 11] = 0;
            CompleteChecksum(h, IpStart, IpStart + t.IpHeaderLength, IpStart + 10);
            pseudo = (ulong)((h[IpStart + 12] << 8) | h[IpStart + 13]) + (ulong)((h[IpStart + 14] << 8) | h[IpStart + 15])
                + (ulong)((h[IpStart + 16] << 8) | h[IpStart + 17]) + (ulong)((h[IpStart + 18] << 8) | h[IpStart + 19])
                + 6 + (ulong)tcpLength;
            ushort folded = Fold(pseudo);
            h[tcpStart + 16] = (byte)(folded >> 8);
            h[tcpStart + 17] = (byte)folded;
        }
    }
}
