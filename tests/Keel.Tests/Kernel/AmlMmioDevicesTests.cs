using System;
using System.Collections.Generic;
using System.Text;
using Keel.Kernel.Acpi;
using Keel.Kernel.Platform;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    /// <summary>
    /// The DSDT walk for virtio-mmio devices, against AML assembled by hand from the ACPI 6.5 encoding: §20.2.4
    /// PkgLength, §20.2.2 NameString, §20.2.5 DefScope (0x10), DefDevice (0x5B 0x82), DefName (0x08), String
    /// (0x0D), DefBuffer (0x11), integer constants; §6.4 resource descriptors: Memory32Fixed (0x86), Memory32
    /// (0x85), QWord address space (0x8A), Extended Interrupt (0x89), IRQ (0x22/0x23), End Tag (0x79).
    /// </summary>
    [TestFixture]
    public sealed unsafe class AmlMmioDevicesTests
    {
        private const ulong Start = 0x100000;

        private SimulatedPhysicalMemory _memory;

        [SetUp]
        public void SetUp() => _memory = new SimulatedPhysicalMemory(Start, 0x10000);

        [TearDown]
        public void TearDown() => _memory.Dispose();

        private MmioDevice[] Find(byte[] aml, int capacity = 8)
        {
            _memory.Write(Start, aml);
            MmioDevice[] found = new MmioDevice[capacity];
            int count = AmlMmioDevices.Find(_memory, Start, (uint)aml.Length, found);
            return found.AsSpan(0, count).ToArray();
        }

        /// <summary>Device(VRnn) as QEMU's microvm writes it: _HID, _UID, _CCA, _CRS with a window and a level interrupt.</summary>
        internal static byte[] VirtioDevice(string name, uint address, uint gsi, int uid, byte interruptFlags = 0x01)
        {
            return Device(name,
                Name("_HID", Str("LNRO0005")),
                Name("_UID", Int((ulong)uid)),
                Name("_CCA", new byte[] { 0x01 }),
                Name("_CRS", Buffer(Memory32Fixed(address, 0x200), ExtendedInterrupt(interruptFlags, gsi), EndTag())));
        }

        [Test]
        public void MicrovmStyleDevicesUnderScopeSbAreFoundInTableOrder()
        {
            byte[] aml = Scope("_SB_",
                Device("FWCF", Name("_HID", Str("QEMU0002")), Name("_STA", Int(0x0B)),
                    Name("_CRS", Buffer(new byte[] { 0x47, 0x01, 0x10, 0x05, 0x10, 0x05, 0x01, 0x0C }, EndTag()))),
                Device("COM1", Name("_HID", EisaId(0x0105D041)), Name("_CRS", Buffer(Irq(1 << 4, null), EndTag()))),
                VirtioDevice("VR23", 0xFEB02E00, 47, 23),
                VirtioDevice("VR22", 0xFEB02C00, 46, 22));
            MmioDevice[] devices = Find(aml);
            Assert.That(devices.Length, Is.EqualTo(2));
            Assert.That(devices[0].Base, Is.EqualTo(0xFEB02E00UL));
            Assert.That(devices[0].Size, Is.EqualTo(0x200UL));
            Assert.That(devices[0].Irq, Is.EqualTo(47));
            Assert.That(devices[0].HasTriggerMode, Is.True);
            Assert.That(devices[0].LevelTriggered, Is.True, "Extended Interrupt flags bit 1 clear: level");
            Assert.That(devices[0].ActiveLow, Is.False, "bit 2 clear: active high");
            Assert.That(devices[0].Id, Is.EqualTo(23));
            Assert.That(devices[0].Source, Is.EqualTo(MmioDeviceSource.Acpi));
            Assert.That(devices[1].Base, Is.EqualTo(0xFEB02C00UL));
            Assert.That(devices[1].Irq, Is.EqualTo(46));
        }

        [Test]
        public void EdgeAndActiveLowFlagsAreRead()
        {
            // Flags: consumer (bit 0), edge (bit 1), active low (bit 2).
            MmioDevice[] devices = Find(VirtioDevice("VR00", 0xD0000000, 5, 0, 0x07));
            Assert.That(devices.Length, Is.EqualTo(1));
            Assert.That(devices[0].LevelTriggered, Is.False);
            Assert.That(devices[0].ActiveLow, Is.True);
        }

        [Test]
        public void AnIrqDescriptorGivesTheLowestIrqAndItsFlags()
        {
            byte[] edgeHigh = Device("VR00", Name("_HID", Str("LNRO0005")),
                Name("_CRS", Buffer(Memory32Fixed(0xD0000000, 0x1000), Irq(1 << 5, null), EndTag())));
            MmioDevice[] devices = Find(edgeHigh);
            Assert.That(devices[0].Irq, Is.EqualTo(5));
            Assert.That(devices[0].LevelTriggered, Is.False, "no flags byte: edge, active high");
            Assert.That(devices[0].ActiveLow, Is.False);
            Assert.That(devices[0].Id, Is.EqualTo(-1), "no _UID");

            // Flags byte: bit 0 = edge (0: level), bit 3 = active low.
            byte[] levelLow = Device("VR01", Name("_HID", Str("LNRO0005")),
                Name("_CRS", Buffer(Memory32Fixed(0xD0001000, 0x1000), Irq((1 << 9) | (1 << 11), 0x08), EndTag())));
            devices = Find(levelLow);
            Assert.That(devices[0].Irq, Is.EqualTo(9));
            Assert.That(devices[0].LevelTriggered, Is.True);
            Assert.That(devices[0].ActiveLow, Is.True);
        }

        [Test]
        public void OtherMemoryDescriptorsAreRead()
        {
            byte[] memory32 = Device("VR00", Name("_HID", Str("LNRO0005")),
                Name("_CRS", Buffer(Memory32(0xD0000000, 0x200), ExtendedInterrupt(1, 40), EndTag())));
            byte[] qword = Device("VR01", Name("_CID", Str("LNRO0005")),
                Name("_CRS", Buffer(QWordMemory(0x4_0000_0000, 0x1000), ExtendedInterrupt(1, 41), EndTag())));
            MmioDevice[] devices = Find(Concat(memory32, qword));
            Assert.That(devices.Length, Is.EqualTo(2));
            Assert.That(devices[0].Base, Is.EqualTo(0xD0000000UL));
            Assert.That(devices[0].Size, Is.EqualTo(0x200UL));
            Assert.That(devices[1].Base, Is.EqualTo(0x4_0000_0000UL), "a window above 4 GiB; matched by _CID");
            Assert.That(devices[1].Size, Is.EqualTo(0x1000UL));
            Assert.That(devices[1].Irq, Is.EqualTo(41));
        }

        [Test]
        public void DevicesThatAreNotVirtioAbsentOrIncompleteAreLeftOut()
        {
            byte[] aml = Concat(
                Device("PCI0", Name("_HID", EisaId(0x030AD041)),
                    Name("_CRS", Buffer(Memory32Fixed(0xC0000000, 0x1000), ExtendedInterrupt(1, 16), EndTag()))),
                Device("VR00", Name("_HID", Str("LNRO0006")),
                    Name("_CRS", Buffer(Memory32Fixed(0xD0000000, 0x200), ExtendedInterrupt(1, 5), EndTag()))),
                Device("VR01", Name("_HID", Str("LNRO0005")), Name("_STA", Int(0)),
                    Name("_CRS", Buffer(Memory32Fixed(0xD0000200, 0x200), ExtendedInterrupt(1, 6), EndTag()))),
                Device("VR02", Name("_HID", Str("LNRO0005")),
                    Name("_CRS", Buffer(Memory32Fixed(0xD0000400, 0x200), EndTag()))),
                Device("VR03", Name("_HID", Str("LNRO0005")),
                    Name("_CRS", Buffer(ExtendedInterrupt(1, 8), EndTag()))),
                Device("VR04", Name("_HID", Str("LNRO0005")), Name("_STA", Int(0x0F)),
                    Name("_CRS", Buffer(Memory32Fixed(0xD0000800, 0x200), ExtendedInterrupt(1, 9), EndTag()))));
            MmioDevice[] devices = Find(aml);
            Assert.That(devices.Length, Is.EqualTo(1), "only VR04: present, virtio, window and interrupt");
            Assert.That(devices[0].Base, Is.EqualTo(0xD0000800UL));
        }

        [Test]
        public void ANestedDevicesNamesAreNotTakenForItsParents()
        {
            byte[] aml = Device("PAR0", Name("_HID", Str("LNRO0005")),
                Device("CHLD", Name("_HID", Str("PNP0C02")),
                    Name("_CRS", Buffer(Memory32Fixed(0xD0000000, 0x200), ExtendedInterrupt(1, 5), EndTag()))));
            Assert.That(Find(aml), Is.Empty, "the parent has no _CRS of its own; the child is not virtio");

            aml = Device("PAR0", Name("_HID", EisaId(0x0A0CD041)),
                Device("VR00", Name("_HID", Str("LNRO0005")),
                    Name("_CRS", Buffer(Memory32Fixed(0xD0000000, 0x200), ExtendedInterrupt(1, 5), EndTag()))));
            MmioDevice[] devices = Find(aml);
            Assert.That(devices.Length, Is.EqualTo(1), "the nested virtio device itself is found");
            Assert.That(devices[0].Irq, Is.EqualTo(5));
        }

        [Test]
        public void LongPackagesUseMultiBytePkgLength()
        {
            // A _CRS padded past 63 bytes (two-byte PkgLength) and a device body past 4095 bytes (three bytes).
            byte[] padding = new byte[5000];
            for (int i = 0; i < padding.Length; i++)
            {
                padding[i] = 0xA3; // Noop
            }
            byte[] crs = Buffer(Memory32Fixed(0xD0000000, 0x200), Irq(1 << 3, 0x01), Memory32Fixed(0xD0001000, 0x200), Memory32Fixed(0xD0002000, 0x200),
                Memory32Fixed(0xD0003000, 0x200), Memory32Fixed(0xD0004000, 0x200), ExtendedInterrupt(1, 12), EndTag());
            Assert.That(crs.Length, Is.GreaterThan(64));
            byte[] aml = Device("VR00", padding, Name("_HID", Str("LNRO0005")), Name("_CRS", crs));
            MmioDevice[] devices = Find(aml);
            Assert.That(devices.Length, Is.EqualTo(1));
            Assert.That(devices[0].Base, Is.EqualTo(0xD0000000UL), "the first window");
            Assert.That(devices[0].Irq, Is.EqualTo(3), "the first interrupt");
            Assert.That(devices[0].LevelTriggered, Is.False);
        }

        [Test]
        public void TheSameWindowIsListedOnceAndTheArrayBoundsTheCount()
        {
            byte[] aml = Concat(VirtioDevice("VR00", 0xD0000000, 5, 0), VirtioDevice("VR01", 0xD0000000, 5, 1),
                VirtioDevice("VR02", 0xD0000200, 6, 2), VirtioDevice("VR03", 0xD0000400, 7, 3));
            Assert.That(Find(aml).Length, Is.EqualTo(3));
            Assert.That(Find(aml, capacity: 2).Length, Is.EqualTo(2));
        }

        [Test]
        public void CorruptLengthsNeverReadOutsideTheTable()
        {
            byte[] good = Scope("_SB_", VirtioDevice("VR23", 0xFEB02E00, 47, 23));
            Assert.That(Find(good).Length, Is.EqualTo(1));
            // Every truncation and every single-byte corruption: no exception, never a window of length 0, never more than one device.
            for (int length = 0; length < good.Length; length++)
            {
                byte[] cut = good.AsSpan(0, length).ToArray();
                Assert.That(Find(cut).Length, Is.LessThanOrEqualTo(1));
            }
            Random random = new Random(19);
            for (int round = 0; round < 2000; round++)
            {
                byte[] bad = (byte[])good.Clone();
                bad[random.Next(bad.Length)] = (byte)random.Next(256);
                foreach (MmioDevice device in Find(bad))
                {
                    Assert.That(device.Size, Is.GreaterThan(0UL));
                    Assert.That(device.Base + device.Size, Is.GreaterThan(device.Base));
                }
            }
            MmioDevice[] none = new MmioDevice[4];
            Assert.That(AmlMmioDevices.Find(_memory, Start + 0xFFF0, 0x100, none), Is.Zero, "a range that cannot be read");
        }

        // ---- AML builders (ACPI 6.5 §20.2) ----------------------------------------------------------------------

        /// <summary>PkgLength for <paramref name="contents"/> bytes following it (the encoded length counts itself).</summary>
        private static byte[] PkgLength(int contents)
        {
            for (int follow = 0; follow <= 3; follow++)
            {
                int total = contents + 1 + follow;
                if (follow == 0 && total < 64)
                {
                    return new[] { (byte)total };
                }
                if (follow > 0 && total < 1 << (4 + 8 * follow))
                {
                    byte[] encoded = new byte[1 + follow];
                    encoded[0] = (byte)((follow << 6) | (total & 0x0F));
                    for (int i = 0; i < follow; i++)
                    {
                        encoded[1 + i] = (byte)(total >> (4 + 8 * i));
                    }
                    return encoded;
                }
            }
            throw new ArgumentOutOfRangeException(nameof(contents));
        }

        private static byte[] Seg(string name) => Encoding.ASCII.GetBytes(name);

        internal static byte[] Scope(string name, params byte[][] terms) => Package(new byte[] { 0x10 }, Concat(Seg(name), Concat(terms)));

        private static byte[] Device(string name, params byte[][] terms) => Package(new byte[] { 0x5B, 0x82 }, Concat(Seg(name), Concat(terms)));

        private static byte[] Package(byte[] op, byte[] contents) => Concat(op, PkgLength(contents.Length), contents);

        private static byte[] Name(string name, byte[] value) => Concat(new byte[] { 0x08 }, Seg(name), value);

        private static byte[] Str(string text) => Concat(new byte[] { 0x0D }, Encoding.ASCII.GetBytes(text), new byte[] { 0 });

        private static byte[] EisaId(uint value) => Concat(new byte[] { 0x0C }, BitConverter.GetBytes(value));

        private static byte[] Int(ulong value)
        {
            if (value == 0)
            {
                return new byte[] { 0x00 };
            }
            if (value <= 0xFF)
            {
                return new byte[] { 0x0A, (byte)value };
            }
            return Concat(new byte[] { 0x0C }, BitConverter.GetBytes((uint)value));
        }

        /// <summary>DefBuffer: BufferOp, PkgLength, BufferSize (a ByteConst), the bytes.</summary>
        private static byte[] Buffer(params byte[][] descriptors)
        {
            byte[] bytes = Concat(descriptors);
            byte[] size = bytes.Length <= 0xFF ? new byte[] { 0x0A, (byte)bytes.Length } : Concat(new byte[] { 0x0B }, BitConverter.GetBytes((ushort)bytes.Length));
            return Package(new byte[] { 0x11 }, Concat(size, bytes));
        }

        /// <summary>§6.4.3.4: 0x86, length 9, information (bit 0 read/write), base, length.</summary>
        private static byte[] Memory32Fixed(uint address, uint length) =>
            Concat(new byte[] { 0x86, 0x09, 0x00, 0x01 }, BitConverter.GetBytes(address), BitConverter.GetBytes(length));

        /// <summary>§6.4.3.3: 0x85, length 17, information, minimum, maximum, alignment, length.</summary>
        private static byte[] Memory32(uint address, uint length) =>
            Concat(new byte[] { 0x85, 0x11, 0x00, 0x01 }, BitConverter.GetBytes(address), BitConverter.GetBytes(address),
                BitConverter.GetBytes(4u), BitConverter.GetBytes(length));

        /// <summary>§6.4.3.5.1: 0x8A, length 43, type 0 (memory), flags, type flags, granularity, min, max, translation, length.</summary>
        private static byte[] QWordMemory(ulong address, ulong length) =>
            Concat(new byte[] { 0x8A, 0x2B, 0x00, 0x00, 0x0C, 0x01 }, BitConverter.GetBytes(0UL), BitConverter.GetBytes(address),
                BitConverter.GetBytes(address + length - 1), BitConverter.GetBytes(0UL), BitConverter.GetBytes(length));

        /// <summary>§6.4.3.6: 0x89, length 6, flags, table length 1, the interrupt number.</summary>
        private static byte[] ExtendedInterrupt(byte flags, uint gsi) =>
            Concat(new byte[] { 0x89, 0x06, 0x00, flags, 0x01 }, BitConverter.GetBytes(gsi));

        /// <summary>§6.4.2.1: 0x22 (mask only) or 0x23 (mask and flags).</summary>
        private static byte[] Irq(ushort mask, byte? flags) =>
            flags == null ? new byte[] { 0x22, (byte)mask, (byte)(mask >> 8) } : new byte[] { 0x23, (byte)mask, (byte)(mask >> 8), flags.Value };

        /// <summary>§6.4.2.9: 0x79 and a checksum byte (0: treated as correct).</summary>
        private static byte[] EndTag() => new byte[] { 0x79, 0x00 };

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
