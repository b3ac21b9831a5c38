using System;
using System.Diagnostics;
using System.IO;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// Many connections at once against one kernel at 256 MiB (socket table sized from memory), driven by
    /// tests/Keel.BootTests/connscale.py inside the test's namespace: thousands of idle echo connections held
    /// and then each served, and a thousand slow HTTP clients beside a real one. After each test the sockets
    /// in use (less those in TIME_WAIT) are back to where they started. The full 10,000 connections for 60 s
    /// is tools/bench.d/connections.sh.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class ConnectionScaleTests
    {
        /// <summary>Connections in make test: as many as open, hold and echo in well under a minute under TCG.</summary>
        private const int Connections = 2000;

        private NetworkNamespace _netns;
        private QemuGuest _guest;

        internal static string Script => Path.Combine(Repository.Root, "tests", "Keel.BootTests", "connscale.py");

        [OneTimeSetUp]
        public void Boot()
        {
            _netns = new NetworkNamespace();
            _guest = TapGuest.Boot(_netns, "256M", 600);
        }

        [OneTimeTearDown]
        public void Stop()
        {
            _guest?.Dispose();
            _netns?.Dispose();
        }

        /// <summary>A series of the guest's /metrics (0 when it is not there).</summary>
        internal static long Metric(NetworkNamespace netns, string name)
        {
            (int status, string output) = netns.Exec(30, "curl", "-sS", "--max-time", "20", "http://" + NetworkNamespace.GuestAddress + "/metrics");
            Assert.That(status, Is.EqualTo(0), "curl /metrics: " + output);
            Match m = Regex.Match(output, "^" + Regex.Escape(name) + " (\\d+)$", RegexOptions.Multiline);
            return m.Success ? long.Parse(m.Groups[1].Value) : 0;
        }

        /// <summary>Sockets in use that are not in TIME_WAIT (which ends by itself).</summary>
        internal static long BusySockets(NetworkNamespace netns) =>
            Metric(netns, "keel_net_sockets_in_use") - Metric(netns, "keel_net_tcp_timewait");

        private JsonElement Run(int timeoutSeconds, params string[] arguments)
        {
            string[] all = new string[arguments.Length + 1];
            all[0] = Script;
            Array.Copy(arguments, 0, all, 1, arguments.Length);
            (int status, string output) = _netns.Exec(timeoutSeconds, "python3", all);
            TestContext.Out.WriteLine(string.Join(" ", arguments) + ": " + output.Trim());
            Assert.That(status, Is.EqualTo(0), "connscale " + string.Join(" ", arguments) + ":\n" + output + "\nguest:\n" + _guest.Output);
            string line = output.Trim();
            line = line.Substring(line.LastIndexOf('\n') + 1);
            return JsonDocument.Parse(line).RootElement.Clone();
        }

        /// <summary>The busy socket count comes back to <paramref name="before"/> within a few seconds.</summary>
        internal static void AssertSocketsReturn(NetworkNamespace netns, long before)
        {
            long now = 0;
            for (int i = 0; i < 20; i++)
            {
                now = BusySockets(netns);
                if (now == before)
                {
                    return;
                }
                System.Threading.Thread.Sleep(500);
            }
            Assert.That(now, Is.EqualTo(before), "sockets in use (not in TIME_WAIT) after the test");
        }

        [Test, Order(1)]
        public void TheSocketTableIsSizedFromMemory()
        {
            long sockets = Metric(_netns, "keel_net_sockets_max");
            TestContext.Out.WriteLine("sockets at -m 256M: " + sockets);
            Assert.That(sockets, Is.GreaterThan(10_000), "a quarter of 256 MiB over 5 KiB a socket");
        }

        [Test, Order(2)]
        public void ThousandsOfEchoConnectionsAreHeldThenEachServed()
        {
            long before = BusySockets(_netns);
            JsonElement r = Run(150, "hold", "--count", Connections.ToString(), "--hold", "5");
            Assert.That(r.GetProperty("established").GetInt32(), Is.EqualTo(Connections));
            Assert.That(r.GetProperty("alive_after_hold").GetInt32(), Is.EqualTo(Connections));
            Assert.That(r.GetProperty("served").GetInt32(), Is.EqualTo(Connections));
            AssertSocketsReturn(_netns, before);
        }

        [Test, Order(3)]
        public void AThousandSlowClientsDoNotKeepARealOneWaiting()
        {
            long before = BusySockets(_netns);
            JsonElement r = Run(120, "slow", "--count", "1000", "--hold", "12");
            Assert.That(r.GetProperty("slow_clients").GetInt32(), Is.EqualTo(1000));
            Assert.That(r.GetProperty("served").GetInt32(), Is.EqualTo(r.GetProperty("asked").GetInt32()), "every real request served");
            Assert.That(r.GetProperty("worst_seconds").GetDouble(), Is.LessThan(1.0), "within 1 s");
            AssertSocketsReturn(_netns, before);
        }
    }
    /// <summary>
    /// One service's clients cannot starve the others: with a 64-socket table (<c>sockets=64</c>), more idle echo
    /// clients than sockets are refused at once past the echo listener's share, and iperf3 and curl still work.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class ListenerReserveTests
    {
        [Test]
        public void ManyIdleEchoClientsLeaveIperf3AndHttpReachable()
        {
            using NetworkNamespace netns = new NetworkNamespace();
            using QemuGuest guest = TapGuest.Boot(netns, "256M", 300, "sockets=64");
            long before = ConnectionScaleTests.BusySockets(netns);
            Process idle = netns.Start("python3", ConnectionScaleTests.Script, "idle", "--count", "100", "--hold", "30", "--parallel", "16");
            try
            {
                string line = idle.StandardOutput.ReadLine();
                TestContext.Out.WriteLine(line);
                Match m = Regex.Match(line ?? "", "^idle up=(\\d+) refused=(\\d+) failed=(\\d+)$");
                Assert.That(m.Success, Is.True, "connscale idle: " + line + idle.StandardError.ReadToEnd());
                Assert.That(int.Parse(m.Groups[1].Value), Is.GreaterThan(40).And.LessThan(64), "echo's share of the table");
                Assert.That(int.Parse(m.Groups[2].Value), Is.GreaterThan(0), "the rest refused");
                Assert.That(int.Parse(m.Groups[3].Value), Is.Zero, "none left hanging");
                Assert.That(ConnectionScaleTests.Metric(netns, "keel_net_tcp_listen_limit_refused_total"), Is.GreaterThan(0));
                (int status, string output) = netns.Exec(40, "iperf3", "-c", NetworkNamespace.GuestAddress, "-t", "2");
                Assert.That(status, Is.EqualTo(0), "iperf3 beside the idle echo clients: " + output);
                (status, output) = netns.Exec(30, "curl", "-sS", "--max-time", "20", "-o", "/dev/null", "-w", "%{http_code}", "http://" + NetworkNamespace.GuestAddress + "/");
                Assert.That(output.Trim(), Is.EqualTo("200"), "curl beside the idle echo clients");
            }
            finally
            {
                if (!idle.HasExited)
                {
                    idle.Kill();
                }
                idle.WaitForExit();
            }
            ConnectionScaleTests.AssertSocketsReturn(netns, before);
        }
    }
}
