using System;

namespace Keel.Hal
{
    /// <summary>Comparisons between ASCII text held as bytes or chars and string literals, without allocating.</summary>
    public static class AsciiText
    {
        /// <summary>True when the bytes are exactly the characters of <paramref name="literal"/>.</summary>
        public static bool Matches(ReadOnlySpan<byte> text, string literal)
        {
            if (text.Length != literal.Length)
            {
                return false;
            }
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] != literal[i])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>True when the chars are exactly the characters of <paramref name="literal"/>.</summary>
        public static bool Matches(ReadOnlySpan<char> text, string literal)
        {
            if (text.Length != literal.Length)
            {
                return false;
            }
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] != literal[i])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>True when the bytes begin with the characters of <paramref name="prefix"/>.</summary>
        public static bool StartsWith(ReadOnlySpan<byte> text, string prefix)
        {
            if (text.Length < prefix.Length)
            {
                return false;
            }
            for (int i = 0; i < prefix.Length; i++)
            {
                if (text[i] != prefix[i])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>True when the two char spans are equal.</summary>
        public static bool SpanEquals(ReadOnlySpan<char> a, ReadOnlySpan<char> b)
        {
            if (a.Length != b.Length)
            {
                return false;
            }
            for (int i = 0; i < a.Length; i++)
            {
                if (a[i] != b[i])
                {
                    return false;
                }
            }
            return true;
        }
    }
}
