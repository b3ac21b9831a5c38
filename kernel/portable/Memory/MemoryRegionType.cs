namespace Keel.Kernel.Memory
{
    /// <summary>E820 / PVH memory map entry types (<c>XEN_HVM_MEMMAP_TYPE_*</c>).</summary>
    public static class MemoryRegionType
    {
        /// <summary>Usable RAM: the only type the page allocator hands out.</summary>
        public const uint Ram = 1;

        /// <summary>Reserved by firmware or hardware.</summary>
        public const uint Reserved = 2;

        /// <summary>ACPI tables; reclaimable after they are parsed (the allocator leaves it alone).</summary>
        public const uint AcpiReclaimable = 3;

        /// <summary>ACPI non-volatile storage.</summary>
        public const uint AcpiNvs = 4;

        /// <summary>RAM with errors.</summary>
        public const uint Unusable = 5;

        /// <summary>Disabled memory.</summary>
        public const uint Disabled = 6;

        /// <summary>Persistent memory.</summary>
        public const uint Persistent = 7;
    }
}
