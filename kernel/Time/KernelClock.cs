using Keel.Hal;

namespace Keel.Kernel.Time
{
    /// <summary><see cref="IClock"/> over the calibrated TSC.</summary>
    public sealed class KernelClock : IClock
    {
        public long NowNanoseconds => Tsc.NowNanoseconds;
    }
}
