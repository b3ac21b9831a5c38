using Keel.Buffers;

namespace Keel.Net.Internal
{
    /// <summary>
    /// The checks every received IP packet starts with, the same for IPv4 and IPv6 (each layer counts the failures
    /// in its own counters): the fixed header is there and linear and carries the layer's version; the length the
    /// header gives fits in the packet, and the link's padding behind it is cut off.
    /// </summary>
    internal static unsafe class IpReceive
    {
        /// <summary>True when the first <paramref name="headerLength"/> bytes are linear and the version nibble is <paramref name="version"/>.</summary>
        internal static bool HeaderPresent(Packet packet, int headerLength, int version) =>
            packet.EnsureLinear(headerLength) && (packet.Data[0] >> 4) == version;

        /// <summary>
        /// True when the datagram's length from its header, <paramref name="length"/>, is at least
        /// <paramref name="minimum"/> and within the packet; the packet is then cut to it (Ethernet pads short frames).
        /// </summary>
        internal static bool TrimToDatagram(Packet packet, int length, int minimum)
        {
            if (length < minimum || length > packet.Length)
            {
                return false;
            }
            if (length < packet.Length)
            {
                packet.TrimTo(length);
            }
            return true;
        }
    }
}
