using Keel.Kernel.Memory;
using Keel.Kernel.Pci;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// The HPET's main counter (IA-PC HPET specification 1.0a, section 2.3) as a calibration reference: its
    /// period from the capabilities register, the counter enabled if it was not, the low 32 bits read.
    /// </summary>
    public sealed unsafe class HpetReference : ICalibrationReference
    {
        private const int CapabilitiesRegister = 0x00;
        private const int ConfigurationRegister = 0x10;
        private const int MainCounterRegister = 0xF0;
        private const uint EnableCounter = 1;

        /// <summary>The specification's longest allowed period, 100 ns, in femtoseconds.</summary>
        public const uint MaxPeriodFemtoseconds = 100_000_000;

        private readonly MmioRegion _registers;
        private ulong _frequency;

        public HpetReference(ulong physicalAddress)
        {
            _registers = new MmioRegion(AddressSpace.MapDevice(physicalAddress, 1024, &KernelMemory.AllocatePageTablePage), 1024);
        }

        public string Name => "hpet";

        public ulong Frequency => _frequency;

        public bool Coarse => false;

        public ulong Mask => 0xFFFFFFFF;

        public ulong LossFreeTicks => 0x100000000;

        /// <summary>Reads the period and starts the counter; false when the period is not a valid one.</summary>
        public bool Start()
        {
            // COUNTER_CLK_PERIOD: bits 63:32 of the capabilities register.
            uint period = _registers.Read32(CapabilitiesRegister + 4);
            if (period == 0 || period > MaxPeriodFemtoseconds)
            {
                return false;
            }
            _frequency = 1_000_000_000_000_000UL / period;
            uint configuration = _registers.Read32(ConfigurationRegister);
            if ((configuration & EnableCounter) == 0)
            {
                _registers.Write32(ConfigurationRegister, configuration | EnableCounter);
            }
            return true;
        }

        public ulong Read() => _registers.Read32(MainCounterRegister);
    }
}
