using Keel.Runtime;

namespace Keel.Kernel.Entropy
{
    /// <summary>RDRAND, when CPUID leaf 1 says the CPU has it (ECX bit 30).</summary>
    public sealed unsafe class CpuRandom : IHardwareRandom
    {
        private const uint RdrandBit = 1u << 30;

        private CpuRandom()
        {
        }

        /// <summary>The CPU's generator, or null when it has none.</summary>
        public static CpuRandom TryCreate()
        {
            uint* registers = stackalloc uint[4];
            Native.Cpuid(1, 0, registers);
            return (registers[2] & RdrandBit) != 0 ? new CpuRandom() : null;
        }

        public bool TryRead(out ulong value)
        {
            ulong result = 0;
            int ok = Native.ReadRandom(&result);
            value = result;
            return ok != 0;
        }
    }
}
