using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// Keel on QEMU's microvm: no PCI, virtio-net and virtio-rng on virtio-mmio, found in the DSDT (ACPI on: the
    /// second I/O APIC's GSIs, level-triggered) or on the kernel command line (<c>acpi=off</c>: ISA IRQs, edge),
    /// modern (version 2) and legacy (version 1). Each boots, answers ping, runs iperf3 both ways, draws from
    /// virtio-rng, and stops with every page back; QEMU's monitor shows what was negotiated.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class MicrovmTests
    {
        private const string NicPath = "/machine/peripheral/nic0";

        [TestCase("microvm", "modern", "acpi", "v2 modern", "gsi 47 level high")]
        [TestCase("microvm,acpi=off", "modern", "cmdline", "v2 modern", "gsi 12 edge high")]
        [TestCase("microvm", "legacy", "acpi", "v1 legacy", "gsi 47 level high")]
        public void NetworkAndRngOverVirtioMmio(string machine, string virtio, string source, string version, string line)
        {
            using NetworkNamespace netns = new NetworkNamespace();
            using QemuMonitor monitor = new QemuMonitor();
            string[] arguments =
            {
                "-m", "256M", "--tap", NetworkNamespace.Tap, "--append", "ip=198.18.0.2/24", "--net-opt", "id=nic0",
                "--rng", "--virtio", virtio, "--", monitor.QemuArguments[0], monitor.QemuArguments[1],
            };
            using QemuGuest guest = new QemuGuest(arguments, netns.Name, 180, machine);
            guest.WaitFor("^keel> ", 60);
            string boot = guest.Output;
            Assert.That(boot, Does.Contain("pci: 0 functions"), boot);
            Assert.That(boot, Does.Match("virtio-mmio: 0xfeb0[0-9a-f]{4} \\(" + source + "\\) " + version + ", device 1, " + line), boot);
            Assert.That(boot, Does.Match("virtio-mmio: 0xfeb0[0-9a-f]{4} \\(" + source + "\\) " + version + ", device 4, "), boot);
            Assert.That(boot, Does.Contain("virtio-mmio: 2 devices"), boot);
            Assert.That(boot, Does.Contain("rng: virtio-rng (split ring)"), boot);
            Assert.That(boot, Does.Contain("net: 198.18.0.2/24 up"), boot);
            if (source == "cmdline")
            {
                Assert.That(boot, Does.Not.Contain("cmdline: unknown key"), "virtio_mmio.device= is a known key");
            }

            Assert.That(netns.WaitForPing(30), Is.True, "no answer to ping; output:\n" + guest.Output);
            TapGuest.AssertPings(netns, 20, 1400);
            TapGuest.AssertPings(netns, 3, 8000);
            TapGuest.AssertIperfBothWays(netns, guest, 1);

            string features = monitor.Command("info virtio-status " + NicPath);
            TestContext.Out.WriteLine(features);
            string guestFeatures = Regex.Match(features, "Guest features:(.*?)Host features:", RegexOptions.Singleline).Groups[1].Value;
            Assert.That(guestFeatures, Does.Contain("VIRTIO_NET_F_MRG_RXBUF"), features);
            Assert.That(guestFeatures, Does.Contain("VIRTIO_NET_F_CSUM"), features);
            if (virtio == "modern")
            {
                Assert.That(guestFeatures, Does.Contain("VIRTIO_F_VERSION_1"), features);
            }
            else
            {
                Assert.That(guestFeatures, Does.Not.Contain("VIRTIO_F_VERSION_1"), features);
            }

            string rng = guest.Command("rng");
            TestContext.Out.WriteLine(rng);
            Assert.That(rng, Does.Contain("source: virtio-rng"), rng);
            Match bytes = Regex.Match(rng, "\\brng_bytes: (\\d+)");
            Assert.That(bytes.Success && long.Parse(bytes.Groups[1].Value) > 0, Is.True, rng);
            string link = guest.Command("link");
            TestContext.Out.WriteLine(link);
            Assert.That(link, Does.Contain("link: up"), link);
            string stats = guest.Command("stats");
            foreach (string counter in new[] { "rx_length_errors", "rx_frame_errors", "rx_queue_0_bad_ids", "tx_queue_0_bad_ids", "device_resets" })
            {
                Assert.That(stats, Does.Contain(counter + ": 0"), stats);
            }
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
            Assert.That(guest.Output, Does.Contain("page_pool_in_flight 0"));
        }

        [Test]
        public void ADeviceWithEveryOptionalFeatureOffOnMicrovm()
        {
            string[] all = new string[FeatureMatrixTests.Features.Length];
            for (int i = 0; i < all.Length; i++)
            {
                all[i] = FeatureMatrixTests.Features[i].Property;
            }
            FeatureMatrixTests.Run(all, "microvm,acpi=off");
        }

        [Test]
        public void AMalformedDeviceOnTheCommandLineIsReportedAndTheGoodOnesStillWork()
        {
            // QEMU appends its own virtio_mmio.device= entries after ours: ours is refused with a reason, QEMU's work.
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M", "--rng", "--append", "virtio_mmio.device=512@0xfeb00e00:0" },
                machine: "microvm,acpi=off");
            guest.WaitFor("^keel> ", 60);
            Assert.That(guest.Output, Does.Contain("cmdline: device ignored: virtio_mmio.device=512@0xfeb00e00:0: irq 0 is not allowed"), guest.Output);
            Assert.That(guest.Output, Does.Contain("rng: virtio-rng (split ring)"), guest.Output);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }
    }
}
