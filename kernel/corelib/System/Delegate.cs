namespace System
{
    /// <summary>Present because the compiler requires the type. Kernel code does not use delegates.</summary>
    public abstract class Delegate { }

    public abstract class MulticastDelegate : Delegate { }
}
