using System;

namespace Keel.Kernel.Text
{
    /// <summary>
    /// Parses numbers from ASCII text (shell arguments as chars, command-line values as bytes) without allocating.
    /// Unsigned numbers are decimal, or hexadecimal with a <c>0x</c>/<c>0X</c> prefix; an optional
    /// <c>'_'</c> between digits is ignored. Every method rejects empty input, stray characters and overflow.
    /// </summary>
    public static class NumberParser
    {
        /// <summary>Parses decimal or 0x-prefixed hexadecimal.</summary>
        public static bool TryParseUInt64(ReadOnlySpan<char> text, out ulong value)
        {
            if (text.Length > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
            {
                return TryParseHex(text.Slice(2), out value);
            }
            return TryParseDecimal(text, out value);
        }

        /// <summary>Parses decimal or 0x-prefixed hexadecimal.</summary>
        public static bool TryParseUInt64(ReadOnlySpan<byte> text, out ulong value)
        {
            if (text.Length > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
            {
                return TryParseHex(text.Slice(2), out value);
            }
            return TryParseDecimal(text, out value);
        }

        /// <summary>Parses an optionally signed ('-' or '+') decimal or 0x-prefixed hexadecimal number.</summary>
        public static bool TryParseInt64(ReadOnlySpan<char> text, out long value)
        {
            value = 0;
            bool negative = false;
            if (text.Length > 0 && (text[0] == '-' || text[0] == '+'))
            {
                negative = text[0] == '-';
                text = text.Slice(1);
            }
            ulong magnitude;
            if (!TryParseUInt64(text, out magnitude))
            {
                return false;
            }
            return ApplySign(magnitude, negative, out value);
        }

        /// <summary>Parses an optionally signed ('-' or '+') decimal or 0x-prefixed hexadecimal number.</summary>
        public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
        {
            value = 0;
            bool negative = false;
            if (text.Length > 0 && (text[0] == '-' || text[0] == '+'))
            {
                negative = text[0] == '-';
                text = text.Slice(1);
            }
            ulong magnitude;
            if (!TryParseUInt64(text, out magnitude))
            {
                return false;
            }
            return ApplySign(magnitude, negative, out value);
        }

        /// <summary>Parses an int (decimal or 0x-prefixed hexadecimal, optionally signed).</summary>
        public static bool TryParseInt32(ReadOnlySpan<char> text, out int value)
        {
            long wide;
            value = 0;
            if (!TryParseInt64(text, out wide) || wide < int.MinValue || wide > int.MaxValue)
            {
                return false;
            }
            value = (int)wide;
            return true;
        }

        /// <summary>Parses an int (decimal or 0x-prefixed hexadecimal, optionally signed).</summary>
        public static bool TryParseInt32(ReadOnlySpan<byte> text, out int value)
        {
            long wide;
            value = 0;
            if (!TryParseInt64(text, out wide) || wide < int.MinValue || wide > int.MaxValue)
            {
                return false;
            }
            value = (int)wide;
            return true;
        }

        /// <summary>Parses decimal digits only.</summary>
        public static bool TryParseDecimal(ReadOnlySpan<char> text, out ulong value)
        {
            value = 0;
            int digits = 0;
            for (int i = 0; i < text.Length; i++)
            {
                int c = text[i];
                if (c == '_' && digits > 0 && i + 1 < text.Length)
                {
                    continue;
                }
                if (c < '0' || c > '9' || !AppendDigit(ref value, 10, (ulong)(c - '0')))
                {
                    return false;
                }
                digits++;
            }
            return digits > 0;
        }

        /// <summary>Parses decimal digits only.</summary>
        public static bool TryParseDecimal(ReadOnlySpan<byte> text, out ulong value)
        {
            value = 0;
            int digits = 0;
            for (int i = 0; i < text.Length; i++)
            {
                int c = text[i];
                if (c == '_' && digits > 0 && i + 1 < text.Length)
                {
                    continue;
                }
                if (c < '0' || c > '9' || !AppendDigit(ref value, 10, (ulong)(c - '0')))
                {
                    return false;
                }
                digits++;
            }
            return digits > 0;
        }

        /// <summary>Parses hexadecimal digits (no prefix), either case.</summary>
        public static bool TryParseHex(ReadOnlySpan<char> text, out ulong value)
        {
            value = 0;
            int digits = 0;
            for (int i = 0; i < text.Length; i++)
            {
                int c = text[i];
                if (c == '_' && digits > 0 && i + 1 < text.Length)
                {
                    continue;
                }
                int digit = HexValue(c);
                if (digit < 0 || !AppendDigit(ref value, 16, (ulong)digit))
                {
                    return false;
                }
                digits++;
            }
            return digits > 0;
        }

        /// <summary>Parses hexadecimal digits (no prefix), either case.</summary>
        public static bool TryParseHex(ReadOnlySpan<byte> text, out ulong value)
        {
            value = 0;
            int digits = 0;
            for (int i = 0; i < text.Length; i++)
            {
                int c = text[i];
                if (c == '_' && digits > 0 && i + 1 < text.Length)
                {
                    continue;
                }
                int digit = HexValue(c);
                if (digit < 0 || !AppendDigit(ref value, 16, (ulong)digit))
                {
                    return false;
                }
                digits++;
            }
            return digits > 0;
        }

        /// <summary>Value of a hex digit character, or -1.</summary>
        public static int HexValue(int c)
        {
            if (c >= '0' && c <= '9')
            {
                return c - '0';
            }
            if (c >= 'a' && c <= 'f')
            {
                return c - 'a' + 10;
            }
            if (c >= 'A' && c <= 'F')
            {
                return c - 'A' + 10;
            }
            return -1;
        }

        /// <summary>value = value * radix + digit; false on overflow.</summary>
        private static bool AppendDigit(ref ulong value, ulong radix, ulong digit)
        {
            if (value > (ulong.MaxValue - digit) / radix)
            {
                return false;
            }
            value = value * radix + digit;
            return true;
        }

        /// <summary>Applies a sign to a magnitude; false when the result does not fit a long.</summary>
        private static bool ApplySign(ulong magnitude, bool negative, out long value)
        {
            value = 0;
            if (negative)
            {
                if (magnitude > (ulong)long.MaxValue + 1)
                {
                    return false;
                }
                value = magnitude == (ulong)long.MaxValue + 1 ? long.MinValue : -(long)magnitude;
                return true;
            }
            if (magnitude > long.MaxValue)
            {
                return false;
            }
            value = (long)magnitude;
            return true;
        }
    }
}
