namespace Keel.Hal
{
    /// <summary>
    /// A point on the monotonic clock (<see cref="IClock"/>), in nanoseconds since its origin. The default value,
    /// <see cref="None"/>, is the clock's origin and stands for "not set" (a disarmed deadline): the clock only
    /// reads it before it first ticks. Instants subtract to a <see cref="Duration"/>; a duration moves an instant.
    /// </summary>
    public readonly struct Instant
    {
        private readonly long _nanoseconds;

        private Instant(long nanoseconds)
        {
            _nanoseconds = nanoseconds;
        }

        /// <summary>Not set (a timer that is off).</summary>
        public static Instant None => default;

        /// <summary>Later than every instant the clock will read (the answer of "next deadline" when there is none).</summary>
        public static Instant MaxValue => new Instant(long.MaxValue);

        /// <summary>Nanoseconds since the clock's origin (what <see cref="IClock.NowNanoseconds"/> reads).</summary>
        public long Nanoseconds => _nanoseconds;

        public bool IsSet => _nanoseconds != 0;

        /// <summary>Time since the clock's origin.</summary>
        public Duration SinceOrigin => Duration.FromNanoseconds(_nanoseconds);

        public static Instant FromNanoseconds(long nanoseconds) => new Instant(nanoseconds);

        /// <summary>The clock's current reading.</summary>
        public static Instant Now(IClock clock) => new Instant(clock.NowNanoseconds);

        public static Instant Min(Instant a, Instant b) => a._nanoseconds <= b._nanoseconds ? a : b;

        public static Instant Max(Instant a, Instant b) => a._nanoseconds >= b._nanoseconds ? a : b;

        public static Instant operator +(Instant a, Duration d) => new Instant(a._nanoseconds + d.Nanoseconds);

        public static Instant operator -(Instant a, Duration d) => new Instant(a._nanoseconds - d.Nanoseconds);

        public static Duration operator -(Instant a, Instant b) => Duration.FromNanoseconds(a._nanoseconds - b._nanoseconds);

        public static bool operator ==(Instant a, Instant b) => a._nanoseconds == b._nanoseconds;

        public static bool operator !=(Instant a, Instant b) => a._nanoseconds != b._nanoseconds;

        public static bool operator <(Instant a, Instant b) => a._nanoseconds < b._nanoseconds;

        public static bool operator >(Instant a, Instant b) => a._nanoseconds > b._nanoseconds;

        public static bool operator <=(Instant a, Instant b) => a._nanoseconds <= b._nanoseconds;

        public static bool operator >=(Instant a, Instant b) => a._nanoseconds >= b._nanoseconds;

        public bool Equals(Instant other) => _nanoseconds == other._nanoseconds;

        public override bool Equals(object obj) => obj is Instant other && other._nanoseconds == _nanoseconds;

        public override int GetHashCode() => (int)_nanoseconds ^ (int)(_nanoseconds >> 32);
    }
}
