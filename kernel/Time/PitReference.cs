using Keel.Runtime;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// PIT (8254) channel 0 as a calibration reference: a rate generator reloading 65536, its count latched and
    /// read through port 0x40. Needs no port 0x61 (the PC's speaker gate, which microvm does not have). Present
    /// when the read-back status shows the mode just programmed.
    /// </summary>
    public sealed class PitReference : ICalibrationReference
    {
        private const ushort Channel0 = 0x40;
        private const ushort Command = 0x43;
        private const byte Channel0RateGenerator = 0x34;
        private const byte LatchChannel0 = 0x00;
        private const byte ReadBackStatusChannel0 = 0xE2;
        private const byte StatusModeBits = 0x3F;

        public string Name => "pit";

        public ulong Frequency => TscCalibration.PitFrequency;

        public bool Coarse => false;

        public ulong Mask => 0xFFFF;

        public ulong LossFreeTicks => 0x10000;

        /// <summary>Programs channel 0; false when no PIT answers.</summary>
        public bool Start()
        {
            Native.Out8(Command, Channel0RateGenerator);
            Native.Out8(Channel0, 0);
            Native.Out8(Channel0, 0);
            Native.Out8(Command, ReadBackStatusChannel0);
            return (Native.In8(Channel0) & StatusModeBits) == Channel0RateGenerator;
        }

        /// <summary>The count, turned to go up (the PIT counts down).</summary>
        public ulong Read()
        {
            Native.Out8(Command, LatchChannel0);
            uint low = Native.In8(Channel0);
            uint high = Native.In8(Channel0);
            return (0x10000 - (low | (high << 8))) & 0xFFFF;
        }
    }
}
