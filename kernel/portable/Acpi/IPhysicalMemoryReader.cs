namespace Keel.Kernel.Acpi
{
    /// <summary>
    /// Read access to physical memory for the firmware-table parsers. The kernel reads through its identity map;
    /// host tests through a simulated memory holding table bytes. Nothing read is trusted: the parsers check
    /// every signature, checksum and length before using a field.
    /// </summary>
    public interface IPhysicalMemoryReader
    {
        /// <summary>True when all of [<paramref name="address"/>, +<paramref name="length"/>) can be read.</summary>
        bool CanRead(ulong address, uint length);

        /// <summary>The byte at <paramref name="address"/> (only called inside a range <see cref="CanRead"/> allowed).</summary>
        byte Read8(ulong address);
    }
}
