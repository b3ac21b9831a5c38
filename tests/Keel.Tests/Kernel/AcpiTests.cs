using System;
using System.Collections.Generic;
using System.Text;
using Keel.Kernel.Acpi;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// The ACPI table parser against tables laid out byte by byte from the ACPI 6.5 specification (§5.2):
    /// RSDP (§5.2.5.3), XSDT/RSDT (§5.2.7/8), FADT (§5.2.9, field offsets from table 5.9), MADT (§5.2.12),
    /// and the AML of Name(\_S5, Package(){…}) (§20.2: NameOp 0x08, PackageOp 0x12, BytePrefix 0x0A).
    /// </summary>
    [TestFixture]
    public sealed unsafe class AcpiTests
    {
        private const ulong Base = 0xE0000;
        private const ulong Rsdp = 0xE0040;
        private const ulong Root = 0xE0100;
        private const ulong Fadt = 0xE0200;
        private const ulong Madt = 0xE0400;
        private const ulong Dsdt = 0xE0600;

        /// <summary>Bytes from <see cref="Base"/> that hold every table <see cref="Build"/> writes.</summary>
        internal const int ImageLength = 0x700;

        private SimulatedPhysicalMemory _memory;

        [SetUp]
        public void SetUp()
        {
            _memory = new SimulatedPhysicalMemory(Base, 0x20000);
            new Span<byte>(_memory.At(Base), 0x20000).Clear();
        }

        [TearDown]
        public void TearDown() => _memory.Dispose();

        /// <summary>The tables of <see cref="Build"/> as one image at <see cref="Base"/> (the fuzz target's seeds).</summary>
        internal static byte[] Image(int revision, bool qemuS5)
        {
            AcpiTests t = new AcpiTests();
            t.SetUp();
            t.Build(revision, qemuS5 ? QemuS5Bytes : S5Bytes);
            byte[] image = new Span<byte>(t._memory.At(Base), ImageLength).ToArray();
            t.TearDown();
            return image;
        }

        // Name(\_S5, Package(0x04){0x05, 0x05, Zero, Zero}) as real firmware writes it.
        private static readonly byte[] S5Bytes = { 0x08, 0x5C, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x0A, 0x04, 0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };

        // QEMU's: Name(_S5, Package(0x04){Zero, Zero, Zero, Zero}).
        private static readonly byte[] QemuS5Bytes = { 0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };

        [Test]
        public void XsdtFadtDsdtAndMadtAreParsed()
        {
            Build(revision: 2, s5: S5Bytes);
            AcpiTables tables = new AcpiTables(_memory);

            Assert.That(tables.Parse(Rsdp), Is.EqualTo(AcpiStatus.Ok));
            Assert.That(tables.Revision, Is.EqualTo(2));
            Assert.That(tables.RootAddress, Is.EqualTo(Root));
            Assert.That(tables.Power.Pm1aControlPort, Is.EqualTo(0x604u));
            Assert.That(tables.Power.Pm1bControlPort, Is.EqualTo(0u));
            Assert.That(tables.Power.DsdtAddress, Is.EqualTo(Dsdt));
            Assert.That(tables.Power.HasS5 && tables.Power.CanPowerOff, Is.True);
            Assert.That(tables.Power.SleepTypeA, Is.EqualTo(5));
            Assert.That(tables.Power.SleepTypeB, Is.EqualTo(5));
            Assert.That(tables.Power.SmiCommandPort, Is.EqualTo(0xB2u));
            Assert.That(tables.Power.AcpiEnableValue, Is.EqualTo(0xF1));
            Assert.That(tables.HasMadt, Is.True);
            Assert.That(tables.Madt.LocalApicAddress, Is.EqualTo(0xFEE00000UL));
            Assert.That(tables.Madt.IoApicAddress, Is.EqualTo(0xFEC00000UL));
            Assert.That(tables.Madt.IoApicGsiBase, Is.EqualTo(0u));
            Assert.That(tables.Madt.ProcessorCount, Is.EqualTo(1));
            Assert.That(tables.Madt.OverrideCount, Is.EqualTo(2));
            Assert.That(tables.BadTables, Is.EqualTo(0));
        }

        [Test]
        public void Acpi1RsdpUsesTheRsdt()
        {
            Build(revision: 0, s5: QemuS5Bytes);
            AcpiTables tables = new AcpiTables(_memory);

            Assert.That(tables.Parse(Rsdp), Is.EqualTo(AcpiStatus.Ok));
            Assert.That(tables.Revision, Is.EqualTo(0));
            Assert.That(tables.RootAddress, Is.EqualTo(Root));
            Assert.That(tables.Power.SleepTypeA, Is.EqualTo(0));
            Assert.That(tables.Power.CanPowerOff, Is.True);
        }

        [Test]
        public void RsdpIsFoundOnA16ByteBoundaryInTheBiosArea()
        {
            Build(revision: 2, s5: S5Bytes);
            Assert.That(new AcpiTables(_memory).FindRsdp(Base, Base + 0x20000), Is.EqualTo(Rsdp));
        }

        [Test]
        public void BadRsdpChecksumIsRejected()
        {
            Build(revision: 2, s5: S5Bytes);
            *(_memory.At(Rsdp + 8)) ^= 0xFF;
            Assert.That(new AcpiTables(_memory).Parse(Rsdp), Is.EqualTo(AcpiStatus.BadRsdp));
            Assert.That(new AcpiTables(_memory).FindRsdp(Base, Base + 0x20000), Is.EqualTo(0UL));
        }

        [Test]
        public void FadtWithABadChecksumIsSkipped()
        {
            Build(revision: 2, s5: S5Bytes);
            *(_memory.At(Fadt + 64)) ^= 0x01;
            AcpiTables tables = new AcpiTables(_memory);
            Assert.That(tables.Parse(Rsdp), Is.EqualTo(AcpiStatus.NoFadt));
            Assert.That(tables.BadTables, Is.EqualTo(1));
            Assert.That(tables.Power.CanPowerOff, Is.False);
            Assert.That(tables.HasMadt, Is.True, "the MADT is still good");
        }

        [Test]
        public void RootTableLengthBeyondMemoryIsRejected()
        {
            Build(revision: 2, s5: S5Bytes);
            WriteTable(Root, "XSDT", new byte[16], lengthOverride: 0x7FFF0000);
            Assert.That(new AcpiTables(_memory).Parse(Rsdp), Is.EqualTo(AcpiStatus.BadRootTable));
        }

        [Test]
        public void MissingS5LeavesPowerOffImpossible()
        {
            Build(revision: 2, s5: new byte[] { 0x08, 0x5F, 0x53, 0x34, 0x5F, 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 });
            AcpiTables tables = new AcpiTables(_memory);
            Assert.That(tables.Parse(Rsdp), Is.EqualTo(AcpiStatus.NoS5));
            Assert.That(tables.Power.CanPowerOff, Is.False);
        }

        [Test]
        public void TruncatedS5PackageIsNotRead()
        {
            // The DSDT ends inside the package.
            Build(revision: 2, s5: new byte[] { 0x08, 0x5F, 0x53, 0x35, 0x5F, 0x12, 0x06, 0x04, 0x0A });
            Assert.That(new AcpiTables(_memory).Parse(Rsdp), Is.EqualTo(AcpiStatus.NoS5));
        }

        [Test]
        public void S5NameWithoutNameOpIsIgnored()
        {
            // "_S5_" inside a method body (a string, a reference) is not the package.
            byte[] aml = new byte[] { 0x0D, 0x5F, 0x53, 0x35, 0x5F, 0x00 };
            Build(revision: 2, s5: Concat(aml, S5Bytes));
            AcpiTables tables = new AcpiTables(_memory);
            Assert.That(tables.Parse(Rsdp), Is.EqualTo(AcpiStatus.Ok));
            Assert.That(tables.Power.SleepTypeA, Is.EqualTo(5));
        }

        [Test]
        public void IsaOverridesMapIrqsToGsisWithPolarityAndTrigger()
        {
            Build(revision: 2, s5: S5Bytes);
            AcpiTables tables = new AcpiTables(_memory);
            tables.Parse(Rsdp);
            bool low;
            bool level;
            Assert.That(tables.Madt.IsaIrqToGsi(0, out low, out level), Is.EqualTo(2u));
            Assert.That(low || level, Is.False);
            Assert.That(tables.Madt.IsaIrqToGsi(9, out low, out level), Is.EqualTo(9u));
            Assert.That(level, Is.True);
            Assert.That(low, Is.False);
            Assert.That(tables.Madt.IsaIrqToGsi(4, out low, out level), Is.EqualTo(4u), "no override: identity, edge, high");
            Assert.That(low || level, Is.False);
        }

        [Test]
        public void MadtEntryWithZeroLengthStopsTheWalk()
        {
            Build(revision: 2, s5: S5Bytes);
            byte[] entries = Concat(new byte[] { 0, 8, 0, 0, 1, 0, 0, 0 }, new byte[] { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 });
            WriteTable(Madt, "APIC", Concat(Le32(0xFEE00000), Le32(1), entries));
            AcpiTables tables = new AcpiTables(_memory);
            tables.Parse(Rsdp);
            Assert.That(tables.Madt.ProcessorCount, Is.EqualTo(1));
            Assert.That(tables.Madt.IoApicCount, Is.EqualTo(0));
            Assert.That(tables.BadTables, Is.EqualTo(1));
        }

        [Test]
        public void LocalApicAddressOverrideWins()
        {
            Build(revision: 2, s5: S5Bytes);
            byte[] entries = Concat(new byte[] { 5, 12, 0, 0 }, Le64(0xFED00000));
            WriteTable(Madt, "APIC", Concat(Le32(0xFEE00000), Le32(1), entries));
            AcpiTables tables = new AcpiTables(_memory);
            tables.Parse(Rsdp);
            Assert.That(tables.Madt.LocalApicAddress, Is.EqualTo(0xFED00000UL));
        }

        [Test]
        public void SecondIoApicAndTheDsdtsVirtioMmioDevicesAreFound()
        {
            Build(revision: 2, s5: QemuS5Bytes);
            // MADT as on microvm with ACPI: two I/O APICs (type 1, length 12), the second from GSI 24.
            byte[] entries = Concat(new byte[] { 0, 8, 0, 0, 1, 0, 0, 0 }, new byte[] { 1, 12, 0, 0 }, Le32(0xFEC00000), Le32(0),
                new byte[] { 1, 12, 1, 0 }, Le32(0xFEC10000), Le32(24));
            WriteTable(Madt, "APIC", Concat(Le32(0xFEE00000), Le32(1), entries));
            // Device(VR23){ Name(_HID, "LNRO0005") Name(_CRS, ResourceTemplate(){ Memory32Fixed(ReadWrite, 0xFEB02E00, 0x200)
            // Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive){ 47 } }) }, then \_S5.
            byte[] device =
            {
                0x5B, 0x82, 0x34, (byte)'V', (byte)'R', (byte)'2', (byte)'3',
                0x08, (byte)'_', (byte)'H', (byte)'I', (byte)'D', 0x0D, (byte)'L', (byte)'N', (byte)'R', (byte)'O', (byte)'0', (byte)'0', (byte)'0', (byte)'5', 0x00,
                0x08, (byte)'_', (byte)'C', (byte)'R', (byte)'S', 0x11, 0x1A, 0x0A, 0x17,
                0x86, 0x09, 0x00, 0x01, 0x00, 0x2E, 0xB0, 0xFE, 0x00, 0x02, 0x00, 0x00,
                0x89, 0x06, 0x00, 0x01, 0x01, 0x2F, 0x00, 0x00, 0x00,
                0x79, 0x00,
            };
            WriteTable(Dsdt, "DSDT", Concat(device, QemuS5Bytes));
            AcpiTables tables = new AcpiTables(_memory);
            Assert.That(tables.Parse(Rsdp), Is.EqualTo(AcpiStatus.Ok));
            Assert.That(tables.Madt.IoApicCount, Is.EqualTo(2));
            Assert.That(tables.Madt.IoApicsKept, Is.EqualTo(2));
            Assert.That(tables.Madt.IoApicAddresses[1], Is.EqualTo(0xFEC10000UL));
            Assert.That(tables.Madt.IoApicGsiBases[1], Is.EqualTo(24u));
            Keel.Kernel.Platform.MmioDevice[] devices = new Keel.Kernel.Platform.MmioDevice[4];
            Assert.That(tables.FindMmioDevices(devices), Is.EqualTo(1));
            Assert.That(devices[0].Base, Is.EqualTo(0xFEB02E00UL));
            Assert.That(devices[0].Irq, Is.EqualTo(47));
            Assert.That(devices[0].LevelTriggered, Is.True);

            // A length that runs past the end of memory.
            WriteTable(Dsdt, "DSDT", Concat(device, QemuS5Bytes), lengthOverride: 0x20000);
            tables = new AcpiTables(_memory);
            Assert.That(tables.Parse(Rsdp), Is.EqualTo(AcpiStatus.BadDsdt));
            Assert.That(tables.FindMmioDevices(devices), Is.Zero, "no devices from a DSDT that failed its checks");
        }

        [Test]
        public void SleepControlValueSetsSlpTypAndSlpEnKeepingOtherBits()
        {
            // PM1_CNT: SCI_EN bit 0, SLP_TYPx bits 10-12, SLP_EN bit 13 (ACPI 6.5 table 4.13).
            Assert.That(AcpiPowerInfo.SleepControlValue(0x0001, 5), Is.EqualTo((ushort)(0x0001 | (5 << 10) | 0x2000)));
            Assert.That(AcpiPowerInfo.SleepControlValue(0x1C01, 0), Is.EqualTo((ushort)0x2001));
        }

        // ---- table builders (layouts from the specification) -------------------------------------------------------

        private void Build(int revision, byte[] s5)
        {
            // RSDP: "RSD PTR ", checksum, OEMID, revision, RSDT address, length, XSDT address, extended checksum, reserved.
            byte[] rsdp = new byte[36];
            Encoding.ASCII.GetBytes("RSD PTR ").CopyTo(rsdp, 0);
            Encoding.ASCII.GetBytes("KEELTS").CopyTo(rsdp, 9);
            rsdp[15] = (byte)revision;
            Le32((uint)Root).CopyTo(rsdp, 16);
            Le32(36).CopyTo(rsdp, 20);
            Le64(revision >= 2 ? Root : 0).CopyTo(rsdp, 24);
            rsdp[8] = ChecksumByte(rsdp, 0, 20);
            rsdp[32] = ChecksumByte(rsdp, 0, 36);
            _memory.Write(Rsdp, rsdp);

            if (revision >= 2)
            {
                WriteTable(Root, "XSDT", Concat(Le64(Fadt), Le64(Madt)));
            }
            else
            {
                WriteTable(Root, "RSDT", Concat(Le32((uint)Fadt), Le32((uint)Madt)));
            }

            // FADT (revision 6 size 276): DSDT @40, SMI_CMD @48, ACPI_ENABLE @52, PM1a_CNT_BLK @64, X_DSDT @140,
            // X_PM1a_CNT_BLK @172 (GAS: space id 1 = system I/O, bit width 16, address @+4).
            byte[] fadt = new byte[276 - 36];
            Le32((uint)Dsdt).CopyTo(fadt, 40 - 36);
            Le32(0xB2).CopyTo(fadt, 48 - 36);
            fadt[52 - 36] = 0xF1;
            Le32(0x604).CopyTo(fadt, 64 - 36);
            fadt[89 - 36] = 2;
            Le64(Dsdt).CopyTo(fadt, 140 - 36);
            fadt[172 - 36] = 1;
            fadt[173 - 36] = 16;
            Le64(0x604).CopyTo(fadt, 172 - 36 + 4);
            WriteTable(Fadt, "FACP", fadt, revision: 6);

            // DSDT: some unrelated AML, then the \_S5 object.
            byte[] prefix = { 0x10, 0x05, 0x5F, 0x53, 0x42, 0x5F, 0x08, 0x50, 0x49, 0x43, 0x46, 0x00 };
            WriteTable(Dsdt, "DSDT", Concat(prefix, s5));

            // MADT: local APIC address, flags (PCAT_COMPAT), then entries: processor local APIC (type 0, length 8),
            // I/O APIC (type 1, length 12), two interrupt source overrides (type 2, length 10).
            List<byte> madt = new List<byte>();
            madt.AddRange(Le32(0xFEE00000));
            madt.AddRange(Le32(1));
            madt.AddRange(new byte[] { 0, 8, 0, 0, 1, 0, 0, 0 });
            madt.AddRange(new byte[] { 1, 12, 0, 0 });
            madt.AddRange(Le32(0xFEC00000));
            madt.AddRange(Le32(0));
            madt.AddRange(new byte[] { 2, 10, 0, 0 });
            madt.AddRange(Le32(2));
            madt.AddRange(new byte[] { 0, 0 });
            madt.AddRange(new byte[] { 2, 10, 0, 9 });
            madt.AddRange(Le32(9));
            madt.AddRange(new byte[] { 0x0D, 0 });
            WriteTable(Madt, "APIC", madt.ToArray());
        }

        /// <summary>Header (signature, length, revision, checksum, OEM ids, creator) + body, checksum fixed.</summary>
        private void WriteTable(ulong address, string signature, byte[] body, int revision = 1, uint lengthOverride = 0)
        {
            byte[] table = new byte[36 + body.Length];
            Encoding.ASCII.GetBytes(signature).CopyTo(table, 0);
            Le32(lengthOverride != 0 ? lengthOverride : (uint)table.Length).CopyTo(table, 4);
            table[8] = (byte)revision;
            Encoding.ASCII.GetBytes("KEELTS").CopyTo(table, 10);
            Encoding.ASCII.GetBytes("KEELTEST").CopyTo(table, 16);
            body.CopyTo(table, 36);
            table[9] = ChecksumByte(table, 0, table.Length);
            _memory.Write(address, table);
        }

        private static byte ChecksumByte(byte[] bytes, int start, int length)
        {
            byte sum = 0;
            for (int i = start; i < start + length; i++)
            {
                sum += bytes[i];
            }
            return (byte)(0 - sum);
        }

        private static byte[] Le32(uint value) => BitConverter.GetBytes(value);

        private static byte[] Le64(ulong value) => BitConverter.GetBytes(value);

        private static byte[] Concat(params byte[][] parts)
        {
            List<byte> all = new List<byte>();
            foreach (byte[] part in parts)
            {
                all.AddRange(part);
            }
            return all.ToArray();
        }
    }
}
