using Keel.Buffers;
using Keel.Drivers.Net;

namespace Keel.Drivers.VirtioNet
{
    /// <summary>Transmit offloads: checksum and segmentation requests checked against the features, the virtio-net header.</summary>
    public sealed unsafe partial class SendQueue
    {
        /// <summary>
        /// Checks the frame's offload requests against what was negotiated. A checksum request the device cannot
        /// take is completed here in software (Linux skb_checksum_help); a segmentation request it cannot take
        /// fails (false).
        /// </summary>
        private bool PrepareOffloads(Packet frame)
        {
            int flags = frame.Flags;
            if ((flags & Packet.FlagTcpSegmentation) != 0)
            {
                if (!Has(IsIPv6(frame) ? VirtioNetFeatures.HostTso6 : VirtioNetFeatures.HostTso4) || frame.GsoSize <= 0 || (flags & Packet.FlagNeedsChecksum) == 0
                    || frame.Length - EthernetFrame.HeaderLength > MaxTsoPacket)
                {
                    return false;
                }
            }
            if ((flags & Packet.FlagNeedsChecksum) != 0 && !Has(VirtioNetFeatures.Csum))
            {
                if (!CompleteChecksum(frame, frame.ChecksumStart, frame.ChecksumOffset))
                {
                    return false;
                }
                frame.Flags &= ~Packet.FlagNeedsChecksum;
            }
            return true;
        }

        /// <summary>True when the frame's EtherType is IPv6 (its TCP segments are GSO type TCPV6).</summary>
        private static bool IsIPv6(Packet frame) =>
            frame.LinearLength >= EthernetFrame.HeaderLength && frame.Data[12] == 0x86 && frame.Data[13] == 0xDD;

        /// <summary>
        /// hdr_len of a segmentation request: Ethernet + IP + TCP header bytes (the TCP header starts at the
        /// checksum start; its data offset is read from the linear area). 0 when not segmenting.
        /// </summary>
        private static int TsoHeaderLength(Packet frame, int csumStart)
        {
            if ((frame.Flags & Packet.FlagTcpSegmentation) == 0)
            {
                return 0;
            }
            int at = csumStart + 12;
            if (csumStart < 0 || at >= frame.LinearLength)
            {
                return csumStart + 20;
            }
            return csumStart + (frame.Data[at] >> 4) * 4;
        }

        /// <summary>Fills a virtio_net_hdr for <paramref name="frame"/> (offsets relative to the frame start).</summary>
        private void WriteTxHeader(byte* h, Packet frame, int csumStart, int gsoHeaderLength)
        {
            int hdr = _headerLength;
            for (int i = 0; i < hdr; i++)
            {
                h[i] = 0;
            }
            int flags = frame.Flags;
            if ((flags & Packet.FlagNeedsChecksum) != 0)
            {
                h[VirtioNetHeader.Flags] = VirtioNetHeader.FlagNeedsCsum;
                WriteLe16(h + VirtioNetHeader.CsumStart, csumStart);
                WriteLe16(h + VirtioNetHeader.CsumOffset, frame.ChecksumOffset);
                if ((flags & Packet.FlagTcpSegmentation) != 0)
                {
                    h[VirtioNetHeader.GsoType] = IsIPv6(frame) ? VirtioNetHeader.GsoTcpV6 : VirtioNetHeader.GsoTcpV4;
                    WriteLe16(h + VirtioNetHeader.HeaderLength, gsoHeaderLength);
                    WriteLe16(h + VirtioNetHeader.GsoSize, frame.GsoSize);
                }
            }
        }

        private static void WriteLe16(byte* p, int value)
        {
            p[0] = (byte)value;
            p[1] = (byte)(value >> 8);
        }

        /// <summary>
        /// Completes a partial checksum (virtio NEEDS_CSUM, Linux skb_checksum_help): the field at
        /// start + offset holds the pseudo-header sum; the one's complement sum from start to the end of the
        /// packet is folded and stored there. False when the offsets lie outside the packet.
        /// </summary>
        private static bool CompleteChecksum(Packet packet, int start, int offset)
        {
            int field = start + offset;
            if (field + 2 > packet.Length || offset > 0xFFFF)
            {
                return false;
            }
            ulong sum = 0;
            int position = 0;
            int segments = packet.SegmentCount;
            for (int s = 0; s < segments; s++)
            {
                int length;
                byte* data = packet.Segment(s, out length);
                for (int i = 0; i < length; i++)
                {
                    int at = position + i;
                    if (at < start)
                    {
                        continue;
                    }
                    sum += ((at - start) & 1) == 0 ? (ulong)data[i] << 8 : data[i];
                }
                position += length;
            }
            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
            ushort result = (ushort)~sum;
            if (result == 0)
            {
                result = 0xFFFF;
            }
            WriteByteAt(packet, field, (byte)(result >> 8));
            WriteByteAt(packet, field + 1, (byte)result);
            return true;
        }

        private static void WriteByteAt(Packet packet, int at, byte value)
        {
            int segments = packet.SegmentCount;
            for (int s = 0; s < segments; s++)
            {
                int length;
                byte* data = packet.Segment(s, out length);
                if (at < length)
                {
                    data[at] = value;
                    return;
                }
                at -= length;
            }
        }
    }
}
