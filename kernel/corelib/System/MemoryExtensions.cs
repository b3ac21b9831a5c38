using System.Runtime.CompilerServices;

namespace System
{
    /// <summary>The subset of System.MemoryExtensions kernel code may use.</summary>
    public static class MemoryExtensions
    {
        public static Span<T> AsSpan<T>(this T[] array) => new Span<T>(array);

        public static Span<T> AsSpan<T>(this T[] array, int start) => new Span<T>(array, start, array.Length - start);

        public static Span<T> AsSpan<T>(this T[] array, int start, int length) => new Span<T>(array, start, length);

        public static bool SequenceEqual(this ReadOnlySpan<byte> span, ReadOnlySpan<byte> other)
        {
            if (span.Length != other.Length)
            {
                return false;
            }
            for (int i = 0; i < span.Length; i++)
            {
                if (span[i] != other[i])
                {
                    return false;
                }
            }
            return true;
        }

        public static bool SequenceEqual(this Span<byte> span, ReadOnlySpan<byte> other) => SequenceEqual((ReadOnlySpan<byte>)span, other);
    }
}
