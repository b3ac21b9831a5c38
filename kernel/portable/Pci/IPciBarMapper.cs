using Keel.Hal;

namespace Keel.Kernel.Pci
{
    /// <summary>
    /// The kernel's way to make a BAR reachable: an uncached MMIO mapping or a port I/O window.
    /// <see cref="PciDevice.MapBar"/> calls it and then enables the decode.
    /// </summary>
    public interface IPciBarMapper
    {
        /// <summary>Returns a register window over <paramref name="bar"/> (BAR <paramref name="index"/> of <paramref name="device"/>), or null.</summary>
        IRegisterRegion Map(PciDevice device, int index, PciBar bar);
    }
}
