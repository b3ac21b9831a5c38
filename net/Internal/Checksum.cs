using System.Runtime.CompilerServices;
using Keel.Buffers;

namespace Keel.Net.Internal
{
    /// <summary>
    /// The Internet checksum (RFC 1071). Sums are kept in the machine's native (little-endian) word order, which
    /// RFC 1071 allows: the folded complement stored with a native 16-bit store has the right bytes on the wire.
    /// </summary>
    internal static unsafe class Checksum
    {
        /// <summary>Native-order sum of <paramref name="length"/> bytes, as if they start at an even offset.</summary>
        public static ulong Sum(byte* p, int length)
        {
            ulong sum = 0;
            while (length >= 16)
            {
                sum += *(uint*)p;
                sum += *(uint*)(p + 4);
                sum += *(uint*)(p + 8);
                sum += *(uint*)(p + 12);
                p += 16;
                length -= 16;
            }
            while (length >= 4)
            {
                sum += *(uint*)p;
                p += 4;
                length -= 4;
            }
            if (length >= 2)
            {
                sum += *(ushort*)p;
                p += 2;
                length -= 2;
            }
            if (length == 1)
            {
                sum += *p;
            }
            return sum;
        }

        /// <summary>Folds a sum to 16 bits (not complemented).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint Fold(ulong sum)
        {
            sum = (sum & 0xFFFFFFFF) + (sum >> 32);
            sum = (sum & 0xFFFFFFFF) + (sum >> 32);
            sum = (sum & 0xFFFF) + (sum >> 16);
            sum = (sum & 0xFFFF) + (sum >> 16);
            sum = (sum & 0xFFFF) + (sum >> 16);
            return (uint)sum;
        }

        /// <summary>Sum over <paramref name="length"/> packet bytes from data offset <paramref name="offset"/>.</summary>
        public static ulong SumPacket(Packet packet, int offset, int length)
        {
            ulong total = 0;
            int position = 0; // bytes summed so far (parity decides byte swapping)
            int segments = packet.SegmentCount;
            for (int i = 0; i < segments && length > 0; i++)
            {
                int segmentLength;
                byte* p = packet.Segment(i, out segmentLength);
                if (offset >= segmentLength)
                {
                    offset -= segmentLength;
                    continue;
                }
                p += offset;
                segmentLength -= offset;
                offset = 0;
                int take = segmentLength < length ? segmentLength : length;
                uint partial = Fold(Sum(p, take));
                if ((position & 1) != 0)
                {
                    partial = NetBytes.Swap16(partial);
                }
                total += partial;
                position += take;
                length -= take;
            }
            return total;
        }

        /// <summary>Native-order sum of the TCP/UDP pseudo-header (addresses in host order).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ulong PseudoHeader(uint source, uint destination, int protocol, int length)
        {
            return (ulong)NetBytes.Swap32(source) + NetBytes.Swap32(destination) + ((uint)protocol << 8) + NetBytes.Swap16((uint)length);
        }

        /// <summary>
        /// Native-order sum of the IPv6 pseudo-header (RFC 8200 section 8.1): both addresses, the upper-layer
        /// length and the next-header value as 32-bit words.
        /// </summary>
        public static ulong PseudoHeader(IPv6Address source, IPv6Address destination, int nextHeader, int length)
        {
            byte* words = stackalloc byte[40];
            NetBytes.WriteIPv6(words, source);
            NetBytes.WriteIPv6(words + 16, destination);
            NetBytes.Write32(words + 32, (uint)length);
            NetBytes.Write32(words + 36, (uint)nextHeader);
            return Sum(words, 40);
        }

        /// <summary>The value to store (natively) in a checksum field for a sum over the covered bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort Finish(ulong sum) => (ushort)~Fold(sum);

        /// <summary>True when a sum over bytes that include their checksum field verifies.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool IsValid(ulong sum) => Fold(sum) == 0xFFFF;
    }
}
