namespace Keel.Kernel.Config
{
    /// <summary>Fault-injection test selected with <c>test=NAME</c> on the kernel command line.</summary>
    public enum KernelTest
    {
        /// <summary>No test: normal boot.</summary>
        None,

        /// <summary><c>test=pagefault</c>: touch an unmapped address.</summary>
        PageFault,

        /// <summary><c>test=nullref</c>: dereference a null object.</summary>
        NullReference,

        /// <summary><c>test=bounds</c>: index an array out of bounds.</summary>
        Bounds,

        /// <summary><c>test=throw</c>: reach a throw helper.</summary>
        Throw,

        /// <summary>Any other name; see <see cref="KernelCommandLine.TestName"/>.</summary>
        Other,
    }
}
