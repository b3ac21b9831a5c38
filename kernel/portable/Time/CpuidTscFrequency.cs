namespace Keel.Kernel.Time
{
    /// <summary>The CPUID instruction: the kernel's, or a table in tests.</summary>
    public interface ICpuid
    {
        /// <summary>Runs CPUID with EAX = <paramref name="leaf"/>, ECX = 0.</summary>
        void Query(uint leaf, out uint eax, out uint ebx, out uint ecx, out uint edx);
    }

    /// <summary>Where a TSC frequency read from CPUID came from.</summary>
    public enum CpuidFrequencySource
    {
        /// <summary>CPUID does not state it.</summary>
        None,

        /// <summary>Hypervisor leaf 0x40000010 EAX (TSC kHz; VMware's convention, QEMU's vmware-cpuid-freq).</summary>
        HypervisorLeaf,

        /// <summary>Leaf 0x15: core crystal clock × EBX / EAX.</summary>
        CrystalRatio,

        /// <summary>Leaf 0x16 EAX, the processor base frequency, taken as the TSC's (leaf 0x15 has no crystal).</summary>
        BaseFrequency,
    }

    /// <summary>
    /// The TSC frequency the CPU or the hypervisor states, when it does (Intel SDM vol. 2A, CPUID leaves 0x15
    /// and 0x16; hypervisor leaves from 0x40000000). A leaf is read only when the highest leaf of its range
    /// covers it: an Intel CPU (and QEMU) answers a leaf above the highest with the highest leaf's registers.
    /// </summary>
    public static class CpuidTscFrequency
    {
        /// <summary>Leaf 1 ECX bit 31: running under a hypervisor.</summary>
        public const uint HypervisorPresentBit = 1u << 31;

        public const uint HypervisorBaseLeaf = 0x40000000;
        public const uint HypervisorTimingLeaf = 0x40000010;
        public const uint CrystalLeaf = 0x15;
        public const uint FrequencyLeaf = 0x16;

        /// <summary>The TSC frequency in Hz, or 0 with <see cref="CpuidFrequencySource.None"/>.</summary>
        public static ulong Read(ICpuid cpu, out CpuidFrequencySource source)
        {
            uint eax;
            uint ebx;
            uint ecx;
            uint edx;
            cpu.Query(0, out eax, out ebx, out ecx, out edx);
            uint maxBasic = eax;
            uint features = 0;
            if (maxBasic >= 1)
            {
                cpu.Query(1, out eax, out ebx, out features, out edx);
            }
            if ((features & HypervisorPresentBit) != 0)
            {
                cpu.Query(HypervisorBaseLeaf, out eax, out ebx, out ecx, out edx);
                if (eax >= HypervisorTimingLeaf && eax < HypervisorBaseLeaf + 0x10000)
                {
                    cpu.Query(HypervisorTimingLeaf, out eax, out ebx, out ecx, out edx);
                    if (eax != 0)
                    {
                        source = CpuidFrequencySource.HypervisorLeaf;
                        return (ulong)eax * 1000;
                    }
                }
            }
            if (maxBasic >= CrystalLeaf)
            {
                // EAX = denominator, EBX = numerator of the TSC / crystal ratio, ECX = crystal Hz (0 = not stated).
                cpu.Query(CrystalLeaf, out eax, out ebx, out ecx, out edx);
                if (eax != 0 && ebx != 0 && ecx != 0)
                {
                    source = CpuidFrequencySource.CrystalRatio;
                    return (ulong)ecx * ebx / eax;
                }
            }
            if (maxBasic >= FrequencyLeaf)
            {
                // EAX bits 15:0 = base frequency in MHz.
                cpu.Query(FrequencyLeaf, out eax, out ebx, out ecx, out edx);
                uint megahertz = eax & 0xFFFF;
                if (megahertz != 0)
                {
                    source = CpuidFrequencySource.BaseFrequency;
                    return (ulong)megahertz * 1_000_000;
                }
            }
            source = CpuidFrequencySource.None;
            return 0;
        }
    }
}
