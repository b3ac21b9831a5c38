using System.IO;
using System.Text.Json;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// The reliability defects as they were found, against one booted kernel: idle echo clients, a spoofed SYN
    /// flood, and unacknowledged data on an otherwise silent link (tests/Keel.BootTests/fakepeer.py plays the
    /// misbehaving peer from an address of its own on the tap). The receive watchdog must never have had to
    /// rescue the receive queue.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class ReliabilityTests
    {
        private const int EchoPort = 7;
        private NetworkNamespace _netns;
        private QemuGuest _guest;

        private static string FakePeer => Path.Combine(Repository.Root, "tests", "Keel.BootTests", "fakepeer.py");

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

        private JsonElement Peer(int timeoutSeconds, string mode, int port, int amount)
        {
            (int status, string output) = _netns.Exec(timeoutSeconds, "python3", FakePeer, NetworkNamespace.Tap, mode, port.ToString(), amount.ToString());
            Assert.That(status, Is.EqualTo(0), "fakepeer " + mode + ":\n" + output + "\nguest:\n" + _guest.Output);
            TestContext.Out.WriteLine(mode + ": " + output.Trim());
            string line = output.Trim();
            line = line.Substring(line.LastIndexOf('\n') + 1);
            return JsonDocument.Parse(line).RootElement.Clone();
        }

        [Test, Order(1)]
        public void SixteenIdleEchoClientsThenASeventeenthIsServedOrRefusedAtOnce()
        {
            JsonElement result = Peer(60, "idle", EchoPort, 16);
            Assert.That(result.GetProperty("held").GetInt32(), Is.EqualTo(16));
            string outcome = result.GetProperty("outcome").GetString();
            Assert.That(outcome, Is.EqualTo("served").Or.EqualTo("refused"), "the 17th client must not hang");
            Assert.That(result.GetProperty("seconds").GetDouble(), Is.LessThan(2.0));
        }

        [Test, Order(2)]
        public void SixtyFourUnansweredSynsThenARealClientIsServedWithinOneSecond()
        {
            JsonElement flood = Peer(60, "synflood", EchoPort, 64);
            Assert.That(flood.GetProperty("synacks").GetInt32(), Is.EqualTo(64), "every SYN answered (queue or cookie)");
            JsonElement client = Peer(30, "client", EchoPort, 5);
            Assert.That(client.GetProperty("outcome").GetString(), Is.EqualTo("served"));
            Assert.That(client.GetProperty("seconds").GetDouble(), Is.LessThan(1.0));
            // A bigger flood overflows the SYN queue: cookies answer, and a real client is still served at once.
            Peer(60, "synflood", EchoPort, 300);
            client = Peer(30, "client", EchoPort, 5);
            Assert.That(client.GetProperty("outcome").GetString(), Is.EqualTo("served"));
            Assert.That(client.GetProperty("seconds").GetDouble(), Is.LessThan(1.0));
            string net = _guest.Command("net");
            Match cookies = Regex.Match(net, "tcp_syncookies_sent[: ]+(\\d+)");
            Assert.That(cookies.Success, Is.True, net);
            Assert.That(long.Parse(cookies.Groups[1].Value), Is.GreaterThan(0), net);
        }

        [Test, Order(3)]
        public void UnacknowledgedDataIsRetransmittedWithBackoffFor25Seconds()
        {
            JsonElement result = Peer(60, "silent", EchoPort, 26);
            JsonElement times = result.GetProperty("data_segments");
            int n = times.GetArrayLength();
            double[] t = new double[n];
            for (int i = 0; i < n; i++)
            {
                t[i] = times[i].GetDouble();
            }
            // The RTO (from the handshake's RTT, at least 200 ms, 1 s without a sample) doubles on every
            // retransmission (RFC 6298 5.5): r, 3r, 7r, 15r, ... With the lost timer retransmission
            // stopped after 4.6 or 6.2 s.
            Assert.That(n, Is.GreaterThanOrEqualTo(4), "original and at least 3 retransmissions in 25 s: " + times);
            Assert.That(t[n - 1], Is.GreaterThan(12.0), "still retransmitting after 12 s: " + times);
            for (int i = 2; i < n; i++)
            {
                double ratio = (t[i] - t[i - 1]) / (t[i - 1] - t[i - 2]);
                Assert.That(ratio, Is.InRange(1.5, 2.7), "backoff doubles: " + times);
            }
        }

        [Test, Order(4)]
        public void ReceiveWatchdogNeverHadToRescue()
        {
            string stats = _guest.Command("stats rx_watchdog");
            Assert.That(stats, Does.Contain("rx_watchdog_rescues: 0"), stats);
            string timers = _guest.Command("timers");
            TestContext.Out.WriteLine(timers);
        }
    }
}
