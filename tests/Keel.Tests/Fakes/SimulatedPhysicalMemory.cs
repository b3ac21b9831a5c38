using System;
using System.Runtime.InteropServices;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// A native memory block standing in for physical memory [<see cref="PhysicalBase"/>, + <see cref="Size"/>):
    /// CPU address = physical address + <see cref="DirectMapOffset"/>, as in the kernel's direct map.
    /// The block is filled with a junk pattern so tests see whether allocators zero memory.
    /// </summary>
    public sealed unsafe class SimulatedPhysicalMemory : IDisposable, Keel.Kernel.Acpi.IPhysicalMemoryReader
    {
        /// <summary>Start of the native block.</summary>
        private byte* _block;

        /// <summary>Maps physical [<paramref name="physicalBase"/>, + <paramref name="size"/>) to a fresh native block.</summary>
        public SimulatedPhysicalMemory(ulong physicalBase, ulong size)
        {
            PhysicalBase = physicalBase;
            Size = size;
            _block = (byte*)NativeMemory.AlignedAlloc((nuint)size, 1 << 21);
            new Span<byte>(_block, (int)size).Fill(0xA5);
            DirectMapOffset = (ulong)_block - physicalBase;
        }

        /// <summary>First simulated physical address.</summary>
        public ulong PhysicalBase { get; }

        /// <summary>Bytes simulated.</summary>
        public ulong Size { get; }

        /// <summary>CPU address minus physical address.</summary>
        public ulong DirectMapOffset { get; }

        /// <summary>CPU address of a simulated physical address.</summary>
        public byte* At(ulong physical) => (byte*)(physical + DirectMapOffset);

        /// <summary>Firmware-table reads (ACPI parser): only inside the simulated range.</summary>
        public bool CanRead(ulong address, uint length) =>
            address >= PhysicalBase && address + length >= address && address + length <= PhysicalBase + Size;

        /// <inheritdoc />
        public byte Read8(ulong address) => *At(address);

        /// <summary>Copies <paramref name="bytes"/> to physical <paramref name="address"/>.</summary>
        public void Write(ulong address, byte[] bytes) => bytes.CopyTo(new Span<byte>(At(address), bytes.Length));

        /// <inheritdoc />
        public void Dispose()
        {
            if (_block != null)
            {
                NativeMemory.AlignedFree(_block);
                _block = null;
            }
        }
    }
}
