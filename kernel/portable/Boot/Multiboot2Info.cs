namespace Keel.Kernel.Boot
{
    /// <summary>Constants of the Multiboot2 boot protocol (Multiboot2 specification, version 2.0, §3.6).</summary>
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

        /// <summary>Size of one memory map entry as this kernel reads it (base, length, type, reserved).</summary>
        public const uint MemoryMapEntryMinimum = 24;
    }

    /// <summary>
    /// What the kernel takes from a multiboot2 information structure: pointers into it (valid while it is), found
    /// by <see cref="Multiboot2Info.Parse"/>. Copy what you keep before the loader's memory is reused.
    /// </summary>
    public unsafe struct Multiboot2Tags
    {
        /// <summary>Command line bytes (tag 1), not including the NUL; null when absent.</summary>
        public byte* CommandLine;
        public int CommandLineLength;

        /// <summary>First memory map entry (tag 6): base (8), length (8), type (4: 1 RAM, 3 ACPI, 4 NVS, 5 bad), reserved (4).</summary>
        public byte* MemoryMap;
        public uint MemoryMapEntrySize;
        public int MemoryMapCount;

        /// <summary>The copy of the RSDP (tag 15, the ACPI 2.0+ one, preferred; else tag 14); null when absent.</summary>
        public byte* Rsdp;
        public int RsdpLength;
        public bool RsdpIsAcpi2;

        /// <summary>Tags walked (including ones not used).</summary>
        public int TagCount;

        /// <summary>The walk stopped at a tag whose size is bad or runs past total_size (no end tag reached).</summary>
        public bool Truncated;
    }

    /// <summary>Walks the tags of a multiboot2 information structure, checking every size against total_size.</summary>
    public static unsafe class Multiboot2Info
    {
        /// <summary>
        /// Reads the structure at <paramref name="info"/>, of which at most <paramref name="available"/> bytes may be
        /// read. False when its header is unusable (total_size below 16 or above the limit).
        /// </summary>
        public static bool Parse(byte* info, uint available, out Multiboot2Tags tags)
        {
            tags = default;
            if (info == null || available < 16)
            {
                return false;
            }
            uint totalSize = *(uint*)info;
            if (totalSize < 16 || totalSize > Multiboot2.MaxInfoSize || totalSize > available)
            {
                return false;
            }
            uint offset = 8;
            while (true)
            {
                if (offset + 8 > totalSize)
                {
                    tags.Truncated = true;
                    return true;
                }
                byte* tag = info + offset;
                uint type = *(uint*)tag;
                uint size = *(uint*)(tag + 4);
                if (size < 8 || size > totalSize - offset)
                {
                    tags.Truncated = true;
                    return true;
                }
                if (type == Multiboot2.TagEnd)
                {
                    return true;
                }
                tags.TagCount++;
                if (type == Multiboot2.TagCommandLine)
                {
                    int length = 0;
                    int limit = (int)(size - 8);
                    while (length < limit && tag[8 + length] != 0)
                    {
                        length++;
                    }
                    tags.CommandLine = tag + 8;
                    tags.CommandLineLength = length;
                }
                else if (type == Multiboot2.TagMemoryMap && size >= 16)
                {
                    uint entrySize = *(uint*)(tag + 8);
                    if (entrySize >= Multiboot2.MemoryMapEntryMinimum && entrySize % 8 == 0)
                    {
                        tags.MemoryMap = tag + 16;
                        tags.MemoryMapEntrySize = entrySize;
                        tags.MemoryMapCount = (int)((size - 16) / entrySize);
                    }
                }
                else if (type == Multiboot2.TagAcpiNew && size > 8)
                {
                    tags.Rsdp = tag + 8;
                    tags.RsdpLength = (int)(size - 8);
                    tags.RsdpIsAcpi2 = true;
                }
                else if (type == Multiboot2.TagAcpiOld && size > 8 && !tags.RsdpIsAcpi2)
                {
                    tags.Rsdp = tag + 8;
                    tags.RsdpLength = (int)(size - 8);
                }
                // Tags start on 8-byte boundaries.
                uint next = (offset + size + 7) & ~7u;
                if (next <= offset)
                {
                    tags.Truncated = true;
                    return true;
                }
                offset = next;
            }
        }
    }
}
