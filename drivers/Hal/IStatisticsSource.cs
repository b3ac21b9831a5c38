namespace Keel.Hal
{
    /// <summary>
    /// Something with named counters (Linux ethtool -S style names such as rx_queue_0_packets).
    /// The shell's <c>stats</c> command and the tests read counters through this.
    /// </summary>
    public interface IStatisticsSource
    {
        /// <summary>Number of counters.</summary>
        int StatisticsCount { get; }

        /// <summary>Name of counter <paramref name="index"/>; a string literal, never built at run time.</summary>
        string StatisticName(int index);

        /// <summary>Current value of counter <paramref name="index"/>.</summary>
        long StatisticValue(int index);
    }
}
