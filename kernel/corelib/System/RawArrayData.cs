namespace System
{
    /// <summary>Layout of an array object after its MethodTable pointer (used to find element 0).</summary>
    internal sealed class RawArrayData
    {
#pragma warning disable 649
        public uint Length;
        public uint Padding;
        public byte Data;
#pragma warning restore 649
    }
}
