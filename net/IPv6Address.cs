namespace Keel.Net
{
    /// <summary>
    /// An IPv6 address (RFC 4291) as two 64-bit halves in host byte order: <see cref="High"/> holds bytes 0–7
    /// (2001:db8:: has High 0x20010DB8_00000000), <see cref="Low"/> bytes 8–15. A struct, so it never allocates.
    /// </summary>
    public readonly struct IPv6Address
    {
        /// <summary>Bytes 0–7, the first in the high byte.</summary>
        public readonly ulong High;

        /// <summary>Bytes 8–15 (the interface identifier of a unicast address), the first in the high byte.</summary>
        public readonly ulong Low;

        public IPv6Address(ulong high, ulong low)
        {
            High = high;
            Low = low;
        }

        /// <summary>From the eight 16-bit groups as written (2001:db8::1 is 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).</summary>
        public IPv6Address(ushort g0, ushort g1, ushort g2, ushort g3, ushort g4, ushort g5, ushort g6, ushort g7)
        {
            High = ((ulong)g0 << 48) | ((ulong)g1 << 32) | ((ulong)g2 << 16) | g3;
            Low = ((ulong)g4 << 48) | ((ulong)g5 << 32) | ((ulong)g6 << 16) | g7;
        }

        /// <summary>:: (the unspecified address).</summary>
        public static IPv6Address Any => default;

        /// <summary>::1.</summary>
        public static IPv6Address Loopback => new IPv6Address(0, 1);

        /// <summary>True for ::.</summary>
        public bool IsAny => High == 0 && Low == 0;

        /// <summary>ff00::/8 (RFC 4291 section 2.7).</summary>
        public bool IsMulticast => (High >> 56) == 0xFF;

        /// <summary>fe80::/10 (RFC 4291 section 2.5.6).</summary>
        public bool IsLinkLocal => (High >> 54) == (0xFE80UL >> 6);

        /// <summary>::ffff:0:0/96, an IPv4-mapped address (RFC 4291 section 2.5.5.2): an IPv4 node seen through the IPv6
        /// sockets API; never valid in an IPv6 packet (RFC 6890, RFC 4291).</summary>
        public bool IsIPv4Mapped => High == 0 && (Low >> 32) == 0xFFFF;

        /// <summary>Byte <paramref name="index"/> (0 is the first on the wire).</summary>
        public byte GetByte(int index) => index < 8 ? (byte)(High >> (56 - 8 * index)) : (byte)(Low >> (56 - 8 * (index - 8)));

        /// <summary>16-bit group <paramref name="index"/> (0–7) as written.</summary>
        public ushort GetGroup(int index) => index < 4 ? (ushort)(High >> (48 - 16 * index)) : (ushort)(Low >> (48 - 16 * (index - 4)));

        /// <summary>Reads 16 bytes in network order (the layout <see cref="Internal.NetBytes.ReadIPv6"/> reads).</summary>
        public static unsafe IPv6Address Read(System.ReadOnlySpan<byte> bytes)
        {
            fixed (byte* p = bytes.Slice(0, 16))
            {
                return Internal.NetBytes.ReadIPv6(p);
            }
        }

        /// <summary>Writes 16 bytes in network order (the layout <see cref="Internal.NetBytes.WriteIPv6"/> writes).</summary>
        public unsafe void Write(System.Span<byte> bytes)
        {
            fixed (byte* p = bytes.Slice(0, 16))
            {
                Internal.NetBytes.WriteIPv6(p, this);
            }
        }

        public static bool operator ==(IPv6Address left, IPv6Address right) => left.High == right.High && left.Low == right.Low;

        public static bool operator !=(IPv6Address left, IPv6Address right) => !(left == right);

        public bool Equals(IPv6Address other) => this == other;

        public override bool Equals(object obj) => obj is IPv6Address other && this == other;

        public override int GetHashCode() => (int)(High ^ (High >> 32) ^ Low ^ (Low >> 32));

        /// <summary>
        /// Writes the text form RFC 5952 section 4 recommends (no allocation): lower-case hex without leading
        /// zeros, the longest run of two or more zero groups (the first of equal runs) as "::"; an IPv4-mapped
        /// address as ::ffff: and the dotted IPv4 address (section 5).
        /// </summary>
        public void WriteTo(Keel.Hal.ITextOutput output)
        {
            if (IsIPv4Mapped)
            {
                output.Write("::ffff:");
                new IPv4Address((uint)Low).WriteTo(output);
                return;
            }
            int bestStart = -1;
            int bestLength = 1;
            for (int i = 0; i < 8;)
            {
                if (GetGroup(i) != 0)
                {
                    i++;
                    continue;
                }
                int start = i;
                while (i < 8 && GetGroup(i) == 0)
                {
                    i++;
                }
                if (i - start > bestLength)
                {
                    bestStart = start;
                    bestLength = i - start;
                }
            }
            for (int i = 0; i < 8; i++)
            {
                if (i == bestStart)
                {
                    output.Write(i == 0 ? "::" : ":");
                    i += bestLength - 1;
                    continue;
                }
                WriteHex(output, GetGroup(i));
                if (i < 7)
                {
                    output.Write(':');
                }
            }
        }

        private static void WriteHex(Keel.Hal.ITextOutput output, ushort group)
        {
            bool started = false;
            for (int shift = 12; shift >= 0; shift -= 4)
            {
                int digit = (group >> shift) & 0xF;
                if (digit != 0 || started || shift == 0)
                {
                    output.Write((char)(digit < 10 ? '0' + digit : 'a' + digit - 10));
                    started = true;
                }
            }
        }
    }
}
