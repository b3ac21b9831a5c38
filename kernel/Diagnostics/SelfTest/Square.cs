namespace Keel.Kernel.Diagnostics.SelfTest
{
    public sealed class Square : IShape
    {
        private readonly int _side;

        public Square(int side) { _side = side; }

        public int Area() => _side * _side;

        public int Corners => 4;
    }
}
