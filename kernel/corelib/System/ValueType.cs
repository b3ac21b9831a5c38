namespace System
{
    /// <summary>Base of all structs.</summary>
    public abstract class ValueType { }
}
