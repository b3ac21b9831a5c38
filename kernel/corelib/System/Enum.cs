namespace System
{
    /// <summary>Base of all enums.</summary>
    public abstract class Enum : ValueType { }
}
