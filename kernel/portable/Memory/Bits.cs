namespace Keel.Kernel.Memory
{
    /// <summary>
    /// Bit manipulation helpers for the bitmaps of the memory allocators (the kernel corelib has no
    /// System.Numerics.BitOperations).
    /// </summary>
    public static class Bits
    {
        /// <summary>Index of the lowest set bit of <paramref name="value"/>; 64 when it is zero.</summary>
        public static int TrailingZeroCount(ulong value)
        {
            if (value == 0)
            {
                return 64;
            }
            int count = 0;
            if ((value & 0xFFFFFFFFUL) == 0) { count += 32; value >>= 32; }
            if ((value & 0xFFFFUL) == 0) { count += 16; value >>= 16; }
            if ((value & 0xFFUL) == 0) { count += 8; value >>= 8; }
            if ((value & 0xFUL) == 0) { count += 4; value >>= 4; }
            if ((value & 0x3UL) == 0) { count += 2; value >>= 2; }
            if ((value & 0x1UL) == 0) { count += 1; }
            return count;
        }

        /// <summary>Number of set bits in <paramref name="value"/>.</summary>
        public static int PopCount(ulong value)
        {
            value -= (value >> 1) & 0x5555555555555555UL;
            value = (value & 0x3333333333333333UL) + ((value >> 2) & 0x3333333333333333UL);
            value = (value + (value >> 4)) & 0x0F0F0F0F0F0F0F0FUL;
            return (int)((value * 0x0101010101010101UL) >> 56);
        }

        /// <summary>Rounds <paramref name="value"/> up to a multiple of the power of two <paramref name="alignment"/>.</summary>
        public static ulong AlignUp(ulong value, ulong alignment)
        {
            return (value + alignment - 1) & ~(alignment - 1);
        }

        /// <summary>Rounds <paramref name="value"/> down to a multiple of the power of two <paramref name="alignment"/>.</summary>
        public static ulong AlignDown(ulong value, ulong alignment)
        {
            return value & ~(alignment - 1);
        }

        /// <summary>True when <paramref name="value"/> is a power of two (zero is not).</summary>
        public static bool IsPowerOfTwo(ulong value)
        {
            return value != 0 && (value & (value - 1)) == 0;
        }
    }
}
