namespace Keel.Kernel.Boot
{
    /// <summary>Constants of the Multiboot2 boot protocol (Multiboot2 specification, version 2.0).</summary>
    public static class Multiboot2
    {
        /// <summary>EAX at entry when a multiboot2 loader started us.</summary>
        public const uint BootloaderMagic = 0x36d76289;

        /// <summary>Largest information structure accepted.</summary>
        public const uint MaxInfoSize = 1024 * 1024;

        public const uint TagEnd = 0;
        public const uint TagCommandLine = 1;
        public const uint TagMemoryMap = 6;
        public const uint TagAcpiOld = 14;
        public const uint TagAcpiNew = 15;
    }
}
