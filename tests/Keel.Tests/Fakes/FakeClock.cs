using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>The one clock of the tests: moved by hand (the simulated kernel moves it in <c>FakeKernel.Advance</c>).</summary>
    public sealed class FakeClock : IClock
    {
        public long NowNanoseconds { get; set; } = 1_000_000_000L;

        public void AdvanceMilliseconds(long milliseconds) => NowNanoseconds += milliseconds * 1_000_000L;

        public void AdvanceMicroseconds(long microseconds) => NowNanoseconds += microseconds * 1_000L;
    }
}
