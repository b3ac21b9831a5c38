using System.Collections.Generic;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// Devices that offer less: virtio-net with one feature turned off on the QEMU device at a time, and with all
    /// of them off at once (close to what Firecracker's and rcore's devices offer). Each boots, answers ping, runs
    /// iperf3 both ways; QEMU's monitor shows the feature was not negotiated, and <c>link</c> names it with
    /// what Keel does instead.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class FeatureMatrixTests
    {
        /// <summary>QEMU property, the virtio name <c>link</c> prints, QEMU's name in <c>info virtio-status</c>.</summary>
        public static readonly (string Property, string Name, string QemuName)[] Features =
        {
            ("ctrl_vq", "ctrl_vq", "VIRTIO_NET_F_CTRL_VQ"),
            ("status", "status", "VIRTIO_NET_F_STATUS"),
            ("mrg_rxbuf", "mrg_rxbuf", "VIRTIO_NET_F_MRG_RXBUF"),
            ("event_idx", "event_idx", "VIRTIO_RING_F_EVENT_IDX"),
            ("indirect_desc", "indirect_desc", "VIRTIO_RING_F_INDIRECT_DESC"),
            ("csum", "csum", "VIRTIO_NET_F_CSUM"),
            ("guest_csum", "guest_csum", "VIRTIO_NET_F_GUEST_CSUM"),
            ("host_tso4", "host_tso4", "VIRTIO_NET_F_HOST_TSO4"),
            ("guest_tso4", "guest_tso4", "VIRTIO_NET_F_GUEST_TSO4"),
        };

        private static IEnumerable<TestCaseData> OneAtATime()
        {
            yield return new TestCaseData((object)new[] { "ctrl_vq" }).SetName("WithoutCtrlVq");
            yield return new TestCaseData((object)new[] { "status" }).SetName("WithoutStatus");
            yield return new TestCaseData((object)new[] { "mrg_rxbuf" }).SetName("WithoutMrgRxbuf");
            yield return new TestCaseData((object)new[] { "event_idx" }).SetName("WithoutEventIdx");
            yield return new TestCaseData((object)new[] { "indirect_desc" }).SetName("WithoutIndirectDesc");
            yield return new TestCaseData((object)new[] { "csum" }).SetName("WithoutCsum");
            yield return new TestCaseData((object)new[] { "guest_csum" }).SetName("WithoutGuestCsum");
            yield return new TestCaseData((object)new[] { "host_tso4", "guest_tso4" }).SetName("WithoutTso4");
        }

        [TestCaseSource(nameof(OneAtATime))]
        public void DeviceWithoutOneFeature(string[] off)
        {
            Run(off, null);
        }

        [Test]
        public void DeviceWithAllOfThemOff()
        {
            string[] all = new string[Features.Length];
            for (int i = 0; i < Features.Length; i++)
            {
                all[i] = Features[i].Property;
            }
            Run(all, null);
        }

        /// <summary>Boots with <paramref name="off"/> turned off on the device (on <paramref name="machine"/>, q35 when null) and checks it all.</summary>
        public static void Run(string[] off, string machine)
        {
            using NetworkNamespace netns = new NetworkNamespace();
            using QemuMonitor monitor = new QemuMonitor();
            List<string> arguments = new List<string> { "-m", "256M", "--tap", NetworkNamespace.Tap, "--append", "ip=198.18.0.2/24", "--net-opt", "id=nic0" };
            foreach (string property in off)
            {
                arguments.AddRange(new[] { "--net-opt", property + "=off" });
            }
            arguments.Add("--");
            arguments.AddRange(monitor.QemuArguments);
            using QemuGuest guest = new QemuGuest(arguments, netns.Name, 180, machine);
            guest.WaitFor("^keel> ", 60);
            Assert.That(netns.WaitForPing(30), Is.True, "no answer to ping; output:\n" + guest.Output);
            TapGuest.AssertPings(netns, 10, 1400);
            TapGuest.AssertIperfBothWays(netns, guest, 1);

            string path = machine != null && machine.StartsWith("microvm") ? "/machine/peripheral/nic0" : "/machine/peripheral/nic0/virtio-backend";
            string features = monitor.Command("info virtio-status " + path);
            string guestFeatures = Regex.Match(features, "Guest features:(.*?)Host features:", RegexOptions.Singleline).Groups[1].Value;
            Assert.That(guestFeatures, Is.Not.Empty, features);
            string link = guest.Command("link");
            TestContext.Out.WriteLine(link);
            foreach ((string property, string name, string qemuName) in Features)
            {
                if (System.Array.IndexOf(off, property) < 0)
                {
                    continue;
                }
                Assert.That(guestFeatures, Does.Not.Contain(qemuName + ","), features);
                Assert.That(guestFeatures, Does.Not.Contain(qemuName + ":"), features);
                Assert.That(Regex.IsMatch(link, "^not offered:.* " + name + "( |$)", RegexOptions.Multiline), Is.True, link);
                Assert.That(Regex.IsMatch(link, "^  " + name + ": \\S", RegexOptions.Multiline), Is.True, "what Keel does instead: " + link);
            }
            string stats = guest.Command("stats");
            foreach (string counter in new[] { "rx_length_errors", "rx_frame_errors", "rx_queue_0_bad_ids", "tx_queue_0_bad_ids" })
            {
                Assert.That(stats, Does.Contain(counter + ": 0"), stats);
            }
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
            Assert.That(guest.Output, Does.Contain("page_pool_in_flight 0"));
        }
    }
}
