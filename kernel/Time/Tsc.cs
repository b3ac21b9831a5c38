using Keel.Kernel.Acpi;
using Keel.Kernel.Console;
using Keel.Runtime;

namespace Keel.Kernel.Time
{
    /// <summary>
    /// The time-stamp counter as the kernel clock. Its rate comes from CPUID when the CPU or the hypervisor
    /// states it (<see cref="CpuidTscFrequency"/>), else from <see cref="TscCalibration"/> against the first timer
    /// the machine has, in this order: HPET, ACPI PM timer (both from the ACPI tables), PIT, RTC: first over a few
    /// milliseconds, kept only when that shows the rate to 0.05 %, else over <see cref="CalibrationMilliseconds"/>.
    /// A calibration that fails is said on the console and the next timer is tried; it is never used.
    /// </summary>
    public static class Tsc
    {
        private const uint CalibrationMilliseconds = 10;

        /// <summary>The RTC's seconds tick at 1 Hz: one second.</summary>
        private const uint RtcCalibrationMilliseconds = 1000;

        /// <summary>Used when nothing gives the rate: the clock is then only a guess, and the console says so.</summary>
        public const ulong AssumedTicksPerMicrosecond = 1000;

        /// <summary>TSC ticks per microsecond.</summary>
        public static ulong TicksPerMicrosecond;

        /// <summary>TSC value at calibration (time zero of <see cref="NowNanoseconds"/>).</summary>
        public static ulong Origin;

        /// <summary>Bracket of the calibration used, in TSC ticks (0 when the rate came from CPUID).</summary>
        public static ulong CalibrationUncertainty;

        /// <summary>Measurements the calibration used made (0 when the rate came from CPUID).</summary>
        public static int CalibrationAttempts;

        /// <summary>Measurements that calibration could have made (0 when the rate came from CPUID).</summary>
        public static int CalibrationAttemptsAllowed;

        /// <summary>TSC ticks of the measurement kept (0 when the rate came from CPUID).</summary>
        public static ulong CalibrationInterval;

        /// <summary>The CPUID leaf the rate came from (None when it was measured or assumed).</summary>
        public static CpuidFrequencySource CpuidSource;

        /// <summary>The timer the rate was measured against (null when it came from CPUID or was assumed).</summary>
        public static string Reference;

        /// <summary>Finds the TSC rate; says on <paramref name="console"/> each calibration refused.</summary>
        public static void Calibrate(SerialConsole console)
        {
            Origin = Native.ReadTimestampCounter();
            ulong hertz = CpuidTscFrequency.Read(new KernelCpuid(), out CpuidSource);
            if (hertz >= 1_000_000)
            {
                TicksPerMicrosecond = hertz / 1_000_000;
                return;
            }
            CpuidSource = CpuidFrequencySource.None;
            TscCounter tsc = new TscCounter();
            AcpiTimerInfo timers = (object)AcpiSubsystem.Tables != null ? AcpiSubsystem.Tables.Timers : null;
            if ((object)timers != null && timers.HpetAddress != 0)
            {
                HpetReference hpet = new HpetReference(timers.HpetAddress);
                if (hpet.Start() && TryCalibrate(console, tsc, hpet, CalibrationMilliseconds))
                {
                    return;
                }
            }
            if ((object)timers != null && timers.PmTimerPort != 0 && TryCalibrate(console, tsc, new PmTimerReference(timers.PmTimerPort, timers.PmTimerMask), CalibrationMilliseconds))
            {
                return;
            }
            PitReference pit = new PitReference();
            if (pit.Start() && TryCalibrate(console, tsc, pit, CalibrationMilliseconds))
            {
                return;
            }
            RtcReference rtc = new RtcReference();
            if (rtc.Start() && TryCalibrate(console, tsc, rtc, RtcCalibrationMilliseconds))
            {
                return;
            }
            TicksPerMicrosecond = AssumedTicksPerMicrosecond;
            console.Write("clock: no TSC rate from CPUID and no timer to measure it against: assuming ");
            console.Write((long)AssumedTicksPerMicrosecond);
            console.Write(" MHz, time will be wrong\n");
        }

        /// <summary>
        /// A quick measurement first (<see cref="TscCalibration.MeasureQuick"/>: a few milliseconds, kept only when it
        /// shows the rate to 0.05 %), else the full one over <paramref name="milliseconds"/>; false (said on the
        /// console) when that is refused too.
        /// </summary>
        private static bool TryCalibrate(SerialConsole console, TscCounter tsc, ICalibrationReference reference, uint milliseconds)
        {
            CalibrationResult result = TscCalibration.MeasureQuick(tsc, reference);
            int attemptsAllowed = TscCalibration.QuickAttempts;
            if (!result.Succeeded)
            {
                result = TscCalibration.Measure(tsc, reference, milliseconds);
                attemptsAllowed = TscCalibration.MaxAttempts;
            }
            if (result.Succeeded)
            {
                TicksPerMicrosecond = result.TicksPerMicrosecond;
                CalibrationUncertainty = result.Uncertainty;
                CalibrationInterval = result.Interval;
                CalibrationAttempts = result.Attempts;
                CalibrationAttemptsAllowed = attemptsAllowed;
                Reference = reference.Name;
                return true;
            }
            console.Write("clock: calibration against ");
            console.Write(reference.Name);
            console.Write(" refused (");
            console.Write(FailureText(result.Failure));
            console.Write(", bracket ");
            console.Write((long)result.Uncertainty);
            console.Write(" of ");
            console.Write((long)result.Interval);
            console.Write(" TSC ticks, ");
            console.Write((long)result.Attempts);
            console.Write(" tries)\n");
            return false;
        }

        private static string FailureText(CalibrationFailure failure)
        {
            switch (failure)
            {
                case CalibrationFailure.ReferenceStopped: return "the timer did not move";
                case CalibrationFailure.Disturbed: return "every try was interrupted long enough to lose timer ticks";
                case CalibrationFailure.TooUncertain: return "bracket over 2 % of the interval";
                default: return "under 1 MHz";
            }
        }

        /// <summary>Prints where the rate came from: "clock: TSC N MHz ..." (one line).</summary>
        public static void Print(SerialConsole console)
        {
            console.Write("clock: TSC ");
            console.Write((long)TicksPerMicrosecond);
            console.Write(" MHz");
            if (CpuidSource != CpuidFrequencySource.None)
            {
                console.Write(" from CPUID leaf ");
                console.WriteHex(CpuidSource == CpuidFrequencySource.HypervisorLeaf ? CpuidTscFrequency.HypervisorTimingLeaf
                    : CpuidSource == CpuidFrequencySource.CrystalRatio ? CpuidTscFrequency.CrystalLeaf : CpuidTscFrequency.FrequencyLeaf);
            }
            else if ((object)Reference != null)
            {
                console.Write(", calibrated against ");
                console.Write(Reference);
                console.Write(" (bracket ");
                console.Write((long)(CalibrationUncertainty / TicksPerMicrosecond));
                console.Write(" us over ");
                console.Write((long)(CalibrationInterval / TicksPerMicrosecond));
                console.Write(" us, ");
                console.Write((long)CalibrationAttempts);
                console.Write(" of at most ");
                console.Write((long)CalibrationAttemptsAllowed);
                console.Write(" tries)");
            }
            else
            {
                console.Write(" (assumed)");
            }
            console.Write('\n');
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

        private sealed class TscCounter : ICalibrationClock
        {
            public ulong ReadCounter() => Native.ReadTimestampCounter();
        }

        private sealed unsafe class KernelCpuid : ICpuid
        {
            public void Query(uint leaf, out uint eax, out uint ebx, out uint ecx, out uint edx)
            {
                uint* registers = stackalloc uint[4];
                Native.Cpuid(leaf, 0, registers);
                eax = registers[0];
                ebx = registers[1];
                ecx = registers[2];
                edx = registers[3];
            }
        }
    }
}
