using System;
using System.Diagnostics;
using System.IO;
using System.Text.Json;
using System.Threading;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// The HTTP server (port 80) of one booted kernel driven by the host's curl, its /metrics checked by promtool and
    /// scraped by a real Prometheus started inside the test's network namespace.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class HttpTests
    {
        private const string Base = "http://" + NetworkNamespace.GuestAddress;

        private NetworkNamespace _netns;
        private QemuGuest _guest;

        [OneTimeSetUp]
        public void Boot()
        {
            _netns = new NetworkNamespace();
            _guest = TapGuest.Boot(_netns, "256M", 300);
        }

        [OneTimeTearDown]
        public void Stop()
        {
            _guest?.Dispose();
            _netns?.Dispose();
        }

        private string Curl(params string[] arguments)
        {
            string[] all = new string[arguments.Length + 3];
            all[0] = "-sS";
            all[1] = "--max-time";
            all[2] = "20";
            Array.Copy(arguments, 0, all, 3, arguments.Length);
            (int status, string output) = _netns.Exec(30, "curl", all);
            Assert.That(status, Is.EqualTo(0), "curl " + string.Join(" ", arguments) + ":\n" + output);
            return output;
        }

        [Test, Order(1)]
        public void CurlFetchesThePageStatsAndBytesOnOneConnection()
        {
            // One curl, three URLs on the same host: one persistent connection (curl reuses it).
            string output = Curl("-D", "-", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{num_connects}\\n",
                Base + "/", Base + "/stats", Base + "/bytes/100000");
            TestContext.Out.WriteLine(output);
            Assert.That(output, Does.Contain("Content-Type: text/html"));
            Assert.That(output, Does.Contain("Transfer-Encoding: chunked"), "/stats is chunked to HTTP/1.1");
            Assert.That(output, Does.Contain("Server: Keel"));
            Assert.That(output, Does.Match(@"Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "the RTC gives a wall clock under QEMU");
            Assert.That(output, Does.Contain("200 100000 0"), "/bytes/100000 in full, on the reused connection");
            string page = Curl(Base + "/");
            Assert.That(page, Does.Contain("<h1>Keel</h1>"));
            using JsonDocument stats = JsonDocument.Parse(Curl(Base + "/stats"));
            Assert.That(stats.RootElement.GetProperty("uptime_seconds").GetInt64(), Is.GreaterThanOrEqualTo(0));
            Assert.That(stats.RootElement.GetProperty("memory").GetProperty("pages_free").GetInt64(), Is.GreaterThan(0));
            Assert.That(stats.RootElement.GetProperty("virtio_net").GetProperty("rx_queue_0_packets").GetInt64(), Is.GreaterThan(0));
            Assert.That(stats.RootElement.GetProperty("net").GetProperty("tcp_passive_opens").GetInt64(), Is.GreaterThan(0));
            string head = Curl("-I", Base + "/metrics");
            Assert.That(head, Does.StartWith("HTTP/1.1 200 OK").And.Contain("version=0.0.4"));
            string missing = Curl("-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", Base + "/");
            Assert.That(missing.Trim(), Is.EqualTo("405"));
        }

        [Test, Order(2)]
        public void PromtoolChecksMetrics()
        {
            (int status, string output) = _netns.Exec(30, "sh", "-c", "curl -sS --max-time 20 " + Base + "/metrics > /tmp/keel-metrics-$$ && " +
                "promtool check metrics < /tmp/keel-metrics-$$; s=$?; grep -c '^# TYPE' /tmp/keel-metrics-$$; rm -f /tmp/keel-metrics-$$; exit $s");
            TestContext.Out.WriteLine(output);
            Assert.That(status, Is.EqualTo(0), output);
        }

        [Test, Order(3)]
        public void PrometheusScrapesTheGuest()
        {
            string dir = Path.Combine(Path.GetTempPath(), "keel-prometheus-" + Environment.ProcessId);
            Directory.CreateDirectory(dir);
            string config = Path.Combine(dir, "prometheus.yml");
            File.WriteAllText(config,
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n" +
                "scrape_configs:\n  - job_name: keel\n    static_configs:\n      - targets: ['" + NetworkNamespace.GuestAddress + ":80']\n");
            Process prometheus = _netns.Start("prometheus", "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(dir, "data"),
                "--web.listen-address=127.0.0.1:19090");
            try
            {
                string query = "http://127.0.0.1:19090/api/v1/query?query=keel_virtio_net_rx_packets_total";
                string answer = "";
                Stopwatch clock = Stopwatch.StartNew();
                while (clock.Elapsed < TimeSpan.FromSeconds(40))
                {
                    (int status, string output) = _netns.Exec(10, "curl", "-sS", "--max-time", "5", query);
                    answer = output;
                    if (status == 0 && output.Contains("\"queue\":\"0\""))
                    {
                        break;
                    }
                    Thread.Sleep(1000);
                }
                TestContext.Out.WriteLine(answer);
                using JsonDocument result = JsonDocument.Parse(answer);
                JsonElement data = result.RootElement.GetProperty("data").GetProperty("result");
                Assert.That(data.GetArrayLength(), Is.EqualTo(1), answer);
                JsonElement metric = data[0].GetProperty("metric");
                Assert.That(metric.GetProperty("job").GetString(), Is.EqualTo("keel"));
                Assert.That(metric.GetProperty("queue").GetString(), Is.EqualTo("0"));
                Assert.That(double.Parse(data[0].GetProperty("value")[1].GetString()), Is.GreaterThan(0));
            }
            finally
            {
                try
                {
                    prometheus.Kill(true);
                    prometheus.WaitForExit(10000);
                }
                catch (InvalidOperationException)
                {
                }
                Directory.Delete(dir, true);
            }
        }

        [Test, Order(4)]
        public void WrkAndAbAreServedWithoutErrors()
        {
            // wrk: keep-alive, 8 connections for 3 s; ab: one connection per request, 200 requests, 8 at a time.
            (int status, string output) = _netns.Exec(30, "wrk", "-t", "1", "-c", "8", "-d", "3", Base + "/");
            TestContext.Out.WriteLine(output);
            Assert.That(status, Is.EqualTo(0), output);
            Assert.That(output, Does.Match(@"\d+ requests in"));
            Assert.That(output, Does.Not.Contain("Socket errors").And.Not.Contain("Non-2xx"), output);
            (status, output) = _netns.Exec(60, "ab", "-n", "200", "-c", "8", Base + "/");
            TestContext.Out.WriteLine(output);
            Assert.That(status, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain("Complete requests:      200").And.Contain("Failed requests:        0"));
        }

        [Test, Order(5)]
        public void ShellShowsHttpCounters()
        {
            string http = _guest.Command("http");
            Assert.That(http, Does.Contain("http_connections_accepted").And.Contain("http_responses_2xx"));
            Assert.That(http, Does.Contain("http_connections_open 0").Or.Contain("http_connections_open 1"));
        }
    }
}
