using System.Text.Json;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// The host's real ping and iperf3 against one booted kernel, in order; the last test checks the
    /// server still answers after all the others. Everything runs inside a private network namespace.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class NetworkTests
    {
        private NetworkNamespace _netns;
        private QemuGuest _guest;

        [OneTimeSetUp]
        public void Boot()
        {
            _netns = new NetworkNamespace();
            _guest = TapGuest.Boot(_netns, "256M", 900);
        }

        [OneTimeTearDown]
        public void Stop()
        {
            _guest?.Dispose();
            _netns?.Dispose();
        }

        [Test, Order(1)]
        public void Ping20WithoutLoss()
        {
            (int status, string output) = _netns.Exec(60, "ping", "-c", "20", "-i", "0.05", NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain("20 received, 0% packet loss"));
        }

        [Test, Order(2)]
        public void LargePing1400()
        {
            (int status, string output) = _netns.Exec(30, "ping", "-c", "3", "-s", "1400", NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain("3 received"));
        }

        [Test, Order(2)]
        public void FragmentedPing4000IsReassembledAndAnswered()
        {
            (int status, string output) = _netns.Exec(30, "ping", "-c", "3", "-s", "4000", NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain("3 received"));
        }

        [Test, Order(3)]
        public void Iperf3Tcp() => RunIperf("-t", "5");

        [Test, Order(4)]
        public void Iperf3TcpReverse() => RunIperf("-t", "5", "-R");

        [Test, Order(5)]
        public void Iperf3Udp50M() => RunIperf("-t", "5", "-u", "-b", "50M");

        [Test, Order(6)]
        public void Iperf3TcpFourStreams() => RunIperf("-t", "5", "-P", "4");

        [Test, Order(7)]
        public void ServerStillAnswersAfterwards()
        {
            RunIperf("-t", "2");
            (int status, string output) = _netns.Exec(20, "ping", "-c", "3", NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), output);
        }

        [Test, Order(8)]
        public void ShellShowsNetworkState()
        {
            string net = _guest.Command("net");
            Assert.That(net, Does.Contain("198.18.0.2/24").And.Contain("arp cache").And.Contain("5201"));
            string stats = _guest.Command("stats");
            Assert.That(stats, Does.Contain("rx_queue_0_packets").And.Contain("page_pool_recycled"));
            Assert.That(stats, Does.Contain("rx_length_errors: 0").And.Contain("rx_frame_errors: 0"));
            Assert.That(stats, Does.Contain("rx_watchdog_rescues: 0"), "a receive watchdog rescue is a lost interrupt");
        }

        private void RunIperf(params string[] options)
        {
            (int status, string output) = TapGuest.Iperf3Json(_netns, 90, options);
            Assert.That(status, Is.EqualTo(0), "iperf3 " + string.Join(" ", options) + " failed:\n" + output + "\nguest:\n" + _guest.Output);
            using JsonDocument json = JsonDocument.Parse(output);
            JsonElement end = json.RootElement.GetProperty("end");
            bool udp = System.Array.IndexOf(options, "-u") >= 0;
            double received = udp
                ? end.GetProperty("sum").GetProperty("bytes").GetDouble()
                : end.GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
            double sent = udp
                ? end.GetProperty("sum").GetProperty("bits_per_second").GetDouble()
                : end.GetProperty("sum_sent").GetProperty("bits_per_second").GetDouble();
            TestContext.Out.WriteLine("iperf3 " + string.Join(" ", options) + ": sent " + (sent / 1e6).ToString("F1") + " Mbit/s, received " + (udp ? received + " bytes" : (received / 1e6).ToString("F1") + " Mbit/s"));
            Assert.That(received, Is.GreaterThan(0), output);
            Assert.That(sent, Is.GreaterThan(0), output);
        }
    }
}
