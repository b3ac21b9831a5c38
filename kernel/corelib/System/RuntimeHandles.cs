namespace System
{
    // The compiler requires these types with a pointer-sized field; without reflection nothing reads it.
#pragma warning disable CS0169
    public struct RuntimeTypeHandle { private IntPtr _value; }
    public struct RuntimeMethodHandle { private IntPtr _value; }
    public struct RuntimeFieldHandle { private IntPtr _value; }
#pragma warning restore CS0169

    /// <summary>Present because the compiler requires the type; no reflection exists.</summary>
    public abstract class Type
    {
        public static Type GetTypeFromHandle(RuntimeTypeHandle handle) => null;
    }
}

namespace System
{
    /// <summary>Present because the compiler requires the type; no reflection exists.</summary>
    internal sealed class RuntimeType : Type { }
}
