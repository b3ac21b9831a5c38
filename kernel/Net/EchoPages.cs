using Keel.Buffers;
using Keel.Hal;

namespace Keel.Kernel.Net
{
    /// <summary>Pages for frames the hook echoes that do not fit a packet's linear area.</summary>
    public sealed class EchoPages
    {
        /// <summary>The one instance (made when the echo hook starts).</summary>
        public static EchoPages Instance;

        public EchoPages(IPageAllocator allocator, int pages)
        {
            Pool = new PagePool(allocator, pages);
        }

        public PagePool Pool { get; }
    }
}
