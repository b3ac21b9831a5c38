using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Net
{
    /// <summary><c>stats</c>: the NIC's counters with Linux ethtool -S names (optionally only those containing a word).</summary>
    public sealed class StatsCommand : IShellCommand
    {
        private readonly IStatisticsSource _source;

        public StatsCommand(IStatisticsSource source)
        {
            _source = source;
        }

        public string Name => "stats";

        public string Help => "stats [filter]: NIC counters (ethtool -S names)";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            System.ReadOnlySpan<char> filter = arguments.Count > 0 ? arguments.Get(0) : System.ReadOnlySpan<char>.Empty;
            Print(_source, filter, output);
            // The receive watchdog's rescues (kernel/Net/ReceiveWatchdog.cs): must read 0.
            if ((object)NetworkSubsystem.Watchdog != null)
            {
                Print(NetworkSubsystem.Watchdog, filter, output);
            }
        }

        private static void Print(IStatisticsSource source, System.ReadOnlySpan<char> filter, ITextOutput output)
        {
            for (int i = 0; i < source.StatisticsCount; i++)
            {
                string name = source.StatisticName(i);
                if (!filter.IsEmpty && !Contains(name, filter))
                {
                    continue;
                }
                output.Write("     ");
                output.Write(name);
                output.Write(": ");
                output.Write(source.StatisticValue(i));
                output.WriteLine();
            }
        }

        private static bool Contains(string text, System.ReadOnlySpan<char> word)
        {
            for (int start = 0; start + word.Length <= text.Length; start++)
            {
                int i = 0;
                while (i < word.Length && text[start + i] == word[i])
                {
                    i++;
                }
                if (i == word.Length)
                {
                    return true;
                }
            }
            return false;
        }
    }
}
