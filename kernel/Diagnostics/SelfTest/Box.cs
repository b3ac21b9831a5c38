namespace Keel.Kernel.Diagnostics.SelfTest
{
    /// <summary>A generic class used to check generic instantiation over classes and structs.</summary>
    public sealed class Box<T>
    {
        private T _value;

        public Box(T value) { _value = value; }

        public T Value => _value;

        public T Swap(T value)
        {
            T old = _value;
            _value = value;
            return old;
        }
    }
}
