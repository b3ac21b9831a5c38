namespace Keel.Kernel.Diagnostics.SelfTest
{
    public struct Triangle : IShape
    {
        private readonly int _base;
        private readonly int _height;

        public Triangle(int baseLength, int height)
        {
            _base = baseLength;
            _height = height;
        }

        public int Area() => _base * _height / 2;

        public int Corners => 3;
    }
}
