namespace System.Runtime.CompilerServices
{
    public static class RuntimeHelpers
    {
        public static int OffsetToStringData => 12;

        [Intrinsic]
        public static extern bool IsReferenceOrContainsReferences<T>();

        [Intrinsic]
        public static extern void InitializeArray(Array array, RuntimeFieldHandle fldHandle);
    }
}
