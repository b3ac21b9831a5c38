namespace Keel.Kernel.Pci
{
    /// <summary>
    /// Raw access to PCI configuration space, one aligned dword at a time. The kernel implements it with
    /// configuration mechanism 1 (address to port 0xCF8, data at port 0xCFC); host tests with a fake config space.
    /// A function that does not exist reads as all ones.
    /// </summary>
    public interface IPciConfigAccess
    {
        /// <summary>Reads the dword at <paramref name="offset"/> (a multiple of 4, 0..252).</summary>
        uint Read32(int bus, int device, int function, int offset);

        /// <summary>Writes the dword at <paramref name="offset"/> (a multiple of 4, 0..252).</summary>
        void Write32(int bus, int device, int function, int offset, uint value);
    }
}
