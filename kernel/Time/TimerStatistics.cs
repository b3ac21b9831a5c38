using Keel.Hal;

namespace Keel.Kernel.Time
{
    /// <summary>The timer queue's counters as an <see cref="IStatisticsSource"/> ("timer"; the <c>timers</c> command prints more).</summary>
    public sealed class TimerStatistics : IStatisticsSource
    {
        private static readonly string[] s_names =
        {
            "interrupts",
            "expirations",
            "arms",
            "active",
            "max_lateness",
        };

        private static readonly string[] s_help =
        {
            "APIC timer interrupts",
            "Timers that expired and ran",
            "Times the APIC deadline was armed",
            "Timers armed now",
            "Latest a timer has run after its deadline (nanoseconds)",
        };

        private readonly TimerService _timers;

        public TimerStatistics(TimerService timers)
        {
            _timers = timers;
        }

        public int StatisticsCount => s_names.Length;

        public string StatisticName(int index) => s_names[index];

        public string StatisticHelp(int index) => s_help[index];

        public StatisticKind StatisticKind(int index) => index >= 3 ? Keel.Hal.StatisticKind.Gauge : Keel.Hal.StatisticKind.Counter;

        public long StatisticValue(int index)
        {
            switch (index)
            {
                case 0: return _timers.Queue.Interrupts;
                case 1: return _timers.Queue.Expirations;
                case 2: return _timers.Queue.Arms;
                case 3: return _timers.Queue.ActiveCount;
                case 4: return _timers.Queue.MaxLateNanoseconds;
                default: return 0;
            }
        }
    }
}
