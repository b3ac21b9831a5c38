namespace Keel.Net.Internal
{
    /// <summary>
    /// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012): a keyed 64-bit hash
    /// strong enough that an attacker who cannot see the key cannot forge a value (what SYN cookies need).
    /// </summary>
    internal static unsafe class SipHash
    {
        /// <summary>SipHash-2-4 of <paramref name="length"/> bytes at <paramref name="data"/> under key (k0, k1)
        /// (k0 = key bytes 0-7 little-endian, k1 = bytes 8-15).</summary>
        public static ulong Hash(ulong k0, ulong k1, byte* data, int length)
        {
            ulong v0 = k0 ^ 0x736f6d6570736575UL;
            ulong v1 = k1 ^ 0x646f72616e646f6dUL;
            ulong v2 = k0 ^ 0x6c7967656e657261UL;
            ulong v3 = k1 ^ 0x7465646279746573UL;
            int whole = length & ~7;
            for (int i = 0; i < whole; i += 8)
            {
                ulong m = ReadLittle(data + i, 8);
                v3 ^= m;
                Round(ref v0, ref v1, ref v2, ref v3);
                Round(ref v0, ref v1, ref v2, ref v3);
                v0 ^= m;
            }
            ulong last = ReadLittle(data + whole, length - whole) | ((ulong)(length & 0xFF) << 56);
            v3 ^= last;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= last;
            v2 ^= 0xFF;
            for (int i = 0; i < 4; i++)
            {
                Round(ref v0, ref v1, ref v2, ref v3);
            }
            return v0 ^ v1 ^ v2 ^ v3;
        }

        /// <summary>SipHash-2-4 of four 32-bit words laid out little-endian (16 bytes), as Linux's siphash_4u32.</summary>
        public static ulong Hash4(ulong k0, ulong k1, uint a, uint b, uint c, uint d)
        {
            uint* words = stackalloc uint[4];
            words[0] = a;
            words[1] = b;
            words[2] = c;
            words[3] = d;
            // The words are stored in host order; on the little-endian targets this is the byte order of the hash.
            return Hash(k0, k1, (byte*)words, 16);
        }

        private static ulong ReadLittle(byte* p, int count)
        {
            ulong value = 0;
            for (int i = count - 1; i >= 0; i--)
            {
                value = (value << 8) | p[i];
            }
            return value;
        }

        private static ulong Rotl(ulong x, int b) => (x << b) | (x >> (64 - b));

        private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
        {
            v0 += v1;
            v1 = Rotl(v1, 13);
            v1 ^= v0;
            v0 = Rotl(v0, 32);
            v2 += v3;
            v3 = Rotl(v3, 16);
            v3 ^= v2;
            v0 += v3;
            v3 = Rotl(v3, 21);
            v3 ^= v0;
            v2 += v1;
            v1 = Rotl(v1, 17);
            v1 ^= v2;
            v2 = Rotl(v2, 32);
        }
    }
}
