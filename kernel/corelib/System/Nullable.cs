namespace System
{
    public struct Nullable<T> where T : struct
    {
        private readonly bool _hasValue;
        private T _value;

        public Nullable(T value)
        {
            _hasValue = true;
            _value = value;
        }

        public bool HasValue => _hasValue;

        public T Value => _value;

        public T GetValueOrDefault() => _value;

        public static implicit operator Nullable<T>(T value) => new Nullable<T>(value);

        public static explicit operator T(Nullable<T> value) => value._value;
    }
}
