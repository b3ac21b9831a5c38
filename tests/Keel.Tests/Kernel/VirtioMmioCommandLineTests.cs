using System.Text;
using Keel.Kernel.Config;
using Keel.Kernel.Platform;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// <c>virtio_mmio.device=&lt;size&gt;@&lt;base&gt;:&lt;irq&gt;[:&lt;id&gt;]</c> as Linux documents it
    /// (Documentation/admin-guide/kernel-parameters.txt, "virtio_mmio.device="): size with memparse's K/M/G/T/P/E
    /// suffixes, numbers in C notation, several devices, and what QEMU microvm (<c>acpi=off</c>) and Firecracker
    /// write; malformed values refused with a reason on the console.
    /// </summary>
    public class VirtioMmioCommandLineTests
    {
        private static KernelCommandLine Parse(string text) => KernelCommandLine.Parse(Encoding.ASCII.GetBytes(text));

        private static string Report(KernelCommandLine c)
        {
            TextCapture output = new TextCapture();
            c.ReportIssues(output);
            return output.Text;
        }

        private static MmioDevice Accept(string value)
        {
            MmioDevice device;
            string error = VirtioMmioCommandLine.TryParse(Encoding.ASCII.GetBytes(value), out device);
            Assert.That(error, Is.Null, value);
            Assert.That(device.Source, Is.EqualTo(MmioDeviceSource.CommandLine));
            Assert.That(device.HasTriggerMode, Is.False, "the command line names no trigger mode");
            return device;
        }

        [TestCase("512@0xfeb00e00:12", 512UL, 0xFEB00E00UL, 12, -1L, TestName = "QEMU microvm acpi=off")]
        [TestCase("4K@0xd0000000:5", 4096UL, 0xD0000000UL, 5, -1L, TestName = "Firecracker")]
        [TestCase("0x200@0xfeb00c00:11:3", 0x200UL, 0xFEB00C00UL, 11, 3L, TestName = "hex size and an id")]
        [TestCase("1k@0XFEB00000:5:0", 1024UL, 0xFEB00000UL, 5, 0L, TestName = "lower-case suffix, upper-case 0X")]
        [TestCase("1M@4273995776:40", 1UL << 20, 4273995776UL, 40, -1L, TestName = "decimal base")]
        [TestCase("2G@0x100000000:30:-1", 1UL << 31, 0x100000000UL, 30, -1L, TestName = "base above 4 GiB, id -1")]
        [TestCase("01000@0x10000000:7", 512UL, 0x10000000UL, 7, -1L, TestName = "octal size")]
        [TestCase("256@020000000000:7:17", 256UL, 0x80000000UL, 7, 17L, TestName = "octal base")]
        [TestCase("1T@0x10000000000:9", 1UL << 40, 0x10000000000UL, 9, -1L, TestName = "T suffix")]
        [TestCase("1P@0x10000000000000:9", 1UL << 50, 0x10000000000000UL, 9, -1L, TestName = "P suffix")]
        [TestCase("1e@0x0:5", 1UL << 60, 0UL, 5, -1L, TestName = "E suffix")]
        [TestCase("0x1e0@0x1000:9", 0x1E0UL, 0x1000UL, 9, -1L, TestName = "e is a hex digit after 0x, not a suffix")]
        public void FormsLinuxAccepts(string value, ulong size, ulong address, int irq, long id)
        {
            MmioDevice device = Accept(value);
            Assert.That(device.Size, Is.EqualTo(size));
            Assert.That(device.Base, Is.EqualTo(address));
            Assert.That(device.Irq, Is.EqualTo(irq));
            Assert.That(device.Id, Is.EqualTo(id));
        }

        [TestCase("", "size: expected a number")]
        [TestCase("@0xfeb00e00:12", "size: expected a number")]
        [TestCase("512", "expected '@' after the size")]
        [TestCase("512:0xfeb00e00:12", "expected '@' after the size")]
        [TestCase("512Q@0xfeb00e00:12", "expected '@' after the size")]
        [TestCase("0x@0xfeb00e00:12", "expected '@' after the size")]
        [TestCase("512@:12", "base: expected a number")]
        [TestCase("512@-1:12", "base: expected a number")]
        [TestCase("512@0xfeb00e00", "expected ':' after the base")]
        [TestCase("512@0xfeb00e00/12", "expected ':' after the base")]
        [TestCase("512@0xfeb00e00:", "irq: expected a decimal number")]
        [TestCase("512@0xfeb00e00:-5", "irq: expected a decimal number")]
        [TestCase("512@0xfeb00e00:99999999999", "irq: expected a decimal number")]
        [TestCase("512@0xfeb00e00:0", "irq 0 is not allowed")]
        [TestCase("512@0xfeb00e00:0x0c", "unexpected text after the irq")]
        [TestCase("512@0xfeb00e00:12:", "id: expected a decimal number")]
        [TestCase("512@0xfeb00e00:12:-", "id: expected a decimal number")]
        [TestCase("512@0xfeb00e00:12:3x", "unexpected text after the irq")]
        [TestCase("512@0xfeb00e00:12:3:4", "unexpected text after the irq")]
        [TestCase("0@0xfeb00e00:12", "size smaller than the 256 bytes")]
        [TestCase("255@0xfeb00e00:12", "size smaller than the 256 bytes")]
        [TestCase("512@0xffffffffffffff00:12", "base + size beyond the address space")]
        [TestCase("99999999999999999999@0x1000:12", "size: expected a number")]
        [TestCase("16E@0x1000:12", "size too large")]
        [TestCase("512@0x1ffffffffffffffff:12", "base: expected a number")]
        public void MalformedValuesAreRefusedWithAReason(string value, string reason)
        {
            MmioDevice device;
            string error = VirtioMmioCommandLine.TryParse(Encoding.ASCII.GetBytes(value), out device);
            Assert.That(error, Does.StartWith(reason), value);
        }

        [Test]
        public void SeveralDevicesAreKeptInOrder()
        {
            KernelCommandLine c = Parse("ip=198.18.0.2/24 virtio_mmio.device=512@0xfeb00e00:12 virtio_mmio.device=512@0xfeb00c00:11 "
                + "virtio-mmio.device=4K@0xd0000000:5:7");
            Assert.That(c.IssueCount, Is.Zero, Report(c));
            Assert.That(c.MmioDeviceCount, Is.EqualTo(3));
            Assert.That(c.GetMmioDevice(0).Base, Is.EqualTo(0xFEB00E00UL));
            Assert.That(c.GetMmioDevice(0).Irq, Is.EqualTo(12));
            Assert.That(c.GetMmioDevice(1).Base, Is.EqualTo(0xFEB00C00UL));
            Assert.That(c.GetMmioDevice(1).Irq, Is.EqualTo(11));
            Assert.That(c.GetMmioDevice(2).Size, Is.EqualTo(4096UL), "'-' and '_' alike in the key, as Linux's parameter names");
            Assert.That(c.GetMmioDevice(2).Id, Is.EqualTo(7));
            Assert.That(c.EntryIsKnown(1), Is.True);
        }

        [Test]
        public void AMalformedDeviceIsReportedAndTheOthersKept()
        {
            KernelCommandLine c = Parse("virtio_mmio.device=512@0xfeb00e00:0 virtio_mmio.device=512@0xfeb00c00:11 virtio_mmio.device=oops");
            Assert.That(c.MmioDeviceCount, Is.EqualTo(1));
            Assert.That(c.GetMmioDevice(0).Irq, Is.EqualTo(11));
            Assert.That(c.IssueCount, Is.EqualTo(2));
            Assert.That(c.Issue(0).Kind, Is.EqualTo(CommandLineIssueKind.RefusedDevice));
            Assert.That(Report(c), Is.EqualTo(
                "cmdline: device ignored: virtio_mmio.device=512@0xfeb00e00:0: irq 0 is not allowed\n"
                + "cmdline: device ignored: virtio_mmio.device=oops: size: expected a number (decimal, 0x hex or 0 octal)\n"));
        }

        [Test]
        public void MoreDevicesThanKeptAreReported()
        {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i <= KernelCommandLine.MaxMmioDevices; i++)
            {
                line.Append("virtio_mmio.device=512@0x").Append((0xFEB00000 + i * 0x200).ToString("x")).Append(":5 ");
            }
            KernelCommandLine c = Parse(line.ToString());
            Assert.That(c.MmioDeviceCount, Is.EqualTo(KernelCommandLine.MaxMmioDevices));
            Assert.That(c.IssueCount, Is.EqualTo(1));
            Assert.That(Report(c), Is.EqualTo("cmdline: device ignored: more than 16 virtio_mmio.device entries\n"));
        }

        [TestCase("virtio_mmio.device", true)]
        [TestCase("virtio-mmio.device", true)]
        [TestCase("virtio_mmio-device", false)]
        [TestCase("virtio_mmio.devices", false)]
        [TestCase("VIRTIO_MMIO.DEVICE", false)]
        public void KeySpellings(string key, bool accepted)
        {
            Assert.That(VirtioMmioCommandLine.IsKey(Encoding.ASCII.GetBytes(key)), Is.EqualTo(accepted));
        }
    }
}
