namespace Keel.Hal
{
    /// <summary>
    /// A span of time in nanoseconds (System.TimeSpan's role, as a plain struct: no allocation, kernel corelib
    /// friendly). Made with <see cref="FromNanoseconds"/>, <see cref="FromMicroseconds"/>,
    /// <see cref="FromMilliseconds"/> or <see cref="FromSeconds"/>; read back in any of those units (truncated).
    /// </summary>
    public readonly struct Duration
    {
        private const long NanosecondsPerMicrosecond = 1000;
        private const long NanosecondsPerMillisecond = 1000 * NanosecondsPerMicrosecond;
        private const long NanosecondsPerSecond = 1000 * NanosecondsPerMillisecond;

        private readonly long _nanoseconds;

        private Duration(long nanoseconds)
        {
            _nanoseconds = nanoseconds;
        }

        public static Duration Zero => default;

        /// <summary>The longest duration (used as "never" by code that takes a minimum).</summary>
        public static Duration MaxValue => new Duration(long.MaxValue);

        public long Nanoseconds => _nanoseconds;

        public long Microseconds => _nanoseconds / NanosecondsPerMicrosecond;

        public long Milliseconds => _nanoseconds / NanosecondsPerMillisecond;

        public long Seconds => _nanoseconds / NanosecondsPerSecond;

        public bool IsZero => _nanoseconds == 0;

        /// <summary>Seconds with the fraction (for formulas in real numbers, such as CUBIC's window curve).</summary>
        public double TotalSeconds => _nanoseconds / 1e9;

        public static Duration FromNanoseconds(long nanoseconds) => new Duration(nanoseconds);

        public static Duration FromMicroseconds(long microseconds) => new Duration(microseconds * NanosecondsPerMicrosecond);

        public static Duration FromMilliseconds(long milliseconds) => new Duration(milliseconds * NanosecondsPerMillisecond);

        public static Duration FromSeconds(long seconds) => new Duration(seconds * NanosecondsPerSecond);

        public static Duration Min(Duration a, Duration b) => a._nanoseconds <= b._nanoseconds ? a : b;

        public static Duration Max(Duration a, Duration b) => a._nanoseconds >= b._nanoseconds ? a : b;

        public static Duration operator +(Duration a, Duration b) => new Duration(a._nanoseconds + b._nanoseconds);

        public static Duration operator -(Duration a, Duration b) => new Duration(a._nanoseconds - b._nanoseconds);

        public static Duration operator *(Duration a, long factor) => new Duration(a._nanoseconds * factor);

        public static Duration operator *(long factor, Duration a) => new Duration(a._nanoseconds * factor);

        public static Duration operator /(Duration a, long divisor) => new Duration(a._nanoseconds / divisor);

        /// <summary>How many whole <paramref name="unit"/>s fit in <paramref name="a"/>.</summary>
        public static long operator /(Duration a, Duration unit) => a._nanoseconds / unit._nanoseconds;

        /// <summary>Doubles <paramref name="shift"/> times (exponential backoff).</summary>
        public static Duration operator <<(Duration a, int shift) => new Duration(a._nanoseconds << shift);

        public static bool operator ==(Duration a, Duration b) => a._nanoseconds == b._nanoseconds;

        public static bool operator !=(Duration a, Duration b) => a._nanoseconds != b._nanoseconds;

        public static bool operator <(Duration a, Duration b) => a._nanoseconds < b._nanoseconds;

        public static bool operator >(Duration a, Duration b) => a._nanoseconds > b._nanoseconds;

        public static bool operator <=(Duration a, Duration b) => a._nanoseconds <= b._nanoseconds;

        public static bool operator >=(Duration a, Duration b) => a._nanoseconds >= b._nanoseconds;

        public bool Equals(Duration other) => _nanoseconds == other._nanoseconds;

        public override bool Equals(object obj) => obj is Duration other && other._nanoseconds == _nanoseconds;

        public override int GetHashCode() => (int)_nanoseconds ^ (int)(_nanoseconds >> 32);
    }
}
