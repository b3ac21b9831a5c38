using System.Collections.Generic;
using System.Text;
using System.Text.RegularExpressions;
using Keel.Apps.Hosting;
using Keel.Apps.Http;
using Keel.Apps.Text;
using Keel.Hal;
using NUnit.Framework;

namespace Keel.Tests.Http
{
    public class MetricsWriterTests
    {
        private sealed class Source : IStatisticsSource
        {
            private readonly string[] _names;
            private readonly StatisticKind[] _kinds;
            private readonly string[] _help;

            public Source(string[] names, StatisticKind[] kinds, string[] help)
            {
                _names = names;
                _kinds = kinds;
                _help = help;
            }

            public int StatisticsCount => _names.Length;

            public string StatisticName(int index) => _names[index];

            public long StatisticValue(int index) => 100 + index;

            public StatisticKind StatisticKind(int index) => _kinds[index];

            public string StatisticHelp(int index) => _help[index];
        }

        private static string Write(StatisticsRegistry registry)
        {
            TextBuffer text = new TextBuffer(1 << 16);
            MetricsWriter.Write(registry, 42, text);
            Assert.That(text.Overflowed, Is.False);
            return Encoding.ASCII.GetString(text.Text.ToArray());
        }

        [Test]
        public void QueuesBecomeALabelAndFamiliesStayTogether()
        {
            StatisticsRegistry registry = new StatisticsRegistry();
            registry.Add("virtio_net", new Source(
                new[] { "rx_queue_0_packets", "rx_queue_1_packets", "page_pool_in_flight", "rx_queue_1_bytes", "rx_queue_0_bytes" },
                new[] { StatisticKind.Counter, StatisticKind.Counter, StatisticKind.Gauge, StatisticKind.Counter, StatisticKind.Counter },
                new[] { "Packets received", "Packets received", "Pages out \\ in\nuse", "Bytes", "Bytes" }));
            string text = Write(registry);
            Assert.That(text, Is.EqualTo(
                "# HELP keel_uptime_seconds Time since the kernel started\n" +
                "# TYPE keel_uptime_seconds gauge\n" +
                "keel_uptime_seconds 42\n" +
                "# HELP keel_virtio_net_rx_packets_total Packets received\n" +
                "# TYPE keel_virtio_net_rx_packets_total counter\n" +
                "keel_virtio_net_rx_packets_total{queue=\"0\"} 100\n" +
                "keel_virtio_net_rx_packets_total{queue=\"1\"} 101\n" +
                "# HELP keel_virtio_net_page_pool_in_flight Pages out \\\\ in\\nuse\n" +
                "# TYPE keel_virtio_net_page_pool_in_flight gauge\n" +
                "keel_virtio_net_page_pool_in_flight 102\n" +
                "# HELP keel_virtio_net_rx_bytes_total Bytes\n" +
                "# TYPE keel_virtio_net_rx_bytes_total counter\n" +
                "keel_virtio_net_rx_bytes_total{queue=\"1\"} 103\n" +
                "keel_virtio_net_rx_bytes_total{queue=\"0\"} 104\n"));
        }

        [Test]
        public void SubsystemIsNotRepeated()
        {
            StatisticsRegistry registry = new StatisticsRegistry();
            registry.Add("iperf3", new Source(new[] { "iperf3_tests_started" }, new[] { StatisticKind.Counter }, new[] { "Tests" }));
            Assert.That(Write(registry), Does.Contain("\nkeel_iperf3_tests_started_total 100\n"));
        }

        [Test]
        public void ACounterWithoutHelpStillGetsAHelpLine()
        {
            StatisticsRegistry registry = new StatisticsRegistry();
            registry.Add("net", new Source(new[] { "ip6_rx" }, new[] { StatisticKind.Counter }, new[] { "" }));
            Assert.That(Write(registry), Does.Contain("\n# HELP keel_net_ip6_rx_total ip6_rx\n"));
        }

        /// <summary>
        /// The whole exposition of the real stack's sources against the text format's grammar: every line a HELP, a
        /// TYPE or a sample; metric names [a-zA-Z_:][a-zA-Z0-9_:]*; each family's HELP and TYPE once, before its
        /// samples, its samples together; counters named _total.
        /// </summary>
        [Test]
        public void RealSourcesFollowTheExpositionFormat()
        {
            SingleStack net = new SingleStack();
            StatisticsRegistry registry = new StatisticsRegistry();
            registry.Add("net", net.Stack);
            registry.Add("dhcp", new Keel.Net.Dhcp.DhcpClient(net.Stack));
            string text = Write(registry);
            Regex help = new Regex(@"^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) [^\n]*$");
            Regex type = new Regex(@"^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$");
            Regex sample = new Regex(@"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{queue=""[0-9]+""\})? -?[0-9]+$");
            HashSet<string> seen = new HashSet<string>();
            string current = null;
            string currentType = null;
            string[] lines = text.TrimEnd('\n').Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                Match m;
                if ((m = help.Match(lines[i])).Success)
                {
                    Assert.That(seen.Add(m.Groups[1].Value), Is.True, "family twice: " + m.Groups[1].Value);
                    current = m.Groups[1].Value;
                    Assert.That(type.Match(lines[i + 1]).Groups[1].Value, Is.EqualTo(current), "TYPE after HELP");
                }
                else if ((m = type.Match(lines[i])).Success)
                {
                    currentType = m.Groups[2].Value;
                }
                else
                {
                    m = sample.Match(lines[i]);
                    Assert.That(m.Success, Is.True, "not a sample line: " + lines[i]);
                    Assert.That(m.Groups[1].Value, Is.EqualTo(current), "sample outside its family");
                    Assert.That(m.Groups[1].Value.EndsWith("_total"), Is.EqualTo(currentType == "counter"), lines[i]);
                }
            }
            Assert.That(text, Does.Contain("\nkeel_net_tcp_passive_opens_total 0\n"));
            Assert.That(text, Does.Contain("\n# TYPE keel_dhcp_leases_total counter\n"));
        }
    }
}
