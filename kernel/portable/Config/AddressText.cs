using System;
using Keel.Net;

namespace Keel.Kernel.Config
{
    /// <summary>An IPv4 or IPv6 address typed at the shell (characters rather than command-line bytes).</summary>
    public static unsafe class AddressText
    {
        /// <summary>Longest address text taken (an IPv6 address with a dotted IPv4 tail is at most 45 characters).</summary>
        public const int MaxLength = 64;

        /// <summary>Parses a dotted IPv4 address (<see cref="Ipv4Text"/>) or an IPv6 one in any RFC 4291 form (<see cref="Ipv6Text"/>).</summary>
        public static bool TryParse(ReadOnlySpan<char> text, out IPAddress address)
        {
            address = IPAddress.Any;
            if (text.Length == 0 || text.Length > MaxLength)
            {
                return false;
            }
            byte* ascii = stackalloc byte[MaxLength];
            for (int i = 0; i < text.Length; i++)
            {
                ascii[i] = text[i] < 128 ? (byte)text[i] : (byte)'?';
            }
            ReadOnlySpan<byte> bytes = new ReadOnlySpan<byte>(ascii, text.Length);
            uint v4;
            if (Ipv4Text.TryParseAddress(bytes, out v4))
            {
                address = new IPv4Address(v4);
                return true;
            }
            IPv6Address v6;
            if (Ipv6Text.TryParseAddress(bytes, out v6))
            {
                address = v6;
                return true;
            }
            return false;
        }
    }
}
