using Keel.Hal;
using Keel.Runtime;

namespace Keel.Kernel.Pci
{
    /// <summary>A PCI I/O BAR as an <see cref="IRegisterRegion"/> (port I/O instructions).</summary>
    public sealed class PortRegion : IRegisterRegion
    {
        private readonly ushort _base;

        public PortRegion(ushort basePort, int length)
        {
            _base = basePort;
            Length = length;
        }

        public int Length { get; }

        public bool IsPortIo => true;

        public byte Read8(int offset) => Native.In8((ushort)(_base + offset));
        public ushort Read16(int offset) => Native.In16((ushort)(_base + offset));
        public uint Read32(int offset) => Native.In32((ushort)(_base + offset));
        public void Write8(int offset, byte value) => Native.Out8((ushort)(_base + offset), value);
        public void Write16(int offset, ushort value) => Native.Out16((ushort)(_base + offset), value);
        public void Write32(int offset, uint value) => Native.Out32((ushort)(_base + offset), value);
    }
}
