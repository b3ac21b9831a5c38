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

        private static BootInfoStorage s_storage;

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
    }
}
