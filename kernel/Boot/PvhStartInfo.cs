using System.Runtime.InteropServices;

namespace Keel.Kernel.Boot
{
    /// <summary>hvm_start_info as the PVH boot protocol hands it to us (EBX at entry).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PvhStartInfo
    {
        /// <summary>Expected value of <see cref="Magic"/> ("xEn3" with the 0x80 bit).</summary>
        public const uint ExpectedMagic = 0x336ec578;

        public uint Magic;
        public uint Version;
        public uint Flags;
        public uint ModuleCount;
        public ulong ModuleListAddress;
        public ulong CommandLineAddress;
        public ulong RsdpAddress;
        public ulong MemoryMapAddress;
        public uint MemoryMapEntries;
        public uint Reserved;
    }

    /// <summary>One entry of the PVH memory map (E820 style).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PvhMemoryMapEntry
    {
        public ulong Address;
        public ulong Size;
        public uint Type;
        public uint Reserved;
    }
}
