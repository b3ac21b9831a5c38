namespace Keel.Kernel.Diagnostics.SelfTest
{
    public class Rectangle : IShape
    {
        protected readonly int _width;
        protected readonly int _height;

        public Rectangle(int width, int height)
        {
            _width = width;
            _height = height;
        }

        public virtual int Area() => _width * _height;

        public int Corners => 4;
    }
}
