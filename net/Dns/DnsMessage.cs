using Keel.Net.Internal;

namespace Keel.Net.Dns
{
    /// <summary>
    /// DNS messages (RFC 1035 section 4): queries for A records (and AAAA records, RFC 3596) and the checks and name decoding a stub
    /// resolver needs on answers. Names are handled in wire form (length-prefixed labels, lower case, ending
    /// with a zero byte). Compression pointers (RFC 1035 4.1.4) are followed only backwards and at most
    /// <see cref="MaxPointers"/> times, so a hostile message cannot make a loop; every length is checked.
    /// </summary>
    public static unsafe class DnsMessage
    {
        public const int Port = 53;
        public const int HeaderLength = 12;

        /// <summary>Longest name in wire form (RFC 1035 2.3.4).</summary>
        public const int MaxNameLength = 255;
        public const int MaxLabelLength = 63;
        public const int MaxPointers = 32;

        /// <summary>Largest message over UDP without EDNS (RFC 1035 4.2.1).</summary>
        public const int MaxUdpLength = 512;

        public const int TypeA = 1;
        public const int TypeCname = 5;
        public const int TypeAaaa = 28;
        public const int ClassIn = 1;

        public const int FlagResponse = 0x8000;
        public const int FlagTruncated = 0x0200;
        public const int FlagRecursionDesired = 0x0100;
        public const int OpcodeMask = 0x7800;
        public const int RcodeMask = 0x000F;

        public const int RcodeNoError = 0;
        public const int RcodeFormatError = 1;
        public const int RcodeServerFailure = 2;
        public const int RcodeNameError = 3;
        public const int RcodeRefused = 5;

        /// <summary>
        /// Converts a dotted name ("www.example.com", an optional final dot) to lower-case wire form in
        /// <paramref name="wire"/> (at least 255 bytes). Returns the length, or 0 when the name is not a valid
        /// host name (empty label, label over 63, name over 255, a character other than letter, digit, '-', '_').
        /// </summary>
        public static int EncodeName(char[] text, int length, byte* wire)
        {
            if (length > 0 && text[length - 1] == '.')
            {
                length--;
            }
            if (length == 0 || length + 2 > MaxNameLength)
            {
                return 0;
            }
            int labelStart = 0;
            int o = 1;
            for (int i = 0; i <= length; i++)
            {
                if (i == length || text[i] == '.')
                {
                    int labelLength = o - labelStart - 1;
                    if (labelLength == 0 || labelLength > MaxLabelLength)
                    {
                        return 0;
                    }
                    wire[labelStart] = (byte)labelLength;
                    labelStart = o;
                    o++;
                    continue;
                }
                char c = text[i];
                if (c >= 'A' && c <= 'Z')
                {
                    c = (char)(c - 'A' + 'a');
                }
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                {
                    return 0;
                }
                wire[o++] = (byte)c;
            }
            wire[labelStart] = 0;
            return o;
        }

        /// <summary>The record type that holds addresses of <paramref name="family"/>: A, or AAAA (RFC 3596 2.1).</summary>
        public static int AddressType(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? TypeAaaa : TypeA;

        /// <summary>Length of an address record's RDATA: 4 for A, 16 for AAAA (RFC 3596 2.2).</summary>
        public static int AddressLength(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? 16 : 4;

        /// <summary>Writes a standard query (RD set) for (<paramref name="name"/>, <paramref name="type"/>, IN); returns its length.</summary>
        public static int BuildQuery(byte* buffer, int id, byte* name, int nameLength, int type)
        {
            new System.Span<byte>(buffer, HeaderLength).Clear();
            NetBytes.Write16(buffer, id);
            NetBytes.Write16(buffer + 2, FlagRecursionDesired);
            NetBytes.Write16(buffer + 4, 1);
            NetBytes.Copy(name, buffer + HeaderLength, nameLength);
            byte* q = buffer + HeaderLength + nameLength;
            NetBytes.Write16(q, type);
            NetBytes.Write16(q + 2, ClassIn);
            return HeaderLength + nameLength + 4;
        }

        /// <summary>
        /// Decodes the name at <paramref name="offset"/> of a message into lower-case wire form in
        /// <paramref name="output"/> (255 bytes). Returns the decoded length (0 on any error) and in
        /// <paramref name="next"/> the offset just after the name where it appears.
        /// </summary>
        public static int ReadName(byte* message, int length, int offset, byte* output, out int next)
        {
            next = -1;
            int o = 0;
            int pointers = 0;
            int position = offset;
            int limit = offset; // a pointer must point before the label that holds it
            while (true)
            {
                if (position >= length)
                {
                    return 0;
                }
                int label = message[position];
                if ((label & 0xC0) == 0xC0)
                {
                    if (position + 1 >= length || ++pointers > MaxPointers)
                    {
                        return 0;
                    }
                    int target = ((label & 0x3F) << 8) | message[position + 1];
                    if (next < 0)
                    {
                        next = position + 2;
                    }
                    if (target >= limit)
                    {
                        return 0;
                    }
                    limit = target;
                    position = target;
                    continue;
                }
                if ((label & 0xC0) != 0)
                {
                    return 0; // 0x40/0x80: extended/reserved label types
                }
                if (label == 0)
                {
                    if (o + 1 > MaxNameLength)
                    {
                        return 0;
                    }
                    output[o++] = 0;
                    if (next < 0)
                    {
                        next = position + 1;
                    }
                    return o;
                }
                if (position + 1 + label > length || o + 1 + label + 1 > MaxNameLength)
                {
                    return 0;
                }
                output[o++] = (byte)label;
                for (int i = 0; i < label; i++)
                {
                    byte c = message[position + 1 + i];
                    output[o++] = c >= 'A' && c <= 'Z' ? (byte)(c - 'A' + 'a') : c;
                }
                position += 1 + label;
            }
        }

        public static bool NameEquals(byte* a, int aLength, byte* b, int bLength)
        {
            if (aLength != bLength)
            {
                return false;
            }
            for (int i = 0; i < aLength; i++)
            {
                if (a[i] != b[i])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>Skips one resource record at <paramref name="offset"/>; reads its fixed fields. False when it runs past the end.</summary>
        public static bool ReadRecord(byte* message, int length, int offset, byte* ownerOut, out int ownerLength,
                                      out int type, out int @class, out uint ttl, out int dataOffset, out int dataLength)
        {
            type = 0;
            @class = 0;
            ttl = 0;
            dataOffset = 0;
            dataLength = 0;
            int next;
            ownerLength = ReadName(message, length, offset, ownerOut, out next);
            if (ownerLength == 0 || next + 10 > length)
            {
                return false;
            }
            type = NetBytes.Read16(message + next);
            @class = NetBytes.Read16(message + next + 2);
            ttl = NetBytes.Read32(message + next + 4);
            if ((ttl & 0x80000000) != 0)
            {
                ttl = 0; // RFC 2181 8: a TTL with the top bit set is treated as zero
            }
            dataLength = NetBytes.Read16(message + next + 8);
            dataOffset = next + 10;
            return dataOffset + dataLength <= length;
        }

        /// <summary>Writes a wire-form name as dotted text ("www.example.com").</summary>
        public static void WriteName(Keel.Hal.ITextOutput output, byte* name, int length)
        {
            int i = 0;
            bool first = true;
            while (i < length && name[i] != 0)
            {
                if (!first)
                {
                    output.Write('.');
                }
                first = false;
                int label = name[i];
                for (int k = 1; k <= label && i + k < length; k++)
                {
                    output.Write((char)name[i + k]);
                }
                i += label + 1;
            }
        }
    }
}
