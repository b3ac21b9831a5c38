using Keel.Runtime;

namespace Keel.Kernel.Time
{
    /// <summary>The ACPI PM timer (3.579545 MHz, 24 or 32 bits, an I/O port from the FADT) as a calibration reference.</summary>
    public sealed class PmTimerReference : ICalibrationReference
    {
        private readonly ushort _port;
        private readonly uint _mask;

        public PmTimerReference(uint port, uint mask)
        {
            _port = (ushort)port;
            _mask = mask;
        }

        public string Name => "acpi-pm-timer";

        public ulong Frequency => TscCalibration.PmTimerFrequency;

        public bool Coarse => false;

        public ulong Mask => _mask;

        public ulong LossFreeTicks => (ulong)_mask + 1;

        public ulong Read() => Native.In32(_port) & _mask;
    }
}
