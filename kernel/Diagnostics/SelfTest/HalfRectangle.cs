namespace Keel.Kernel.Diagnostics.SelfTest
{
    /// <summary>Overrides a virtual method that implements an interface method (dispatch must find the override).</summary>
    public sealed class HalfRectangle : Rectangle
    {
        public HalfRectangle(int width, int height) : base(width, height) { }

        public override int Area() => _width * _height / 2;
    }
}
