namespace Keel.Kernel.Pci
{
    /// <summary>How <see cref="PciEnumerator.Enumerate"/> finds buses.</summary>
    public enum PciScanMode
    {
        /// <summary>Bus 0 (or one bus per host bridge function), then the secondary bus of every PCI-to-PCI bridge found.</summary>
        Recursive,

        /// <summary>Every device of every bus 0..255 (finds buses behind unconfigured or odd bridges; 8192 probes).</summary>
        AllBuses,
    }
}
