using Keel.Runtime;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// The CMOS RTC's seconds register (MC146818) as a 1 Hz calibration reference: the count is the seconds seen
    /// change, and a poll would have to miss a whole minute to lose one. Its periodic flag (register C) would be
    /// quicker, but under QEMU's TCG the flag is set by a device timer that waits for the lock the polling vCPU
    /// keeps taking, so its edges arrive with brackets of milliseconds; the time registers are computed when read.
    /// Present when register A shows the 32.768 kHz divider running and the seconds read as a valid value.
    /// </summary>
    public sealed class RtcReference : ICalibrationReference
    {
        private const ushort IndexPort = 0x70;
        private const ushort DataPort = 0x71;
        private const byte NmiDisable = 0x80;
        private const byte RegisterSeconds = 0x00;
        private const byte RegisterA = 0x0A;
        private const byte RegisterB = 0x0B;
        private const byte DividerMask = 0x70;
        private const byte Divider32Khz = 0x20;
        private const byte BinaryMode = 0x04;

        private bool _binary;
        private uint _last;
        private ulong _seconds;

        public string Name => "rtc";

        public ulong Frequency => 1;

        public bool Coarse => true;

        public ulong Mask => ulong.MaxValue;

        public ulong LossFreeTicks => 60;

        /// <summary>False when no RTC answers.</summary>
        public bool Start()
        {
            if ((ReadRegister(RegisterA) & DividerMask) != Divider32Khz)
            {
                return false;
            }
            _binary = (ReadRegister(RegisterB) & BinaryMode) != 0;
            _last = ReadSeconds();
            _seconds = 0;
            return _last < 60;
        }

        public ulong Read()
        {
            uint now = ReadSeconds();
            if (now < 60)
            {
                _seconds += (now + 60 - _last) % 60;
                _last = now;
            }
            return _seconds;
        }

        private uint ReadSeconds()
        {
            uint value = ReadRegister(RegisterSeconds);
            return _binary ? value : (value >> 4) * 10 + (value & 0xF);
        }

        private static byte ReadRegister(byte index)
        {
            Native.Out8(IndexPort, (byte)(NmiDisable | index));
            return Native.In8(DataPort);
        }
    }
}
