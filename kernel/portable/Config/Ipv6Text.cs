using System;
using Keel.Kernel.Text;
using Keel.Net;

namespace Keel.Kernel.Config
{
    /// <summary>Parses IPv6 addresses in the text forms of RFC 4291 section 2.2 (no zone).</summary>
    public static unsafe class Ipv6Text
    {
        /// <summary>
        /// Parses eight groups of 1-4 hex digits separated by ':', where one run of zero groups may be written "::"
        /// (2001:db8::1, fe80::1:2, ::); the last two groups may be written as a dotted IPv4 address (section 2.2 form
        /// 3: ::ffff:198.18.0.1).
        /// </summary>
        public static bool TryParseAddress(ReadOnlySpan<byte> text, out IPv6Address address)
        {
            address = IPv6Address.Any;
            int lastColon = -1;
            bool dotted = false;
            for (int k = 0; k < text.Length; k++)
            {
                if (text[k] == ':')
                {
                    lastColon = k;
                    dotted = false;
                }
                else if (text[k] == '.')
                {
                    dotted = true;
                }
            }
            if (dotted && lastColon >= 0)
            {
                // The dotted tail becomes two hex groups ("::ffff:c612:1"), parsed as the plain form.
                uint v4;
                if (!Ipv4Text.TryParseAddress(text.Slice(lastColon + 1), out v4))
                {
                    return false;
                }
                int head = lastColon + 1;
                byte* hex = stackalloc byte[head + 9];
                for (int k = 0; k < head; k++)
                {
                    hex[k] = text[k];
                }
                int n = head;
                n = WriteGroup(hex, n, v4 >> 16);
                hex[n++] = (byte)':';
                n = WriteGroup(hex, n, v4 & 0xFFFF);
                return TryParseAddress(new ReadOnlySpan<byte>(hex, n), out address);
            }
            ushort* groups = stackalloc ushort[8];
            int count = 0;
            int gap = -1;
            int i = 0;
            if (text.Length >= 2 && text[0] == ':' && text[1] == ':')
            {
                gap = 0;
                i = 2;
            }
            else if (text.Length > 0 && text[0] == ':')
            {
                return false;
            }
            while (i < text.Length)
            {
                int value = 0;
                int digits = 0;
                while (i < text.Length && text[i] != ':')
                {
                    int digit = NumberParser.HexValue(text[i]);
                    if (digit < 0 || digits == 4)
                    {
                        return false;
                    }
                    value = (value << 4) | digit;
                    digits++;
                    i++;
                }
                if (digits == 0 || count == 8)
                {
                    return false;
                }
                groups[count++] = (ushort)value;
                if (i == text.Length)
                {
                    break;
                }
                i++; // ':'
                if (i < text.Length && text[i] == ':')
                {
                    if (gap >= 0)
                    {
                        return false;
                    }
                    gap = count;
                    i++;
                }
                else if (i == text.Length)
                {
                    return false; // a single trailing ':'
                }
            }
            if (gap < 0 ? count != 8 : count > 7)
            {
                return false;
            }
            ushort* full = stackalloc ushort[8];
            for (int k = 0; k < 8; k++)
            {
                full[k] = 0;
            }
            int tail = gap < 0 ? 0 : count - gap;
            for (int k = 0; k < count; k++)
            {
                int position = gap < 0 || k < gap ? k : 8 - tail + (k - gap);
                full[position] = groups[k];
            }
            address = new IPv6Address(full[0], full[1], full[2], full[3], full[4], full[5], full[6], full[7]);
            return true;
        }

        private static int WriteGroup(byte* to, int at, uint group)
        {
            for (int shift = 12; shift >= 0; shift -= 4)
            {
                uint digit = (group >> shift) & 0xF;
                to[at++] = (byte)(digit < 10 ? '0' + digit : 'a' + digit - 10);
            }
            return at;
        }

        /// <summary>Parses "ADDR/N" (N = 0..128) or "ADDR" (then <paramref name="prefixLength"/> is <paramref name="defaultPrefix"/>).</summary>
        public static bool TryParseCidr(ReadOnlySpan<byte> text, int defaultPrefix, out IPv6Address address, out int prefixLength)
        {
            prefixLength = defaultPrefix;
            int slash = -1;
            for (int i = 0; i < text.Length && slash < 0; i++)
            {
                if (text[i] == '/')
                {
                    slash = i;
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
            ulong n;
            if (prefix.Length > 3 || !NumberParser.TryParseDecimal(prefix, out n) || n > 128)
            {
                return false;
            }
            prefixLength = (int)n;
            return true;
        }
    }
}
