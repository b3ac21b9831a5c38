namespace System.Runtime.CompilerServices
{
    /// <summary>Compiler intrinsics for by-ref and pointer conversions (bodies supplied by the compiler).</summary>
    public static unsafe class Unsafe
    {
        [Intrinsic] public static extern ref T Add<T>(ref T source, int elementOffset);
        [Intrinsic] public static extern ref T Add<T>(ref T source, nint elementOffset);
        [Intrinsic] public static extern ref TTo As<TFrom, TTo>(ref TFrom source);
        [Intrinsic] public static extern T As<T>(object o) where T : class;
        [Intrinsic] public static extern void* AsPointer<T>(ref T value);
        [Intrinsic] public static extern ref T AsRef<T>(void* source);
        [Intrinsic] public static extern ref T AsRef<T>(ref readonly T source);
        [Intrinsic] public static extern int SizeOf<T>();
        [Intrinsic] public static extern ref T NullRef<T>();
        [Intrinsic] public static extern bool IsNullRef<T>(ref readonly T source);
        [Intrinsic] public static extern T ReadUnaligned<T>(void* source);
        [Intrinsic] public static extern void WriteUnaligned<T>(void* destination, T value);
    }
}
