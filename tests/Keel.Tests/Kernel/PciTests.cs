using System;
using System.Collections.Generic;
using Keel.Hal;
using Keel.Kernel.Pci;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    public class PciTests
    {
        /// <summary>Hands out dummy register regions and records what was mapped.</summary>
        private sealed class FakeMapper : IPciBarMapper
        {
            public readonly List<(int Index, PciBar Bar)> Mapped = new List<(int, PciBar)>();

            public IRegisterRegion Map(PciDevice device, int index, PciBar bar)
            {
                Mapped.Add((index, bar));
                return new FakeRegion((int)bar.Size, bar.IsPortIo);
            }
        }

        private sealed class FakeRegion : IRegisterRegion
        {
            public FakeRegion(int length, bool io)
            {
                Length = length;
                IsPortIo = io;
            }

            public int Length { get; }
            public bool IsPortIo { get; }
            public byte Read8(int offset) => 0;
            public ushort Read16(int offset) => 0;
            public uint Read32(int offset) => 0;
            public void Write8(int offset, byte value) { }
            public void Write16(int offset, ushort value) { }
            public void Write32(int offset, uint value) { }
        }

        private FakePciConfigSpace _space;
        private FakeMapper _mapper;
        private PciEnumerator _pci;

        /// <summary>virtio_pci_cap body: cap_len, cfg_type, bar, id, padding[2], offset, length.</summary>
        private static byte[] VirtioCap(byte type, byte bar, uint offset, uint length)
        {
            var body = new byte[14];
            body[0] = 16;
            body[1] = type;
            body[2] = bar;
            BitConverter.GetBytes(offset).CopyTo(body, 6);
            BitConverter.GetBytes(length).CopyTo(body, 10);
            return body;
        }

        /// <summary>MSI-X capability body: control, table offset|BIR, PBA offset|BIR.</summary>
        private static byte[] MsixCap(int vectors, uint table, uint pba)
        {
            var body = new byte[10];
            BitConverter.GetBytes((ushort)(vectors - 1)).CopyTo(body, 0);
            BitConverter.GetBytes(table).CopyTo(body, 2);
            BitConverter.GetBytes(pba).CopyTo(body, 6);
            return body;
        }

        /// <summary>A q35-like machine: host bridge, VGA, transitional virtio-net, a bridge to bus 1 with a modern virtio-net, multi-function LPC/SATA/SMBus.</summary>
        [SetUp]
        public void SetUp()
        {
            _space = new FakePciConfigSpace();
            _space.Add(0, 0, 0, 0x8086, 0x29C0, 0x06, 0x00, 0x00, 0x00);

            var vga = _space.Add(0, 1, 0, 0x1234, 0x1111, 0x03, 0x00, 0x00, 0x00);
            vga.MemoryBar32(0, 0xFD000000, 16 << 20, true);
            vga.MemoryBar32(2, 0xFEBD0000, 0x1000);

            var net = _space.Add(0, 2, 0, 0x1AF4, 0x1000, 0x02, 0x00, 0x00, 0x00);
            net.IoBar(0, 0xC000, 0x20);
            net.MemoryBar32(1, 0xFEBD1000, 0x1000);
            net.MemoryBar64(4, 0xFE000000, 0x4000, true);
            net.Set16(0x2C, 0x1AF4);
            net.Set16(0x2E, 0x0001);
            net.Config[0x3C] = 11;
            net.Config[0x3D] = 1;
            net.AddCapability(PciCapabilityId.Msix, MsixCap(3, 0x00000001, 0x00000801));
            net.AddCapability(PciCapabilityId.VendorSpecific, VirtioCap(1, 4, 0x0000, 0x1000)); // common
            net.AddCapability(PciCapabilityId.VendorSpecific, VirtioCap(3, 4, 0x1000, 0x1000)); // isr
            net.AddCapability(PciCapabilityId.VendorSpecific, VirtioCap(4, 4, 0x2000, 0x1000)); // device
            net.AddCapability(PciCapabilityId.VendorSpecific, VirtioCap(2, 4, 0x3000, 0x1000)); // notify
            net.Set16(4, 0x0007); // firmware left I/O, memory and bus mastering on
            net.Set16(6, (ushort)(net.Status | 0x8000)); // and a detected-parity-error status bit

            var bridge = _space.Add(0, 0x1E, 0, 0x8086, 0x244E, 0x06, 0x04, 0x01, 0x01);
            bridge.Config[0x18] = 0;
            bridge.Config[0x19] = 1;
            bridge.Config[0x1A] = 1;
            var modern = _space.Add(1, 0, 0, 0x1AF4, 0x1041, 0x02, 0x00, 0x00, 0x00);
            modern.MemoryBar64(4, 0x8_0000_0000, 0x4000, true);
            modern.MemoryBar32(1, 0xFE800000, 0x1000);
            modern.AddCapability(PciCapabilityId.Msix, MsixCap(9, 0x00000001, 0x00000801));
            modern.AddCapability(PciCapabilityId.VendorSpecific, VirtioCap(1, 4, 0, 0x1000));
            modern.Config[0x3D] = 1;
            modern.Config[0x3C] = 10;

            _space.Add(0, 0x1F, 0, 0x8086, 0x2918, 0x06, 0x01, 0x00, 0x80);
            _space.Add(0, 0x1F, 2, 0x8086, 0x2922, 0x01, 0x06, 0x01, 0x00).IoBar(4, 0xC040, 0x20);
            _space.Add(0, 0x1F, 3, 0x8086, 0x2930, 0x0C, 0x05, 0x00, 0x00);

            _mapper = new FakeMapper();
            _pci = new PciEnumerator(_space, _mapper);
        }

        private static string Bdf(PciDevice d) => $"{d.Bus:x2}:{d.Device:x2}.{d.Function}";

        [Test]
        public void RecursiveScanFindsEveryFunctionThroughTheBridge()
        {
            Assert.That(_pci.Enumerate(PciScanMode.Recursive), Is.EqualTo(8));
            var found = new List<string>();
            for (int i = 0; i < _pci.Count; i++)
            {
                found.Add(Bdf(_pci.Get(i)));
            }
            Assert.That(found, Is.EqualTo(new[] { "00:00.0", "00:01.0", "00:02.0", "00:1e.0", "01:00.0", "00:1f.0", "00:1f.2", "00:1f.3" }));
            Assert.That(_pci.BusesScanned, Is.EqualTo(2));
            PciDevice bridge = _pci.FindAt(0, 0x1E, 0);
            Assert.That(bridge.IsBridge, Is.True);
            Assert.That(bridge.SecondaryBus, Is.EqualTo(1));
            Assert.That(bridge.SubordinateBus, Is.EqualTo(1));
            Assert.That(_pci.FindAt(0, 0x1F, 0).IsMultiFunction, Is.True);
            Assert.That(_pci.FindAt(0, 0x1F, 1), Is.Null);
        }

        [Test]
        public void AllBusesScanFindsTheSameFunctions()
        {
            Assert.That(_pci.Enumerate(PciScanMode.AllBuses), Is.EqualTo(8));
            Assert.That(_pci.BusesScanned, Is.EqualTo(256));
            Assert.That(_pci.Get(7).Bus, Is.EqualTo(1));
            Assert.That(_pci.Enumerate(PciScanMode.Recursive), Is.EqualTo(8), "re-enumeration replaces the list");
        }

        [Test]
        public void IdentityAndHeaderFields()
        {
            _pci.Enumerate(PciScanMode.Recursive);
            PciDevice net = _pci.Find(0x1AF4, 0x1000, 0);
            Assert.That(net, Is.Not.Null);
            Assert.That(net.ClassCode, Is.EqualTo(0x02));
            Assert.That(net.Subclass, Is.EqualTo(0x00));
            Assert.That(net.RevisionId, Is.EqualTo(1));
            Assert.That(net.SubsystemVendorId, Is.EqualTo(0x1AF4));
            Assert.That(net.SubsystemId, Is.EqualTo(1));
            Assert.That(net.InterruptLine, Is.EqualTo(11));
            Assert.That(net.InterruptPin, Is.EqualTo(1));
            Assert.That(_pci.Find(0x1AF4, 0x1000, 1), Is.Null);
            Assert.That(_pci.FindByClass(0x02, 0x00, 1).DeviceId, Is.EqualTo(0x1041));
            Assert.That(_pci.FindByClass(0x01, 0x06, 0).Function, Is.EqualTo(2));
            Assert.That(_pci.FindByClass(0x0D, 0x00, 0), Is.Null);
        }

        [Test]
        public void BarsAreSizedWithDecodeOffAndRestored()
        {
            var net = _space.Get(0, 2, 0);
            uint[] before = new uint[6];
            for (int i = 0; i < 6; i++)
            {
                before[i] = net.Read32(0x10 + 4 * i);
            }
            _pci.Enumerate(PciScanMode.Recursive);
            Assert.That(_space.BarWritesWithDecodeOn, Is.EqualTo(0));
            for (int i = 0; i < 6; i++)
            {
                Assert.That(net.Read32(0x10 + 4 * i), Is.EqualTo(before[i]), "BAR " + i + " restored");
            }
            Assert.That(net.Command, Is.EqualTo(0x0007), "command restored");
            Assert.That(net.Status & 0x8000, Is.EqualTo(0x8000), "status error bit not cleared by the command writes");

            PciDevice d = _pci.Find(0x1AF4, 0x1000, 0);
            Assert.That(d.TryGetBar(0, out PciBar io), Is.True);
            Assert.That(io.IsPortIo, Is.True);
            Assert.That(io.Address, Is.EqualTo(0xC000));
            Assert.That(io.Size, Is.EqualTo(0x20));
            Assert.That(d.TryGetBar(1, out PciBar mmio), Is.True);
            Assert.That(mmio.IsPortIo || mmio.Is64Bit || mmio.Prefetchable, Is.False);
            Assert.That(mmio.Address, Is.EqualTo(0xFEBD1000));
            Assert.That(mmio.Size, Is.EqualTo(0x1000));
            Assert.That(d.TryGetBar(2, out _), Is.False);
            Assert.That(d.TryGetBar(3, out _), Is.False);
            Assert.That(d.TryGetBar(4, out PciBar wide), Is.True);
            Assert.That(wide.Is64Bit && wide.Prefetchable, Is.True);
            Assert.That(wide.Address, Is.EqualTo(0xFE000000));
            Assert.That(wide.Size, Is.EqualTo(0x4000));
            Assert.That(d.TryGetBar(5, out _), Is.False, "upper half of BAR4");
            Assert.That(d.TryGetBar(6, out _), Is.False);

            PciDevice vga = _pci.Find(0x1234, 0x1111, 0);
            Assert.That(vga.TryGetBar(0, out PciBar fb), Is.True);
            Assert.That(fb.Size, Is.EqualTo(16UL << 20));
            Assert.That(fb.Prefetchable && !fb.Is64Bit, Is.True);
        }

        [Test]
        public void ModernDeviceHas64BitBarAbove4G()
        {
            _pci.Enumerate(PciScanMode.Recursive);
            PciDevice d = _pci.Find(0x1AF4, 0x1041, 0);
            Assert.That(d.Bus, Is.EqualTo(1));
            Assert.That(d.TryGetBar(4, out PciBar bar), Is.True);
            Assert.That(bar.Address, Is.EqualTo(0x8_0000_0000UL));
            Assert.That(bar.Size, Is.EqualTo(0x4000));
            Assert.That(bar.Is64Bit, Is.True);
            Assert.That(d.TryGetBar(0, out _), Is.False);
            Assert.That(d.TryGetMsix(out PciMsixInfo msix), Is.True);
            Assert.That(msix.TableSize, Is.EqualTo(9));
            Assert.That(msix.TableAddress, Is.EqualTo(0xFE800000));
        }

        [Test]
        public void CapabilitiesAreWalkedAndFound()
        {
            _pci.Enumerate(PciScanMode.Recursive);
            PciDevice d = _pci.Find(0x1AF4, 0x1000, 0);
            int msix = d.FindCapability(PciCapabilityId.Msix);
            Assert.That(msix, Is.EqualTo(0x40));
            Assert.That(d.FindCapability(PciCapabilityId.Msi), Is.EqualTo(0));

            var types = new List<int>();
            for (int cap = d.FindCapability(PciCapabilityId.VendorSpecific, 0); cap != 0; cap = d.FindCapability(PciCapabilityId.VendorSpecific, cap))
            {
                types.Add(d.ConfigRead8(cap + 3));
                Assert.That(d.ConfigRead8(cap + 4), Is.EqualTo(4), "bar");
            }
            Assert.That(types, Is.EqualTo(new[] { 1, 3, 4, 2 }));

            var ids = new List<int>();
            for (int cap = d.FirstCapability(); cap != 0; cap = d.NextCapability(cap))
            {
                ids.Add(d.CapabilityId(cap));
            }
            Assert.That(ids, Is.EqualTo(new[] { 0x11, 9, 9, 9, 9 }));

            Assert.That(_pci.FindAt(0, 0, 0).FirstCapability(), Is.EqualTo(0), "no capability list");
        }

        [Test]
        public void LoopingCapabilityListTerminates()
        {
            var f = _space.Add(0, 5, 0, 0x1AF4, 0x1000, 0x02, 0, 0, 0);
            int a = f.AddCapability(PciCapabilityId.VendorSpecific, new byte[6]);
            int b = f.AddCapability(PciCapabilityId.PowerManagement, new byte[6]);
            f.Config[b + 1] = (byte)a; // b -> a -> b -> ...
            _pci.Enumerate(PciScanMode.Recursive);
            PciDevice d = _pci.FindAt(0, 5, 0);
            Assert.That(d.FindCapability(PciCapabilityId.Msix), Is.EqualTo(0));
            Assert.That(d.FindCapability(PciCapabilityId.PowerManagement), Is.EqualTo(b));
            var output = new TextCapture();
            _pci.Print(output);
            Assert.That(output.Text, Does.Contain("caps 09 01 09 01"));
        }

        [Test]
        public void MsixTableLocation()
        {
            _pci.Enumerate(PciScanMode.Recursive);
            PciDevice d = _pci.Find(0x1AF4, 0x1000, 0);
            Assert.That(d.TryGetMsix(out PciMsixInfo info), Is.True);
            Assert.That(info.CapabilityOffset, Is.EqualTo(0x40));
            Assert.That(info.TableSize, Is.EqualTo(3));
            Assert.That(info.TableBar, Is.EqualTo(1));
            Assert.That(info.TableOffset, Is.EqualTo(0));
            Assert.That(info.TableAddress, Is.EqualTo(0xFEBD1000));
            Assert.That(info.PbaBar, Is.EqualTo(1));
            Assert.That(info.PbaOffset, Is.EqualTo(0x800));
            Assert.That(info.PbaAddress, Is.EqualTo(0xFEBD1800));
            Assert.That(_pci.FindAt(0, 0, 0).TryGetMsix(out _), Is.False);
        }

        [Test]
        public void CommandBitsAndStatusWriteOneToClear()
        {
            _pci.Enumerate(PciScanMode.Recursive);
            PciDevice d = _pci.Find(0x1AF4, 0x1041, 0);
            var raw = _space.Get(1, 0, 0);
            raw.Set16(6, (ushort)(raw.Status | 0x4000)); // signalled system error
            Assert.That(d.CommandRegister, Is.EqualTo(0));
            d.EnableBusMastering();
            d.EnableMemorySpace();
            d.DisableLegacyInterrupt(true);
            Assert.That(d.CommandRegister, Is.EqualTo(0x0406));
            Assert.That(raw.Status & 0x4000, Is.EqualTo(0x4000), "not cleared by command writes");
            d.EnableIoSpace();
            d.DisableLegacyInterrupt(false);
            Assert.That(d.CommandRegister, Is.EqualTo(0x0007));
            d.ConfigWrite16(PciConfig.Status, 0x4000);
            Assert.That(raw.Status & 0x4000, Is.EqualTo(0), "cleared by writing one");
            Assert.That(raw.Status & 0x10, Is.EqualTo(0x10), "capability bit is read-only");
            Assert.That(d.CommandRegister, Is.EqualTo(0x0007), "status write keeps the command");

            d.ConfigWrite8(0x3C, 5);
            Assert.That(d.ConfigRead8(0x3C), Is.EqualTo(5));
            Assert.That(d.ConfigRead8(0x3D), Is.EqualTo(1));
        }

        [Test]
        public void MapBarAsksTheKernelAndEnablesDecode()
        {
            _pci.Enumerate(PciScanMode.Recursive);
            PciDevice d = _pci.Find(0x1AF4, 0x1041, 0);
            IPciFunction function = d;
            IRegisterRegion region = function.MapBar(4);
            Assert.That(region, Is.Not.Null);
            Assert.That(region.Length, Is.EqualTo(0x4000));
            Assert.That(_mapper.Mapped[0].Index, Is.EqualTo(4));
            Assert.That(_mapper.Mapped[0].Bar.Address, Is.EqualTo(0x8_0000_0000UL));
            Assert.That(d.CommandRegister & PciConfig.CommandMemorySpace, Is.Not.Zero);
            Assert.That(d.CommandRegister & PciConfig.CommandIoSpace, Is.Zero);
            Assert.That(function.MapBar(0), Is.Null);
            Assert.That(function.MapBar(5), Is.Null);
            Assert.That(d.MapFailures, Is.EqualTo(2));

            PciDevice sata = _pci.FindAt(0, 0x1F, 2);
            Assert.That(sata.MapBar(4).IsPortIo, Is.True);
            Assert.That(sata.CommandRegister & PciConfig.CommandIoSpace, Is.Not.Zero);
        }

        [Test]
        public void MultiFunctionHostBridgeMeansSeveralRootBuses()
        {
            var space = new FakePciConfigSpace();
            space.Add(0, 0, 0, 0x1022, 0x1450, 0x06, 0x00, 0x00, 0x80);
            space.Add(0, 0, 1, 0x1022, 0x1451, 0x06, 0x00, 0x00, 0x00);
            space.Add(0, 3, 0, 0x1AF4, 0x1000, 0x02, 0x00, 0x00, 0x00);
            space.Add(1, 4, 0, 0x1AF4, 0x1041, 0x02, 0x00, 0x00, 0x00);
            space.Add(2, 0, 0, 0x1AF4, 0x1042, 0x01, 0x00, 0x00, 0x00); // bus 2 has no host controller: not found
            var pci = new PciEnumerator(space, null);
            Assert.That(pci.Enumerate(PciScanMode.Recursive), Is.EqualTo(4));
            Assert.That(pci.BusesScanned, Is.EqualTo(2));
            Assert.That(pci.FindAt(1, 4, 0), Is.Not.Null);
            Assert.That(pci.FindAt(0, 3, 0).MapBar(0), Is.Null, "no mapper");
            Assert.That(pci.Enumerate(PciScanMode.AllBuses), Is.EqualTo(5));
        }

        [Test]
        public void EmptyBusFindsNothing()
        {
            var pci = new PciEnumerator(new FakePciConfigSpace(), null);
            Assert.That(pci.Enumerate(PciScanMode.Recursive), Is.EqualTo(0));
        }

        [Test]
        public void ListingShowsFunctionsBarsAndCapabilities()
        {
            _pci.Enumerate(PciScanMode.Recursive);
            var output = new TextCapture();
            _pci.Print(output);
            string text = output.Text;
            Assert.That(text, Does.StartWith("00:00.0 8086:29c0 class 06.00.00 bridge rev 01\n"));
            Assert.That(text, Does.Contain(
                "00:02.0 1af4:1000 class 02.00.00 network rev 01 irq 11 pin A\n" +
                "    bar0 io    0xc000 size 0x20\n" +
                "    bar1 mem32 0xfebd1000 size 0x1000\n" +
                "    bar4 mem64 0x00000000fe000000 size 0x4000 pref\n" +
                "    caps 11 09 09 09 09 msix 3 vectors bar1+0x0\n"));
            Assert.That(text, Does.Contain("00:1e.0 8086:244e class 06.04.01 bridge rev 01 bus 01-01\n"));
            Assert.That(text, Does.Contain("01:00.0 1af4:1041 class 02.00.00 network rev 01 irq 10 pin A\n"));
            Assert.That(text, Does.Contain("00:1f.2 8086:2922 class 01.06.01 storage rev 01\n    bar4 io    0xc040 size 0x20\n"));
        }

        [Test]
        public void Mechanism1Address()
        {
            Assert.That(PciConfigMechanism1.Address(0, 3, 0, 0x10), Is.EqualTo(0x80001810u));
            Assert.That(PciConfigMechanism1.Address(0xFF, 31, 7, 0xFF), Is.EqualTo(0x80FFFFFCu));
        }
    }
}
