using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>ACPI at boot (tables, MADT), power-off through S5 when there is no isa-debug-exit device, and
    /// <c>exit N</c> on microvm with and without ACPI.</summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class PowerTests
    {
        [TestCase("q35")]
        [TestCase("pc")]
        public void ExitWithoutDebugExitPowersOffThroughAcpi(string machine)
        {
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M", "--machine", machine, "--no-debug-exit" });
            guest.WaitFor("^acpi: rev \\d+, pm1a_cnt 0x[0-9a-f]+, s5 \\d+, lapic 0xfee00000, ioapic 0xfec00000 gsi 0, overrides [1-9]", 30);
            guest.WaitFor("^keel> ", 20);
            guest.Send("exit 3");
            // S5 power-off: QEMU ends with status 0 (the 3 cannot be carried without isa-debug-exit).
            Assert.That(guest.WaitForExit(), Is.EqualTo(0), guest.Output);
            Assert.That(guest.Output, Does.Contain("acpi: no isa-debug-exit, powering off (S5)"));
            Assert.That(guest.Output, Does.Not.Contain("power-off not possible"));
        }

        [TestCase("microvm")]
        [TestCase("microvm,acpi=off")]
        public void ExitCarriesTheNumberThroughDebugExitOnMicrovm(string machine)
        {
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M" }, machine: machine);
            guest.WaitFor("^keel> ", 30);
            guest.Send("exit 5");
            Assert.That(guest.WaitForExit(), Is.EqualTo((5 << 1) | 1), guest.Output);
        }
    }
}
