namespace Keel.Buffers
{
    /// <summary>Makes the objects of a <see cref="LazyPool{T}"/> (implemented by the pool's owner).</summary>
    public interface IPoolMaker<T>
        where T : class
    {
        /// <summary>A new object; <paramref name="index"/> is its place in the order of making (0, 1, ...).</summary>
        T Make(int index);
    }

    /// <summary>
    /// A pool of up to <see cref="Limit"/> objects of which some are made at start-up and the rest when first needed,
    /// so a large table whose memory was set aside at sizing still starts quickly. Objects are never freed; taking
    /// and giving back never allocate once an object is made. Every object made stays reachable in the order it was
    /// made (<see cref="At"/>), for owners that scan their objects.
    /// </summary>
    public sealed class LazyPool<T>
        where T : class
    {
        private readonly IPoolMaker<T> _maker;
        private readonly T[] _made;
        private readonly T[] _free;
        private int _madeCount;
        private int _freeCount;

        /// <param name="limit">Objects there may be.</param>
        /// <param name="early">Objects made now (at most <paramref name="limit"/>).</param>
        public LazyPool(int limit, int early, IPoolMaker<T> maker)
        {
            _maker = maker;
            limit = limit < 0 ? 0 : limit;
            _made = new T[limit];
            _free = new T[limit];
            for (int i = 0; i < early && i < limit; i++)
            {
                _free[_freeCount++] = MakeNext();
            }
        }

        /// <summary>Objects there may be.</summary>
        public int Limit => _made.Length;

        /// <summary>Objects made so far.</summary>
        public int Made => _madeCount;

        /// <summary>Objects made and not taken.</summary>
        public int FreeCount => _freeCount;

        /// <summary>Objects that may still be taken: the free ones and the ones not made yet.</summary>
        public int Available => _freeCount + _made.Length - _madeCount;

        /// <summary>The object made <paramref name="index"/>-th (0 ≤ index &lt; <see cref="Made"/>), taken or not.</summary>
        public T At(int index) => _made[index];

        /// <summary>A free object, made now when none is free and the limit allows; null when all are taken.</summary>
        public T Take()
        {
            if (_freeCount == 0)
            {
                return _madeCount < _made.Length ? MakeNext() : null;
            }
            T item = _free[--_freeCount];
            _free[_freeCount] = null;
            return item;
        }

        /// <summary>Gives back an object from <see cref="Take"/> (once).</summary>
        public void Give(T item)
        {
            _free[_freeCount++] = item;
        }

        private T MakeNext()
        {
            T item = _maker.Make(_madeCount);
            _made[_madeCount++] = item;
            return item;
        }
    }
}
