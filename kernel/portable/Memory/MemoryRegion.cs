using System.Runtime.InteropServices;

namespace Keel.Kernel.Memory
{
    /// <summary>
    /// One physical address range [<see cref="Base"/>, <see cref="Base"/> + <see cref="Length"/>).
    /// The layout is that of a PVH <c>hvm_memmap_table_entry</c> (addr, size, type, reserved: 24 bytes),
    /// so the kernel can view the table at <c>start_info.memmap_paddr</c> directly as a span of these.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct MemoryRegion
    {
        /// <summary>First physical byte of the range.</summary>
        public ulong Base;

        /// <summary>Length of the range in bytes.</summary>
        public ulong Length;

        /// <summary>E820-style type, one of <see cref="MemoryRegionType"/> (ignored for reservation lists).</summary>
        public uint Type;

        /// <summary>Padding, zero (PVH: <c>reserved</c>).</summary>
        public uint Reserved;

        /// <summary>Makes a region of the given type.</summary>
        public MemoryRegion(ulong baseAddress, ulong length, uint type)
        {
            Base = baseAddress;
            Length = length;
            Type = type;
            Reserved = 0;
        }

        /// <summary>One past the last byte, saturated at 2^64 - 1 when the range would wrap.</summary>
        public ulong End => Length > ulong.MaxValue - Base ? ulong.MaxValue : Base + Length;
    }
}
