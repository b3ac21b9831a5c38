using System;
using Keel.Hal;

namespace Keel.Kernel.Text
{
    /// <summary>
    /// Small formatting helpers over <see cref="ITextOutput"/>: fixed-width hexadecimal and decimal numbers,
    /// padding, and printing byte or char spans. Nothing here allocates.
    /// </summary>
    public static class TextWriting
    {
        /// <summary>Writes <paramref name="value"/> as exactly <paramref name="digits"/> lower-case hex digits (no prefix).</summary>
        public static void WriteHex(ITextOutput output, ulong value, int digits)
        {
            for (int i = digits - 1; i >= 0; i--)
            {
                int nibble = (int)((value >> (i * 4)) & 0xF);
                output.Write(HexDigit(nibble));
            }
        }

        /// <summary>Lower-case hex digit for 0..15.</summary>
        public static char HexDigit(int nibble)
        {
            return nibble < 10 ? (char)('0' + nibble) : (char)('a' + nibble - 10);
        }

        /// <summary>Writes a decimal number right-aligned in a field of <paramref name="width"/> characters.</summary>
        public static void WriteDecimal(ITextOutput output, long value, int width)
        {
            int length = DecimalLength(value);
            WriteSpaces(output, width - length);
            output.Write(value);
        }

        /// <summary>Number of characters <paramref name="value"/> takes in decimal, sign included.</summary>
        public static int DecimalLength(long value)
        {
            int length = 1;
            ulong magnitude;
            if (value < 0)
            {
                length++;
                magnitude = (ulong)(-(value + 1)) + 1;
            }
            else
            {
                magnitude = (ulong)value;
            }
            while (magnitude >= 10)
            {
                magnitude /= 10;
                length++;
            }
            return length;
        }

        /// <summary>Writes <paramref name="count"/> spaces (nothing when zero or negative).</summary>
        public static void WriteSpaces(ITextOutput output, int count)
        {
            for (int i = 0; i < count; i++)
            {
                output.Write(' ');
            }
        }

        /// <summary>Writes a string left-aligned in a field of <paramref name="width"/> characters.</summary>
        public static void WritePadded(ITextOutput output, string text, int width)
        {
            output.Write(text);
            WriteSpaces(output, width - text.Length);
        }

        /// <summary>Writes ASCII bytes as characters; bytes outside printable ASCII are written as '?'.</summary>
        public static void WriteAscii(ITextOutput output, ReadOnlySpan<byte> text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                byte b = text[i];
                output.Write(b >= 0x20 && b < 0x7F ? (char)b : '?');
            }
        }

        /// <summary>Writes a span of characters.</summary>
        public static void WriteChars(ITextOutput output, ReadOnlySpan<char> text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                output.Write(text[i]);
            }
        }

        /// <summary>Writes a byte count in KiB (rounded down) followed by " KiB".</summary>
        public static void WriteKib(ITextOutput output, ulong bytes)
        {
            output.Write((long)(bytes >> 10));
            output.Write(" KiB");
        }
    }
}
