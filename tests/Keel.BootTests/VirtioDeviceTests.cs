using System.Collections.Generic;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// The virtio core's devices in QEMU: virtio-net over packed rings (rx and tx: ping, and the features the
    /// driver accepted read back from QEMU's monitor), the control virtqueue (receive mode, announce, MTU from
    /// the device), and virtio-rng with and without the device (RDRAND with <c>-cpu max</c>, else the TSC PRNG).
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class VirtioDeviceTests
    {
        private const string NicPath = "/machine/peripheral/nic0/virtio-backend";

        private static QemuGuest Boot(NetworkNamespace netns, QemuMonitor monitor, params string[] device)
        {
            return Boot(netns, monitor, device, new string[0]);
        }

        private static QemuGuest Boot(NetworkNamespace netns, QemuMonitor monitor, string[] device, string[] qemu)
        {
            List<string> arguments = new List<string> { "-m", "256M" };
            if (netns != null)
            {
                arguments.AddRange(new[] { "--tap", NetworkNamespace.Tap, "--net-opt", "id=nic0" });
                if (System.Array.IndexOf(device, "--append") < 0)
                {
                    // A static address: without ip= the kernel would ask DHCP, and nothing serves it on this tap.
                    arguments.AddRange(new[] { "--append", "ip=198.18.0.2/24" });
                }
            }
            arguments.AddRange(device);
            arguments.Add("--");
            arguments.AddRange(qemu);
            if (monitor != null)
            {
                arguments.AddRange(monitor.QemuArguments);
            }
            QemuGuest guest = new QemuGuest(arguments, netns?.Name, 240);
            guest.WaitFor("^keel> ", 60);
            return guest;
        }

        private static void ExitCleanly(QemuGuest guest)
        {
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
            Assert.That(guest.Output, Does.Contain("page_pool_in_flight 0"));
        }

        [Test]
        public void PackedRingsCarryReceiveAndTransmitAndAreNegotiated()
        {
            using NetworkNamespace netns = new NetworkNamespace();
            using QemuMonitor monitor = new QemuMonitor();
            using QemuGuest guest = Boot(netns, monitor, "--net-opt", "packed=on");
            Assert.That(netns.WaitForPing(30), Is.True, guest.Output);
            (int status, string output) = netns.Exec(60, "ping", "-c", "50", "-i", "0.02", "-s", "1400", NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain(" 0% packet loss"), output);
            (status, output) = netns.Exec(60, "ping", "-c", "5", "-s", "8000", NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), "fragmented pings over mergeable buffers on packed rings: " + output);

            // TCP both ways: mergeable GSO receive and TSO transmit through indirect tables, on packed rings.
            TapGuest.AssertIperfBothWays(netns, guest, 3);

            string features = monitor.Command("info virtio-status " + NicPath);
            TestContext.Out.WriteLine(features);
            string guestFeatures = Regex.Match(features, "Guest features:(.*?)Host features:", RegexOptions.Singleline).Groups[1].Value;
            Assert.That(guestFeatures, Does.Contain("VIRTIO_F_RING_PACKED"), features);
            Assert.That(guestFeatures, Does.Contain("VIRTIO_NET_F_CTRL_VQ"), features);

            string link = guest.Command("link");
            Assert.That(link, Does.Contain("ring: packed"), link);
            string stats = guest.Command("stats");
            foreach (string counter in new[] { "rx_length_errors", "rx_frame_errors", "rx_queue_0_bad_ids", "tx_queue_0_bad_ids", "device_resets" })
            {
                Assert.That(stats, Does.Contain(counter + ": 0"), stats);
            }
            ExitCleanly(guest);
        }

        [Test]
        public void ControlQueueSetsReceiveModeAnswersAnnounceAndReadsTheMtu()
        {
            using NetworkNamespace netns = new NetworkNamespace();
            using QemuMonitor monitor = new QemuMonitor();
            using QemuGuest guest = Boot(netns, monitor, "--net-opt", "host_mtu=1500");
            Assert.That(netns.WaitForPing(30), Is.True, guest.Output);
            string link = guest.Command("link");
            TestContext.Out.WriteLine(link);
            Assert.That(link, Does.Contain("link: up, mtu 1500 (from device)"), link);
            // IPv6's multicast groups (all-nodes, the solicited-node groups) are programmed into the MAC table,
            // so all-multicast is off.
            Assert.That(link, Does.Match("control queue: yes, promisc off, allmulti off, mac filter 0 unicast [1-9][0-9]* multicast, guest announce on"), link);
            Assert.That(link, Does.Contain("errors 0"), link);

            string features = monitor.Command("info virtio-status " + NicPath);
            string guestFeatures = Regex.Match(features, "Guest features:(.*?)Host features:", RegexOptions.Singleline).Groups[1].Value;
            Assert.That(guestFeatures, Does.Contain("VIRTIO_NET_F_CTRL_RX"), features);
            Assert.That(guestFeatures, Does.Contain("VIRTIO_NET_F_GUEST_ANNOUNCE"), features);
            Assert.That(guestFeatures, Does.Contain("VIRTIO_NET_F_MTU"), features);
            Assert.That(guestFeatures, Does.Not.Contain("VIRTIO_F_RING_PACKED"), "split rings stay the default");

            // Promiscuous off: the card still takes frames for its own address.
            (int status, string output) = netns.Exec(30, "ping", "-c", "5", "-i", "0.05", NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), output);
            link = guest.Command("link promisc on");
            Assert.That(link, Does.Contain("ok"), link);
            Assert.That(link, Does.Contain("promisc on"), link);

            // QEMU asks for an announcement (as after a migration): the guest ARPs and acknowledges.
            monitor.Command("announce_self");
            Regex announced = new Regex("announces [1-9]");
            string after = "";
            for (int i = 0; i < 40 && !announced.IsMatch(after); i++)
            {
                System.Threading.Thread.Sleep(250);
                after = guest.Command("link");
            }
            Assert.That(announced.IsMatch(after), Is.True, after);
            Assert.That(after, Does.Contain("errors 0"), after);
            ExitCleanly(guest);
        }

        [Test]
        public void VirtioRngFeedsThePool()
        {
            using QemuGuest guest = Boot(null, null, new string[0], new[] { "-device", "virtio-rng-pci" });
            Assert.That(guest.Output, Does.Contain("rng: virtio-rng (split ring)"), guest.Output);
            string rng = guest.Command("rng");
            TestContext.Out.WriteLine(rng);
            Assert.That(rng, Does.Contain("source: virtio-rng"), rng);
            Assert.That(Counter(rng, "rng_bytes"), Is.GreaterThan(0), rng);
            Assert.That(Counter(rng, "pool_device_bytes"), Is.EqualTo(Counter(rng, "rng_bytes")), rng);
            foreach (string counter in new[] { "rng_length_errors", "rng_bad_ids", "rng_device_resets" })
            {
                Assert.That(Counter(rng, counter), Is.EqualTo(0), rng);
            }
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        [Test]
        public void VirtioRngOnPackedRings()
        {
            using QemuGuest guest = Boot(null, null, new string[0], new[] { "-device", "virtio-rng-pci,packed=on" });
            Assert.That(guest.Output, Does.Contain("rng: virtio-rng (packed ring)"), guest.Output);
            string rng = guest.Command("rng");
            Assert.That(Counter(rng, "rng_bytes"), Is.GreaterThan(0), rng);
            Assert.That(Counter(rng, "rng_bad_ids"), Is.EqualTo(0), rng);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        [TestCase("max", "rdrand")]
        [TestCase(null, "tsc-prng")]
        public void WithoutTheDeviceTheFallbackIsNamed(string cpu, string source)
        {
            using QemuGuest guest = cpu == null ? Boot(null, null) : Boot(null, null, "--cpu", cpu);
            Assert.That(guest.Output, Does.Contain("rng: no virtio-rng device, using " + source), guest.Output);
            string rng = guest.Command("rng");
            Assert.That(rng, Does.Contain("source: " + source), rng);
            Assert.That(rng, Does.Contain("virtio-rng: none"), rng);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        private static long Counter(string text, string name)
        {
            Match match = Regex.Match(text, "\\b" + name + ": (\\d+)");
            return match.Success ? long.Parse(match.Groups[1].Value) : -1;
        }
    }
}
