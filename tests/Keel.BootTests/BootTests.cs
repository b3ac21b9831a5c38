using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>Boots the kernel without a network and checks start-up, the shell and failure reporting.</summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class BootTests
    {
        [Test]
        public void BootsToShellAndExitZeroGivesStatusOne()
        {
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M" });
            guest.WaitFor("Keel kernel \\(NativeAOT C#\\) starting");
            guest.WaitFor("^keel> ", 20);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        [Test]
        public void ExitStatusCarriesTheNumber()
        {
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M" });
            guest.WaitFor("^keel> ", 20);
            guest.Send("exit 5");
            Assert.That(guest.WaitForExit(), Is.EqualTo((5 << 1) | 1), guest.Output);
        }

        [TestCase("q35", "hpet")]
        [TestCase("q35,hpet=off", "acpi-pm-timer")]
        [TestCase("microvm", "pit")]
        [TestCase("microvm,pit=off", "rtc")]
        [TestCase("microvm,rtc=off,pic=off", "pit")]
        [TestCase("microvm,acpi=off", "pit")]
        public void ClockKeepsHostTime(string machine, string reference)
        {
            // Under TCG the guest TSC is the host's, so a calibrated clock runs at host speed even when the
            // host is busy (an uncalibrated one ran ~35 % slow when the vCPU lost a time slice mid-calibration).
            // Each machine has other timers: q35 an HPET (and, without it, the ACPI PM timer), microvm the PIT,
            // and without the PIT only the RTC.
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M" }, machine: machine);
            // A quick measurement (a few ms, kept only within 0.05 %, at most 2 tries) or else the full one (8 tries).
            Match clock = guest.WaitFor("^clock: TSC (\\d+) MHz, calibrated against ([a-z-]+) \\(bracket (\\d+) us over (\\d+) us, (\\d+) of at most (2|8) tries\\)", 60);
            TestContext.Out.WriteLine(machine + ": " + clock.Value);
            // A calibration refused on a very busy host is said, and the next timer is used: still host time.
            if (!guest.Output.Contains("clock: calibration against " + reference + " refused"))
            {
                Assert.That(clock.Groups[2].Value, Is.EqualTo(reference), guest.Output);
            }
            Assert.That(long.Parse(clock.Groups[1].Value), Is.GreaterThan(100), guest.Output);
            guest.WaitFor("^keel> ", 30);
            double first = Uptime(guest.Command("uptime"));
            System.Diagnostics.Stopwatch host = System.Diagnostics.Stopwatch.StartNew();
            System.Threading.Thread.Sleep(4000);
            double second = Uptime(guest.Command("uptime"));
            double hostSeconds = host.Elapsed.TotalSeconds;
            Assert.That((second - first) / hostSeconds, Is.InRange(0.95, 1.05), guest.Output);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus));
        }

        [Test]
        public void WithoutAnyTimerTheClockSaysItIsAGuess()
        {
            // microvm without PIT and RTC under TCG: no HPET, no PM timer, and CPUID states no TSC rate.
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M" }, machine: "microvm,pit=off,rtc=off");
            guest.WaitFor("^clock: TSC \\d+ MHz \\(assumed\\)", 60);
            Assert.That(guest.Output, Does.Contain("clock: no TSC rate from CPUID and no timer to measure it against"));
            guest.WaitFor("^keel> ", 30);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus));
        }

        private static double Uptime(string reply)
        {
            Match match = Regex.Match(reply, "up (\\d+\\.\\d{3}) s");
            Assert.That(match.Success, Is.True, reply);
            return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        }

        [TestCase(128)]
        [TestCase(512)]
        public void MemoryMapTotalMatchesQemuMemorySize(int megabytes)
        {
            using QemuGuest guest = new QemuGuest(new[] { "-m", megabytes + "M" });
            Match match = guest.WaitFor("memory: (\\d+) KiB RAM");
            long kib = long.Parse(match.Groups[1].Value);
            // QEMU reports all of -m except the legacy VGA/BIOS hole (640 KiB - 1 MiB) and a few firmware pages.
            Assert.That(kib, Is.InRange(megabytes * 1024L - 2048, megabytes * 1024L), guest.Output);
            guest.WaitFor("^keel> ", 20);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus));
        }

        [TestCase("transitional", "1af4:1000")]
        [TestCase("modern", "1af4:1041")]
        [TestCase("legacy", "1af4:1000")]
        public void VirtioNetDeviceAppearsInPciList(string mode, string ids)
        {
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M", "--", "-device", VirtioDevice(mode) });
            guest.WaitFor("^keel> ", 20);
            string listing = guest.Command("pci");
            Assert.That(listing, Does.Contain(ids + " class 02.00.00"), guest.Output);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus));
        }

        [Test]
        public void ShellCommandsAnswer()
        {
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M" });
            guest.WaitFor("^keel> ", 20);
            Assert.That(guest.Command("help"), Does.Contain("uptime").And.Contain("mem").And.Contain("pci").And.Contain("exit"));
            Assert.That(guest.Command("mem"), Does.Contain("pages: total").And.Contain("heap:"));
            Assert.That(guest.Command("uptime"), Does.Match("up \\d+\\.\\d{3} s"));
            string timers = guest.Command("timers");
            Assert.That(timers, Does.Match("timers: \\d+ created, \\d+ active; armed deadline").And.Contain("late by: <10us "), timers);
            Assert.That(guest.Command("nosuchcommand"), Does.Contain("unknown"));
            string selftest = guest.Command("selftest");
            Assert.That(selftest, Does.Contain("selftest: 7 passed, 0 failed"), selftest);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus));
        }

        [TestCase("pagefault", "CPU EXCEPTION #PF page fault", "CR2=0x00007ff000000000")]
        [TestCase("nullref", "null reference", "RIP=")]
        [TestCase("bounds", "PANIC: index out of range", "stack (return addresses)")]
        [TestCase("throw", "deliberate test exception", "PANIC: exception thrown")]
        [TestCase("stackoverflow", "CPU EXCEPTION #DF double fault", "RIP=")]
        public void DeliberateFaultIsReportedAndFailsQemu(string test, string reason, string detail)
        {
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M", "--append", "test=" + test });
            int status = guest.WaitForExit();
            // The exact panic status: a triple fault (QEMU status 0 under -no-reboot) must never pass.
            Assert.That(status, Is.EqualTo(QemuGuest.PanicStatus), guest.Output);
            Assert.That(guest.Output, Does.Contain(reason).And.Contain(detail));
        }

        internal static string VirtioDevice(string mode)
        {
            switch (mode)
            {
                case "modern": return "virtio-net-pci,disable-legacy=on,disable-modern=off";
                case "legacy": return "virtio-net-pci,disable-legacy=off,disable-modern=on";
                default: return "virtio-net-pci";
            }
        }
    }
}
