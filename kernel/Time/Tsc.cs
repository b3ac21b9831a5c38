using Keel.Runtime;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// The time-stamp counter as the kernel clock, calibrated once against the PIT (channel 2, gated by
    /// port 0x61, no interrupt needed) by <see cref="TscCalibration"/>.
    /// </summary>
    public static class Tsc
    {
        private const uint CalibrationMilliseconds = 10;

        /// <summary>TSC ticks per microsecond (measured).</summary>
        public static ulong TicksPerMicrosecond;

        /// <summary>TSC value at calibration (time zero of <see cref="NowNanoseconds"/>).</summary>
        public static ulong Origin;

        /// <summary>Bracket of the calibration used, in TSC ticks (see <see cref="TscCalibration"/>).</summary>
        public static ulong CalibrationUncertainty;

        /// <summary>Measurements the calibration made.</summary>
        public static int CalibrationAttempts;

        /// <summary>Measures the TSC rate over 10 ms of PIT time.</summary>
        public static void Calibrate()
        {
            Origin = Native.ReadTimestampCounter();
            TicksPerMicrosecond = TscCalibration.Measure(new PitChannel2(), CalibrationMilliseconds,
                out CalibrationUncertainty, out CalibrationAttempts);
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

        /// <summary>PIT channel 2 in one-shot mode, its OUT pin read through port 0x61; the TSC.</summary>
        private sealed class PitChannel2 : ICalibrationClock
        {
            private const ushort Channel2 = 0x42;
            private const ushort Command = 0x43;
            private const ushort GatePort = 0x61;
            private const byte Channel2OneShot = 0xB0;
            private const byte GateOn = 0x01;
            private const byte SpeakerOff = 0x02;
            private const byte OutputHigh = 0x20;

            public ulong ReadCounter() => Native.ReadTimestampCounter();

            public void StartReference(uint ticks)
            {
                byte gate = Native.In8(GatePort);
                Native.Out8(GatePort, (byte)((gate & ~SpeakerOff) & ~GateOn));
                Native.Out8(Command, Channel2OneShot);
                Native.Out8(Channel2, (byte)ticks);
                Native.Out8(Channel2, (byte)(ticks >> 8));
                gate = Native.In8(GatePort);
                Native.Out8(GatePort, (byte)(gate | GateOn));
            }

            public bool ReferenceExpired => (Native.In8(GatePort) & OutputHigh) != 0;
        }
    }
}
