using Keel.Runtime;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// The time-stamp counter as the kernel clock, calibrated once against the PIT (channel 2, gated by
    /// port 0x61, no interrupt needed).
    /// </summary>
    public static class Tsc
    {
        private const ushort PitChannel2 = 0x42;
        private const ushort PitCommand = 0x43;
        private const ushort PitGatePort = 0x61;
        private const byte PitChannel2OneShot = 0xB0;
        private const byte GateOn = 0x01;
        private const byte SpeakerOff = 0x02;
        private const byte OutputHigh = 0x20;
        private const uint PitFrequency = 1193182;
        private const uint CalibrationMilliseconds = 10;

        /// <summary>TSC ticks per microsecond (measured).</summary>
        public static ulong TicksPerMicrosecond;

        /// <summary>TSC value at calibration (time zero of <see cref="NowNanoseconds"/>).</summary>
        public static ulong Origin;

        /// <summary>Measures the TSC rate over 10 ms of PIT time.</summary>
        public static void Calibrate()
        {
            uint count = PitFrequency * CalibrationMilliseconds / 1000;
            byte gate = Native.In8(PitGatePort);
            Native.Out8(PitGatePort, (byte)((gate & ~SpeakerOff) & ~GateOn));
            Native.Out8(PitCommand, PitChannel2OneShot);
            Native.Out8(PitChannel2, (byte)count);
            Native.Out8(PitChannel2, (byte)(count >> 8));
            gate = Native.In8(PitGatePort);
            Native.Out8(PitGatePort, (byte)(gate | GateOn));
            ulong start = Native.ReadTimestampCounter();
            int spins = 0;
            while ((Native.In8(PitGatePort) & OutputHigh) == 0 && spins < 50000000)
            {
                spins++;
            }
            ulong end = Native.ReadTimestampCounter();
            TicksPerMicrosecond = (end - start) / (CalibrationMilliseconds * 1000);
            if (TicksPerMicrosecond == 0)
            {
                TicksPerMicrosecond = 1;
            }
            Origin = start;
        }

        /// <summary>Nanoseconds since calibration.</summary>
        public static long NowNanoseconds
        {
            get
            {
                ulong ticks = Native.ReadTimestampCounter() - Origin;
                return (long)(ticks * 1000 / TicksPerMicrosecond);
            }
        }
    }
}
