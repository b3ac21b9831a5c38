namespace Keel.Hal
{
    /// <summary>Monotonic time since boot. Never goes backwards.</summary>
    public interface IClock
    {
        /// <summary>Nanoseconds since an arbitrary fixed origin (boot, in the kernel).</summary>
        long NowNanoseconds { get; }
    }
}
