using System.Text.Json;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// The smallest supported memory (docs/network-stack.md "Memory"): at -m 4M the kernel
    /// sends with iperf3 -R -P 4 without a panic, and below the minimum it says so cleanly.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class SmallMemoryTests
    {
        public const string SmallestMemory = "4M";

        [Test]
        public void ReverseFourStreamsAtTheSmallestMemory()
        {
            using NetworkNamespace netns = new NetworkNamespace();
            using QemuGuest guest = TapGuest.Boot(netns, SmallestMemory, 300);
            foreach (string[] options in new[] { new[] { "-t", "3" }, new[] { "-t", "3", "-R", "-P", "4" } })
            {
                (int status, string output) = TapGuest.Iperf3Json(netns, 60, options);
                Assert.That(status, Is.EqualTo(0), "iperf3 " + string.Join(" ", options) + ":\n" + output + "\nguest:\n" + guest.Output);
                using JsonDocument json = JsonDocument.Parse(output);
                double bits = json.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bits_per_second").GetDouble();
                TestContext.Out.WriteLine("-m " + SmallestMemory + " iperf3 " + string.Join(" ", options) + ": " + (bits / 1e6).ToString("F0") + " Mbit/s");
                Assert.That(bits, Is.GreaterThan(0));
            }
            Assert.That(guest.Output, Does.Not.Contain("PANIC"));
            string stats = guest.Command("stats rx_watchdog");
            Assert.That(stats, Does.Contain("rx_watchdog_rescues: 0"), stats);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        [Test]
        public void BelowTheSmallestMemoryNoPanicAndNoEmptySuccess()
        {
            // -m 3M: either the kernel says there is not enough memory for networking, or (if it starts the
            // network) iperf3 -R must not end as a successful 0-byte test: the server says SERVER_ERROR 205
            // ("unable to write to stream socket") when it could not send. Never a panic.
            using NetworkNamespace netns = new NetworkNamespace();
            using QemuGuest guest = new QemuGuest(new[] { "-m", "3M", "--tap", NetworkNamespace.Tap, "--append", "ip=198.18.0.2/24" }, netns.Name, 300);
            guest.WaitFor("^keel> ", 30);
            if (!guest.Output.Contains("net: not enough memory for networking"))
            {
                Assert.That(netns.WaitForPing(20), Is.True, "guest never answered ping; output:\n" + guest.Output);
                (int status, string output) = netns.Exec(60, "iperf3", "-c", NetworkNamespace.GuestAddress, "-t", "3", "-R", "--json");
                TestContext.Out.WriteLine(output);
                if (status == 0)
                {
                    using JsonDocument json = JsonDocument.Parse(output);
                    double bytes = json.RootElement.GetProperty("end").GetProperty("sum_received").GetProperty("bytes").GetDouble();
                    Assert.That(bytes, Is.GreaterThan(0), "a successful test must have moved data");
                }
                else
                {
                    Assert.That(output, Does.Contain("unable to write to stream socket"), output);
                }
            }
            Assert.That(guest.Output, Does.Not.Contain("PANIC"));
        }

        [Test]
        public void BelowTheMinimumTheKernelRunsWithoutNetwork()
        {
            // 3M: 1060 KiB free, under the 1800 KiB the network needs. (At 2M SeaBIOS's working memory overlaps the
            // loaded kernel image; see docs/network-stack.md.)
            using QemuGuest guest = new QemuGuest(new[] { "-m", "3M", "--", "-device", "virtio-net-pci" });
            guest.WaitFor("net: not enough memory for networking \\(\\d+ KiB free, \\d+ KiB needed\\); no network", 30);
            guest.WaitFor("^keel> ", 20);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }
    }
}
