namespace Keel.Hal
{
    /// <summary>
    /// A window of device registers: a PCI I/O BAR (port I/O; offset added to the base port) or a memory BAR
    /// (MMIO, mapped uncached; offset added to the mapped address). Accesses are little-endian, of exactly
    /// the width asked for, and are not merged or reordered with other register accesses (each is a
    /// compiler and CPU ordering point, as Linux ioread/iowrite). Offsets are checked against
    /// <see cref="Length"/> by the implementation; an out-of-range access is a driver bug.
    /// Safe to call from interrupt context.
    /// </summary>
    public interface IRegisterRegion
    {
        /// <summary>Size of the window in bytes.</summary>
        int Length { get; }

        /// <summary>True for a port I/O window, false for MMIO.</summary>
        bool IsPortIo { get; }

        byte Read8(int offset);
        ushort Read16(int offset);
        uint Read32(int offset);
        void Write8(int offset, byte value);
        void Write16(int offset, ushort value);
        void Write32(int offset, uint value);
    }
}
