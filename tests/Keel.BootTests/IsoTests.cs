using System.IO;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// build/keel.iso (make iso: GRUB, multiboot2) boots under legacy BIOS (SeaBIOS, -cdrom) and UEFI (OVMF):
    /// GRUB hands over the memory map, the command line of boot/grub.cfg and the ACPI RSDP; the host pings the
    /// guest inside a private network namespace; `exit 0` ends QEMU through isa-debug-exit.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class IsoTests
    {
        public static string Iso => Path.Combine(Repository.Root, "build", "keel.iso");

        [TestCase(false)]
        [TestCase(true)]
        public void IsoBootsThroughGrubAndAnswersPing(bool uefi)
        {
            Assert.That(File.Exists(Iso), Is.True, "build/keel.iso missing: tools/run-tests builds it with `make all iso`");
            Assert.That(Repository.BuildIdOf(Iso), Is.EqualTo(Repository.BuildIdOf(Repository.Kernel)), "build/keel.iso holds an older kernel");
            using NetworkNamespace netns = new NetworkNamespace();
            string[] arguments = uefi
                ? new[] { "-m", "256M", "--cdrom", Iso, "--uefi", "--tap", NetworkNamespace.Tap }
                : new[] { "-m", "256M", "--cdrom", Iso, "--tap", NetworkNamespace.Tap };
            using QemuGuest guest = new QemuGuest(arguments, netns.Name, 300);
            guest.AssertBuildId(120);
            // Memory map and command line from GRUB's multiboot2 tags (the command line is boot/grub.cfg's).
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
    }
}
