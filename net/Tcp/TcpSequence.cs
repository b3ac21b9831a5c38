using System.Runtime.CompilerServices;

namespace Keel.Net.Tcp
{
    /// <summary>Modulo-2^32 comparisons of TCP sequence numbers (RFC 9293 section 3.4).</summary>
    internal static class TcpSequence
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Lt(uint a, uint b) => (int)(a - b) < 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Leq(uint a, uint b) => (int)(a - b) <= 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Gt(uint a, uint b) => (int)(a - b) > 0;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool Geq(uint a, uint b) => (int)(a - b) >= 0;
    }
}
