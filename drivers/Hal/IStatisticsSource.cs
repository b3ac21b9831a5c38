namespace Keel.Hal
{
    /// <summary>
    /// Something with named counters (Linux ethtool -S style names such as rx_queue_0_packets). The one
    /// enumeration of a component's counters: the shell's <c>stats</c>, <c>rng</c> and <c>iperf3</c> commands, the
    /// tests and the HTTP server's <c>/metrics</c> and <c>/stats</c> all read counters through this.
    /// </summary>
    public interface IStatisticsSource
    {
        /// <summary>Number of counters.</summary>
        int StatisticsCount { get; }

        /// <summary>Name of counter <paramref name="index"/>; a string literal, never built at run time. A
        /// <c>queue_N_</c> part names a queue (exported as a <c>queue="N"</c> label).</summary>
        string StatisticName(int index);

        /// <summary>Current value of counter <paramref name="index"/>.</summary>
        long StatisticValue(int index);

        /// <summary>Whether counter <paramref name="index"/> only grows (a count of events) or is a level that
        /// goes up and down (pages held, buffers posted).</summary>
        StatisticKind StatisticKind(int index);

        /// <summary>One line saying what counter <paramref name="index"/> counts (a string literal).</summary>
        string StatisticHelp(int index);
    }

    /// <summary>Kind of a counter of an <see cref="IStatisticsSource"/> (Prometheus: counter or gauge).</summary>
    public enum StatisticKind
    {
        /// <summary>A count of events since start: never goes down.</summary>
        Counter,

        /// <summary>A current level (in use, held, configured size): goes up and down.</summary>
        Gauge,
    }
}
