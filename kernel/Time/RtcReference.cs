using Keel.Hal;
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

        /// <summary>
        /// The RTC's date and time as Unix seconds (the RTC is taken to keep UTC, as QEMU's does by default, and
        /// the century to be 20xx); 0 when it answers nothing plausible. Reads twice until both agree, outside an
        /// update cycle.
        /// </summary>
        public static long ReadUnixSeconds()
        {
            const byte RegisterMinutes = 0x02;
            const byte RegisterHours = 0x04;
            const byte RegisterDay = 0x07;
            const byte RegisterMonth = 0x08;
            const byte RegisterYear = 0x09;
            const byte UpdateInProgress = 0x80;
            const byte Hours24 = 0x02;
            const byte HourPm = 0x80;
            if ((ReadRegister(RegisterA) & DividerMask) != Divider32Khz)
            {
                return 0;
            }
            byte b = ReadRegister(RegisterB);
            bool binary = (b & BinaryMode) != 0;
            long previous = -1;
            for (int attempt = 0; attempt < 8; attempt++)
            {
                for (int wait = 0; wait < 100000 && (ReadRegister(RegisterA) & UpdateInProgress) != 0; wait++)
                {
                }
                int second = Decode(ReadRegister(RegisterSeconds), binary);
                int minute = Decode(ReadRegister(RegisterMinutes), binary);
                byte hourRaw = ReadRegister(RegisterHours);
                int day = Decode(ReadRegister(RegisterDay), binary);
                int month = Decode(ReadRegister(RegisterMonth), binary);
                int year = Decode(ReadRegister(RegisterYear), binary);
                int hour = Decode((byte)(hourRaw & ~HourPm), binary);
                if ((b & Hours24) == 0)
                {
                    hour = (hour % 12) + ((hourRaw & HourPm) != 0 ? 12 : 0);
                }
                if (second > 59 || minute > 59 || hour > 23 || day < 1 || day > 31 || month < 1 || month > 12 || year > 99)
                {
                    return 0;
                }
                long now = CivilTime.ToUnixSeconds(2000 + year, month, day, hour, minute, second);
                if (now == previous)
                {
                    return now;
                }
                previous = now;
            }
            return 0;
        }

        private static int Decode(byte value, bool binary) => binary ? value : (value >> 4) * 10 + (value & 0xF);

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
