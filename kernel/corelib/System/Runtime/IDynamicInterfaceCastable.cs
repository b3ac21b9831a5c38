namespace System.Runtime.InteropServices
{
    /// <summary>Required by the compiler's whole-program analysis; never implemented in Keel.</summary>
    public unsafe interface IDynamicInterfaceCastable
    {
        internal static IntPtr GetDynamicInterfaceImplementation(IDynamicInterfaceCastable instance, Internal.Runtime.MethodTable* interfaceType, ushort slot)
        {
            Keel.Runtime.Panic.Fail("dynamic interface cast");
            return IntPtr.Zero;
        }
    }
}
