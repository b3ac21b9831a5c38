using System.Diagnostics;
using Keel.Hal;

namespace Keel.HostStack
{
    /// <summary>IClock from the host's monotonic Stopwatch.</summary>
    public sealed class HostClock : IClock
    {
        private readonly long _start = Stopwatch.GetTimestamp();
        private readonly double _nanosecondsPerTick = 1e9 / Stopwatch.Frequency;

        public long NowNanoseconds => (long)((Stopwatch.GetTimestamp() - _start) * _nanosecondsPerTick) + 1_000_000_000L;
    }
}
