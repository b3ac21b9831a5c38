using System.Runtime.CompilerServices;

namespace Keel.Net.Internal
{
    /// <summary>Big-endian (network order) loads and stores, and byte swaps.</summary>
    internal static unsafe class NetBytes
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static ushort Read16(byte* p) => (ushort)((p[0] << 8) | p[1]);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint Read32(byte* p) => ((uint)p[0] << 24) | ((uint)p[1] << 16) | ((uint)p[2] << 8) | p[3];

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Write16(byte* p, int value)
        {
            p[0] = (byte)(value >> 8);
            p[1] = (byte)value;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Write32(byte* p, uint value)
        {
            p[0] = (byte)(value >> 24);
            p[1] = (byte)(value >> 16);
            p[2] = (byte)(value >> 8);
            p[3] = (byte)value;
        }

        /// <summary>Reads a 6-byte MAC address into the low 48 bits (first byte highest).</summary>
        public static ulong ReadMac(byte* p) =>
            ((ulong)p[0] << 40) | ((ulong)p[1] << 32) | ((ulong)p[2] << 24) | ((ulong)p[3] << 16) | ((ulong)p[4] << 8) | p[5];

        public static void WriteMac(byte* p, ulong mac)
        {
            p[0] = (byte)(mac >> 40);
            p[1] = (byte)(mac >> 32);
            p[2] = (byte)(mac >> 24);
            p[3] = (byte)(mac >> 16);
            p[4] = (byte)(mac >> 8);
            p[5] = (byte)mac;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint Swap32(uint value) =>
            (value >> 24) | ((value >> 8) & 0xFF00) | ((value << 8) & 0xFF0000) | (value << 24);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static uint Swap16(uint value) => ((value >> 8) & 0xFF) | ((value & 0xFF) << 8);

        /// <summary>Reads a 16-byte IPv6 address in network order.</summary>
        public static IPv6Address ReadIPv6(byte* p) =>
            new IPv6Address(((ulong)Read32(p) << 32) | Read32(p + 4), ((ulong)Read32(p + 8) << 32) | Read32(p + 12));

        /// <summary>Writes a 16-byte IPv6 address in network order.</summary>
        public static void WriteIPv6(byte* p, IPv6Address address)
        {
            Write32(p, (uint)(address.High >> 32));
            Write32(p + 4, (uint)address.High);
            Write32(p + 8, (uint)(address.Low >> 32));
            Write32(p + 12, (uint)address.Low);
        }

        public static void Copy(byte* source, byte* destination, int count)
        {
            new System.ReadOnlySpan<byte>(source, count).CopyTo(new System.Span<byte>(destination, count));
        }
    }
}
