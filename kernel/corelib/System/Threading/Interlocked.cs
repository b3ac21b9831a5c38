using System.Runtime;
using System.Runtime.CompilerServices;

namespace System.Threading
{
    /// <summary>The subset of Interlocked the kernel uses.</summary>
    public static class Interlocked
    {
        /// <summary>Full fence. The compiler usually expands it inline; otherwise the assembly stub runs mfence.</summary>
        [Intrinsic]
        public static void MemoryBarrier() { NativeFence(); }

        [MethodImpl(MethodImplOptions.InternalCall)]
        [RuntimeImport("*", "keel_mfence")]
        private static extern void NativeFence();
    }
}
