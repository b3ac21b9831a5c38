using Keel.Hal;

namespace Keel.Kernel.Pci
{
    /// <summary>A PCI memory BAR as an <see cref="IRegisterRegion"/> (uncached loads and stores).</summary>
    public sealed unsafe class MmioRegion : IRegisterRegion
    {
        private readonly byte* _base;

        public MmioRegion(byte* address, int length)
        {
            _base = address;
            Length = length;
        }

        public int Length { get; }

        public bool IsPortIo => false;

        public byte Read8(int offset) => System.Threading.Volatile.Read(ref *(_base + offset));
        public ushort Read16(int offset) => System.Threading.Volatile.Read(ref *(ushort*)(_base + offset));
        public uint Read32(int offset) => System.Threading.Volatile.Read(ref *(uint*)(_base + offset));
        public void Write8(int offset, byte value) => System.Threading.Volatile.Write(ref *(_base + offset), value);
        public void Write16(int offset, ushort value) => System.Threading.Volatile.Write(ref *(ushort*)(_base + offset), value);
        public void Write32(int offset, uint value) => System.Threading.Volatile.Write(ref *(uint*)(_base + offset), value);
    }
}
