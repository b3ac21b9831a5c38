using Keel.Apps.Hosting;
using Keel.Apps.Text;
using Keel.Hal;

namespace Keel.Apps.Http
{
    /// <summary>
    /// Writes every counter of a <see cref="StatisticsRegistry"/> in the Prometheus text exposition format 0.0.4:
    /// per metric family a <c># HELP</c> and a <c># TYPE</c> line, then its samples, all lines of a family together.
    /// Names are <c>keel_</c>, the subsystem (left out when the counter's name already starts with it), and the
    /// counter's ethtool-style name with any <c>queue_N_</c> part taken out and turned into a <c>queue="N"</c>
    /// label; counters end in <c>_total</c>. So <c>rx_queue_0_packets</c> of subsystem <c>virtio_net</c> is
    /// <c>keel_virtio_net_rx_packets_total{queue="0"}</c>. Nothing is allocated.
    /// </summary>
    public static class MetricsWriter
    {
        /// <summary>Content-Type of the exposition (text format 0.0.4).</summary>
        public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

        public static void Write(StatisticsRegistry registry, long uptimeSeconds, TextBuffer output)
        {
            output.Append("# HELP keel_uptime_seconds Time since the kernel started\n# TYPE keel_uptime_seconds gauge\nkeel_uptime_seconds ");
            output.Append(uptimeSeconds);
            output.Append('\n');
            for (int s = 0; s < registry.Count; s++)
            {
                WriteSource(registry.Subsystem(s), registry.Source(s), output);
            }
        }

        private static void WriteSource(string subsystem, IStatisticsSource source, TextBuffer output)
        {
            int count = source.StatisticsCount;
            for (int i = 0; i < count; i++)
            {
                string name = source.StatisticName(i);
                if (FirstOfFamily(source, i) != i)
                {
                    continue; // written with the first counter of its family
                }
                bool counter = source.StatisticKind(i) == StatisticKind.Counter;
                output.Append("# HELP ");
                AppendFamily(subsystem, name, counter, output);
                output.Append(' ');
                string help = source.StatisticHelp(i);
                if ((object)help == null || help.Length == 0)
                {
                    help = name; // a counter added without its line of help still gets a non-empty HELP
                }
                AppendHelp(help, output);
                output.Append("\n# TYPE ");
                AppendFamily(subsystem, name, counter, output);
                output.Append(counter ? " counter\n" : " gauge\n");
                for (int j = i; j < count; j++)
                {
                    if (j == i || SameFamily(name, source.StatisticName(j)))
                    {
                        AppendSample(subsystem, source.StatisticName(j), counter, source.StatisticValue(j), output);
                    }
                }
            }
        }

        private static int FirstOfFamily(IStatisticsSource source, int index)
        {
            string name = source.StatisticName(index);
            for (int i = 0; i < index; i++)
            {
                if (SameFamily(source.StatisticName(i), name))
                {
                    return i;
                }
            }
            return index;
        }

        private static void AppendSample(string subsystem, string name, bool counter, long value, TextBuffer output)
        {
            AppendFamily(subsystem, name, counter, output);
            FindQueue(name, out int queueStart, out int queueLength);
            if (queueLength > 0)
            {
                output.Append("{queue=\"");
                // The digits of "queue_N_".
                for (int k = queueStart + 6; k < queueStart + queueLength - 1; k++)
                {
                    output.Append(name[k]);
                }
                output.Append("\"}");
            }
            output.Append(' ');
            output.Append(value);
            output.Append('\n');
        }

        private static void AppendFamily(string subsystem, string name, bool counter, TextBuffer output)
        {
            output.Append("keel_");
            if (!StartsWithWord(name, subsystem))
            {
                output.Append(subsystem);
                output.Append('_');
            }
            FindQueue(name, out int queueStart, out int queueLength);
            for (int k = 0; k < name.Length; k++)
            {
                if (k < queueStart || k >= queueStart + queueLength)
                {
                    output.Append(name[k]);
                }
            }
            if (counter)
            {
                output.Append("_total");
            }
        }

        /// <summary>Two counter names that differ only in their queue number.</summary>
        private static bool SameFamily(string a, string b)
        {
            FindQueue(a, out int aStart, out int aLength);
            FindQueue(b, out int bStart, out int bLength);
            if (aLength == 0 || bLength == 0)
            {
                return aLength == bLength && a == b;
            }
            if (aStart != bStart || a.Length - aLength != b.Length - bLength)
            {
                return false;
            }
            for (int k = 0; k < aStart; k++)
            {
                if (a[k] != b[k])
                {
                    return false;
                }
            }
            for (int k = 0; k < a.Length - aStart - aLength; k++)
            {
                if (a[aStart + aLength + k] != b[bStart + bLength + k])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>Where "queue_N_" (N decimal digits) is in <paramref name="name"/>, at a word boundary; length 0 when nowhere.</summary>
        public static void FindQueue(string name, out int start, out int length)
        {
            for (int i = 0; i + 7 < name.Length; i++)
            {
                if ((i == 0 || name[i - 1] == '_') && name[i] == 'q' && name[i + 1] == 'u' && name[i + 2] == 'e' &&
                    name[i + 3] == 'u' && name[i + 4] == 'e' && name[i + 5] == '_')
                {
                    int k = i + 6;
                    while (k < name.Length && name[k] >= '0' && name[k] <= '9')
                    {
                        k++;
                    }
                    if (k > i + 6 && k < name.Length && name[k] == '_')
                    {
                        start = i;
                        length = k + 1 - i;
                        return;
                    }
                }
            }
            start = 0;
            length = 0;
        }

        private static bool StartsWithWord(string name, string prefix)
        {
            if (name.Length <= prefix.Length || name[prefix.Length] != '_')
            {
                return false;
            }
            for (int k = 0; k < prefix.Length; k++)
            {
                if (name[k] != prefix[k])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>HELP text with '\' and line feeds escaped (exposition format: "\\" and "\n").</summary>
        private static void AppendHelp(string help, TextBuffer output)
        {
            for (int k = 0; k < help.Length; k++)
            {
                char c = help[k];
                if (c == '\\')
                {
                    output.Append("\\\\");
                }
                else if (c == '\n')
                {
                    output.Append("\\n");
                }
                else
                {
                    output.Append(c);
                }
            }
        }
    }
}
