namespace Keel.Kernel.Diagnostics.SelfTest
{
    /// <summary>An interface with several implementers, so calls cannot be devirtualised by the compiler.</summary>
    public interface IShape
    {
        int Area();
        int Corners { get; }
    }
}
