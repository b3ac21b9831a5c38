using System.Runtime;
using System.Runtime.CompilerServices;

namespace System
{
    /// <summary>Block memory operations; the compiler calls these for struct copies and span operations.</summary>
    internal static unsafe class SpanHelpers
    {
        [MethodImpl(MethodImplOptions.InternalCall)]
        [RuntimeImport("*", "keel_memmove")]
        internal static extern void* NativeMemmove(void* destination, void* source, nuint count);

        [MethodImpl(MethodImplOptions.InternalCall)]
        [RuntimeImport("*", "keel_memset")]
        internal static extern void* NativeMemset(void* destination, int value, nuint count);

        public static void Memmove(ref byte destination, ref byte source, nuint count)
        {
            NativeMemmove(Unsafe.AsPointer(ref destination), Unsafe.AsPointer(ref source), count);
        }

        public static void ClearWithoutReferences(ref byte destination, nuint count)
        {
            NativeMemset(Unsafe.AsPointer(ref destination), 0, count);
        }

        public static void Fill(ref byte destination, byte value, nuint count)
        {
            NativeMemset(Unsafe.AsPointer(ref destination), value, count);
        }
    }

    /// <summary>Write-barrier-free bulk move (there is no GC).</summary>
    public static unsafe class Buffer
    {
        internal static void BulkMoveWithWriteBarrier(ref byte destination, ref byte source, nuint count)
        {
            SpanHelpers.NativeMemmove(Unsafe.AsPointer(ref destination), Unsafe.AsPointer(ref source), count);
        }

        public static void MemoryCopy(void* source, void* destination, long destinationSize, long count)
        {
            SpanHelpers.NativeMemmove(destination, source, (nuint)count);
        }
    }
}
