using System;

namespace Keel.Kernel.Config
{
    /// <summary>
    /// Parses dotted-quad IPv4 addresses. Addresses are held as a uint with the first octet in the most
    /// significant byte (198.18.0.2 = 0xC6120002).
    /// </summary>
    public static class Ipv4Text
    {
        /// <summary>Parses "a.b.c.d" (each 0..255, decimal, no leading '+' or spaces).</summary>
        public static bool TryParseAddress(ReadOnlySpan<byte> text, out uint address)
        {
            address = 0;
            int octets = 0;
            int value = 0;
            int digits = 0;
            for (int i = 0; i <= text.Length; i++)
            {
                if (i == text.Length || text[i] == '.')
                {
                    if (digits == 0 || octets == 4)
                    {
                        return false;
                    }
                    address = (address << 8) | (uint)value;
                    octets++;
                    value = 0;
                    digits = 0;
                    continue;
                }
                byte c = text[i];
                if (c < '0' || c > '9' || digits == 3)
                {
                    return false;
                }
                value = value * 10 + (c - '0');
                digits++;
                if (value > 255)
                {
                    return false;
                }
            }
            return octets == 4;
        }

        /// <summary>
        /// Parses "a.b.c.d" or "a.b.c.d/n" (n = 0..32). Without "/n", <paramref name="prefixLength"/> is
        /// <paramref name="defaultPrefix"/>.
        /// </summary>
        public static bool TryParseCidr(ReadOnlySpan<byte> text, int defaultPrefix, out uint address, out int prefixLength)
        {
            prefixLength = defaultPrefix;
            int slash = -1;
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] == '/')
                {
                    slash = i;
                    break;
                }
            }
            if (slash < 0)
            {
                return TryParseAddress(text, out address);
            }
            if (!TryParseAddress(text.Slice(0, slash), out address))
            {
                return false;
            }
            ReadOnlySpan<byte> prefix = text.Slice(slash + 1);
            if (prefix.Length == 0 || prefix.Length > 2)
            {
                return false;
            }
            int n = 0;
            for (int i = 0; i < prefix.Length; i++)
            {
                if (prefix[i] < '0' || prefix[i] > '9')
                {
                    return false;
                }
                n = n * 10 + (prefix[i] - '0');
            }
            if (n > 32)
            {
                return false;
            }
            prefixLength = n;
            return true;
        }

        /// <summary>Netmask for a prefix length (24 = 0xFFFFFF00).</summary>
        public static uint Netmask(int prefixLength)
        {
            if (prefixLength <= 0)
            {
                return 0;
            }
            if (prefixLength >= 32)
            {
                return 0xFFFFFFFFu;
            }
            return ~(0xFFFFFFFFu >> prefixLength);
        }
    }
}
