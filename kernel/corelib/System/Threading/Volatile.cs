using System.Runtime.CompilerServices;

namespace System.Threading
{
    /// <summary>Ordered reads and writes (the compiler keeps them in program order; x86 needs no fence).</summary>
    public static class Volatile
    {
        [Intrinsic] public static byte Read(ref readonly byte location) => location;
        [Intrinsic] public static ushort Read(ref readonly ushort location) => location;
        [Intrinsic] public static int Read(ref readonly int location) => location;
        [Intrinsic] public static uint Read(ref readonly uint location) => location;
        [Intrinsic] public static long Read(ref readonly long location) => location;
        [Intrinsic] public static ulong Read(ref readonly ulong location) => location;
        [Intrinsic] public static bool Read(ref readonly bool location) => location;
        [Intrinsic] public static void Write(ref byte location, byte value) { location = value; }
        [Intrinsic] public static void Write(ref ushort location, ushort value) { location = value; }
        [Intrinsic] public static void Write(ref int location, int value) { location = value; }
        [Intrinsic] public static void Write(ref uint location, uint value) { location = value; }
        [Intrinsic] public static void Write(ref long location, long value) { location = value; }
        [Intrinsic] public static void Write(ref ulong location, ulong value) { location = value; }
        [Intrinsic] public static void Write(ref bool location, bool value) { location = value; }
    }
}
