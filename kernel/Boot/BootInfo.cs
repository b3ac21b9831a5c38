using Keel.Kernel.Memory;

namespace Keel.Kernel.Boot
{
    /// <summary>
    /// A copy of what the PVH loader handed us (start info, memory map, command line), taken before page 0
    /// is unmapped. Lives in non-reference statics so it exists before the runtime is initialised.
    /// </summary>
    public static unsafe class BootInfo
    {
        /// <summary>Most memory map entries kept.</summary>
        public const int MaxMemoryMapEntries = 64;

        /// <summary>Longest command line kept (bytes).</summary>
        public const int MaxCommandLine = 1024;

        /// <summary>Bytes of a multiboot2 RSDP copy kept (an ACPI 2.0+ RSDP is 36).</summary>
        public const int MaxRsdp = 64;

        // Reached only through its fixed buffers' addresses, which the compiler does not count as a use.
#pragma warning disable CS0169
        private static BootInfoStorage s_storage;
#pragma warning restore CS0169

        /// <summary>Number of memory map entries copied.</summary>
        public static int MemoryMapCount;

        /// <summary>Length of the command line in bytes.</summary>
        public static int CommandLineLength;

        /// <summary>Physical address of the ACPI RSDP the loader gave (0 = none: search the BIOS area).</summary>
        public static ulong RsdpAddress;

        /// <summary>Copies start info, memory map and command line out of loader memory.</summary>
        public static void Capture(PvhStartInfo* startInfo)
        {
            RsdpAddress = startInfo->RsdpAddress;
            PvhMemoryMapEntry* source = (PvhMemoryMapEntry*)AddressSpace.ToVirtual(startInfo->MemoryMapAddress);
            fixed (ulong* words = s_storage.MemoryMap)
            {
                PvhMemoryMapEntry* destination = (PvhMemoryMapEntry*)words;
                int count = (int)startInfo->MemoryMapEntries;
                if (count > MaxMemoryMapEntries)
                {
                    count = MaxMemoryMapEntries;
                }
                for (int i = 0; i < count; i++)
                {
                    destination[i] = source[i];
                }
                MemoryMapCount = count;
            }
            fixed (byte* line = s_storage.CommandLine)
            {
                int length = 0;
                if (startInfo->CommandLineAddress != 0)
                {
                    byte* text = AddressSpace.ToVirtual(startInfo->CommandLineAddress);
                    while (length < MaxCommandLine - 1 && text[length] != 0)
                    {
                        line[length] = text[length];
                        length++;
                    }
                }
                line[length] = 0;
                CommandLineLength = length;
            }
        }

        /// <summary>True when GRUB (multiboot2) started the kernel, false for PVH.</summary>
        public static bool StartedByMultiboot2;

        /// <summary>
        /// Copies the memory map (tag 6), command line (tag 1) and ACPI RSDP (tag 15, else 14; the tag holds a copy
        /// of the RSDP, kept here) out of a multiboot2 information structure (<see cref="Multiboot2Info"/>).
        /// </summary>
        public static void CaptureMultiboot2(byte* info)
        {
            StartedByMultiboot2 = true;
            MemoryMapCount = 0;
            CommandLineLength = 0;
            Multiboot2Tags tags;
            if (!Multiboot2Info.Parse(info, Multiboot2.MaxInfoSize, out tags))
            {
                return;
            }
            if (tags.CommandLine != null)
            {
                CopyCommandLine(tags.CommandLine, tags.CommandLineLength);
            }
            fixed (ulong* words = s_storage.MemoryMap)
            {
                PvhMemoryMapEntry* destination = (PvhMemoryMapEntry*)words;
                int count = tags.MemoryMapCount < MaxMemoryMapEntries ? tags.MemoryMapCount : MaxMemoryMapEntries;
                for (int i = 0; i < count; i++)
                {
                    // base_addr, length, type (1 available, 3 ACPI reclaimable, 4 NVS, 5 bad): the E820 layout.
                    byte* entry = tags.MemoryMap + (uint)i * tags.MemoryMapEntrySize;
                    destination[i].Address = *(ulong*)entry;
                    destination[i].Size = *(ulong*)(entry + 8);
                    destination[i].Type = *(uint*)(entry + 16);
                    destination[i].Reserved = 0;
                }
                MemoryMapCount = count;
            }
            if (tags.Rsdp != null)
            {
                fixed (byte* rsdp = s_storage.Rsdp)
                {
                    int length = tags.RsdpLength < MaxRsdp ? tags.RsdpLength : MaxRsdp;
                    for (int i = 0; i < length; i++)
                    {
                        rsdp[i] = tags.Rsdp[i];
                    }
                    RsdpAddress = AddressSpace.ToPhysical(rsdp);
                }
            }
        }

        private static void CopyCommandLine(byte* text, int available)
        {
            fixed (byte* line = s_storage.CommandLine)
            {
                int length = 0;
                while (length < MaxCommandLine - 1 && length < available && text[length] != 0)
                {
                    line[length] = text[length];
                    length++;
                }
                line[length] = 0;
                CommandLineLength = length;
            }
        }

        /// <summary>Prints "boot: pvh|multiboot2, N memory map entries, command line: …".</summary>
        public static void Print(Keel.Kernel.Console.SerialConsole console)
        {
            console.Write(StartedByMultiboot2 ? "boot: multiboot2, " : "boot: pvh, ");
            console.Write((long)MemoryMapCount);
            console.Write(" memory map entries, command line: ");
            byte* line = CommandLine;
            for (int i = 0; i < CommandLineLength; i++)
            {
                console.Write((char)line[i]);
            }
            console.Write('\n');
        }

        /// <summary>The copied memory map (valid for the kernel's lifetime: static storage).</summary>
        public static PvhMemoryMapEntry* MemoryMap
        {
            get
            {
                fixed (ulong* words = s_storage.MemoryMap)
                {
                    return (PvhMemoryMapEntry*)words;
                }
            }
        }

        /// <summary>The copied command line bytes (ASCII, NUL terminated).</summary>
        public static byte* CommandLine
        {
            get
            {
                fixed (byte* line = s_storage.CommandLine)
                {
                    return line;
                }
            }
        }
    }

    /// <summary>Static backing store of <see cref="BootInfo"/>.</summary>
    internal unsafe struct BootInfoStorage
    {
        internal fixed ulong MemoryMap[BootInfo.MaxMemoryMapEntries * 3];
        internal fixed byte CommandLine[BootInfo.MaxCommandLine];
        internal fixed byte Rsdp[BootInfo.MaxRsdp];
    }
}
