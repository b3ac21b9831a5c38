using System.Runtime.InteropServices;

namespace Keel.Kernel.Memory
{
    /// <summary>
    /// Header at the start of a large heap block (a request above the largest size class), which takes whole
    /// contiguous pages aligned like a slab. The caller's pointer is the block start plus
    /// <see cref="SlabHeap.LargeHeaderSize"/>.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct LargeBlockHeader
    {
        /// <summary><see cref="SlabHeap"/>'s large-block magic XOR the block's physical address.</summary>
        public ulong Magic;

        /// <summary>Pages the block spans.</summary>
        public int Pages;

        /// <summary>Bytes the caller asked for.</summary>
        public ulong RequestedSize;
    }
}
