using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using Keel.DocTests;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// build/keel.iso (make iso: GRUB, multiboot2) boots under legacy BIOS (SeaBIOS, -cdrom) and UEFI (OVMF):
    /// GRUB hands over the memory map, the command line of the chosen boot/grub.cfg entry and the ACPI RSDP.
    /// The default entry has no ip=, so the kernel asks DHCP: booted by the README's plain QEMU line on the user
    /// network it gets 10.0.2.15 and a host port forwarded to its echo answers. The static entry (hotkey s on the serial console) puts it on the tap
    /// of a private network namespace, where the host pings it. `exit 0` ends QEMU through isa-debug-exit.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class IsoTests
    {
        public static string Iso => Path.Combine(Repository.Root, "build", "keel.iso");

        private static void AssertIsoIsCurrent()
        {
            Assert.That(File.Exists(Iso), Is.True, "build/keel.iso missing: tools/run-tests builds it with `make all iso`");
            Assert.That(Repository.BuildIdOf(Iso), Is.EqualTo(Repository.BuildIdOf(Repository.Kernel)), "build/keel.iso holds an older kernel");
        }

        /// <summary>Waits for GRUB's menu on the serial console and picks an entry by its hotkey.</summary>
        private static void Choose(QemuGuest guest, string title, char hotkey)
        {
            guest.WaitFor(Regex.Escape(title), 120);
            guest.SendKeys(hotkey.ToString());
        }

        [TestCase(false)]
        [TestCase(true)]
        public void IsoStaticEntryBootsThroughGrubAndAnswersPing(bool uefi)
        {
            AssertIsoIsCurrent();
            using NetworkNamespace netns = new NetworkNamespace();
            string[] arguments = uefi
                ? new[] { "-m", "256M", "--cdrom", Iso, "--uefi", "--tap", NetworkNamespace.Tap }
                : new[] { "-m", "256M", "--cdrom", Iso, "--tap", NetworkNamespace.Tap };
            using QemuGuest guest = new QemuGuest(arguments, netns.Name, 300);
            Choose(guest, "Keel, static address 198.18.0.2/24 (key s)", 's');
            guest.AssertBuildId(120);
            // Memory map and command line from GRUB's multiboot2 tags (the command line is the entry's).
            guest.WaitFor("^boot: multiboot2, [1-9]\\d* memory map entries, command line: ip=198\\.18\\.0\\.2/24$", 10);
            guest.WaitFor("^memory: \\d{6} KiB RAM", 10);
            // The RSDP from the ACPI tag: tables parsed; UEFI firmware gives an ACPI 2.0+ RSDP (XSDT).
            guest.WaitFor(uefi ? "^acpi: rev 2, pm1a_cnt 0x[0-9a-f]+, s5 \\d" : "^acpi: rev \\d, pm1a_cnt 0x[0-9a-f]+, s5 \\d", 10);
            guest.WaitFor("^keel> ", 60);
            Assert.That(netns.WaitForPing(30), Is.True, "guest never answered ping; output:\n" + guest.Output);
            (int status, string output) = netns.Exec(30, "ping", "-c", "3", "-i", "0.2", NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain("3 received"));
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        /// <summary>
        /// The README's plain QEMU line for the ISO (BIOS, QEMU's default machine, a virtio-net card on the user
        /// network, a host port forwarded to the guest's echo on 7), run as written but for the host port (a free
        /// one). The default entry, no key pressed: no ip=, so the kernel asks DHCP. `exit 0` powers off (ACPI):
        /// QEMU exits with 0.
        /// </summary>
        [Test]
        public void ReadmeQemuLineBootsTheIsoOnDhcpAndAnswersOnTheForwardedPort()
        {
            AssertIsoIsCurrent();
            string line = Walkthrough.MarkedBlock(Path.Combine(Repository.Root, "README.md"), "iso, plain qemu");
            Match forward = Regex.Match(line, "hostfwd=tcp:127\\.0\\.0\\.1:(\\d+)-:7\\b");
            Assert.That(forward.Success, Is.True, "the README's QEMU line forwards no host port to the echo (7):\n" + line);
            int port = UserNetworkFixture.FreePort();
            ProcessStartInfo start = new ProcessStartInfo("bash");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(line.Replace(forward.Value, "hostfwd=tcp:127.0.0.1:" + port + "-:7"));
            using QemuGuest guest = new QemuGuest(start);
            guest.AssertBuildId(180);
            guest.WaitFor("^boot: multiboot2, [1-9]\\d* memory map entries, command line: *$", 10);
            guest.WaitFor("^net: up, address by DHCP$", 60);
            guest.WaitFor("^dhcp: lease 10\\.0\\.2\\.15/24 ", 90);
            guest.WaitFor("^keel> ", 30);
            UserNetworkFixture.AssertEchoes(port, "hello from the host\n", guest);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(0), guest.Output);
        }
    }
}
