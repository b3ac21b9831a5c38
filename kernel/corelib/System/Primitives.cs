// The primitive types. The compiler knows their layout; they only need to exist with their one field.
#pragma warning disable 169, 649
namespace System
{
    public struct Boolean { private bool _value; }
    public struct Char { private char _value; }
    public struct SByte { private sbyte _value; }
    public struct Byte { private byte _value; }
    public struct Int16 { private short _value; }
    public struct UInt16 { private ushort _value; }
    public struct Int32 { private int _value; public const int MaxValue = 0x7fffffff; public const int MinValue = unchecked((int)0x80000000); }
    public struct UInt32 { private uint _value; public const uint MaxValue = 0xffffffff; }
    public struct Int64 { private long _value; public const long MaxValue = 0x7fffffffffffffff; public const long MinValue = unchecked((long)0x8000000000000000); }
    public struct UInt64 { private ulong _value; public const ulong MaxValue = 0xffffffffffffffff; }
    public struct Single { private float _value; }
    public struct Double { private double _value; }
    public unsafe struct IntPtr
    {
        private void* _value;
        public IntPtr(void* value) { _value = value; }
        public IntPtr(long value) { _value = (void*)value; }
        public static readonly IntPtr Zero;
        public static int Size => 8;
        public void* ToPointer() => _value;
        public static explicit operator IntPtr(long value) => new IntPtr(value);
        public static explicit operator IntPtr(void* value) => new IntPtr(value);
        public static explicit operator void*(IntPtr value) => value._value;
        public static explicit operator long(IntPtr value) => (long)value._value;
        public static bool operator ==(IntPtr a, IntPtr b) => a._value == b._value;
        public static bool operator !=(IntPtr a, IntPtr b) => a._value != b._value;
        public override bool Equals(object o) => false;
        public override int GetHashCode() => (int)(long)_value;
    }
    public unsafe struct UIntPtr
    {
        private void* _value;
        public UIntPtr(void* value) { _value = value; }
        public static int Size => 8;
    }
}
