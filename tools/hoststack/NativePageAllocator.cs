using System.Runtime.InteropServices;
using Keel.Hal;

namespace Keel.HostStack
{
    /// <summary>
    /// IPageAllocator over native host memory: 4 KiB aligned, zeroed; "physical" = virtual address. Counts pages
    /// out. The one host page allocator: tests/Keel.Tests compiles this file too.
    /// </summary>
    public sealed unsafe class NativePageAllocator : IPageAllocator
    {
        private readonly int _limit;

        public NativePageAllocator(int limit = 1 << 20)
        {
            _limit = limit;
        }

        public int Outstanding { get; private set; }

        public bool TryAllocatePage(out DmaPage page)
        {
            if (Outstanding >= _limit)
            {
                page = default;
                return false;
            }
            byte* p = (byte*)NativeMemory.AlignedAlloc(DmaPage.Size, DmaPage.Size);
            NativeMemory.Clear(p, DmaPage.Size);
            Outstanding++;
            page = new DmaPage(p, (ulong)p);
            return true;
        }

        public void FreePage(DmaPage page)
        {
            NativeMemory.AlignedFree(page.Virtual);
            Outstanding--;
        }
    }
}
