using Keel.Hal;

namespace Keel.Tests.Net
{
    /// <summary>A clock the test moves by hand.</summary>
    public sealed class FakeClock : IClock
    {
        public long NowNanoseconds { get; set; } = 1_000_000_000L;

        public void AdvanceMilliseconds(long milliseconds) => NowNanoseconds += milliseconds * 1_000_000L;

        public void AdvanceMicroseconds(long microseconds) => NowNanoseconds += microseconds * 1_000L;
    }
}
