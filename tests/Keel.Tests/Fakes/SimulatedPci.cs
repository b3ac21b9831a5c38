using System;
using Keel.Drivers.Virtio;
using Keel.Hal;
using Keel.Tests.Kernel;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// A virtio-net PCI function at register level, as QEMU presents it: configuration space with the virtio
    /// vendor capabilities (modern), an I/O BAR 0 with the legacy registers (transitional or legacy-only), an
    /// MSI-X capability with its table in BAR 1, and BAR 4 holding the modern common/ISR/device/notify windows.
    /// Register accesses are translated into <see cref="SimulatedVirtioNetDevice"/> operations.
    /// </summary>
    public sealed partial class SimulatedPciFunction : IPciFunction, ISimInterruptSink
    {
        public const int ModernBar = 4;
        public const int MsixBar = 1;
        public const int LegacyBar = 0;
        private const int MsixEntries = 4;

        private readonly SimulatedVirtioNetDevice _device;
        private readonly FakeInterruptController _controller;
        /// <summary>
        /// The configuration space, as a function of the one PCI configuration fake (<see cref="FakePciConfigSpace"/>):
        /// attach it there and the kernel's enumeration finds this same function (see <see cref="AttachTo"/>).
        /// </summary>
        public readonly FakePciConfigSpace.Function Config = new FakePciConfigSpace.Function();
        private readonly byte[] _config;
        private readonly bool _modern;
        private readonly bool _legacy;
        private readonly bool _msix;
        private readonly int _msixCapability;
        private readonly IRegisterRegion[] _bars = new IRegisterRegion[6];
        internal readonly uint[] MsixTable = new uint[MsixEntries * 4];

        // Common configuration state (modern) and shared queue registers.
        internal uint DeviceFeatureSelect;
        internal uint DriverFeatureSelect;
        internal ulong DriverFeaturesStaged;
        internal ushort QueueSelect;
        internal ushort MsixConfigVector = VirtioSpec.VIRTIO_MSI_NO_VECTOR;
        internal readonly ushort[] QueueVector = { VirtioSpec.VIRTIO_MSI_NO_VECTOR, VirtioSpec.VIRTIO_MSI_NO_VECTOR, VirtioSpec.VIRTIO_MSI_NO_VECTOR };
        /// <summary>Receive, transmit and control queue.</summary>
        internal const int Queues = 3;
        internal readonly ushort[] QueueSizes = new ushort[Queues];
        internal readonly ulong[] QueueDesc = new ulong[Queues];
        internal readonly ulong[] QueueDriver = new ulong[Queues];
        internal readonly ulong[] QueueDevice = new ulong[Queues];
        internal readonly bool[] QueueEnabled = new bool[Queues];

        /// <summary>Queue vectors the device accepts (others read back as NO_VECTOR).</summary>
        public int AcceptVectorsBelow = MsixEntries;

        public bool BusMaster { get; private set; }
        public long WidthErrors;

        public SimulatedPciFunction(SimulatedVirtioNetDevice device, FakeInterruptController controller, bool modern, bool legacy, bool msix)
        {
            _config = Config.Config;
            _device = device;
            _controller = controller;
            _modern = modern;
            _legacy = legacy;
            _msix = msix;
            device.Interrupts = this;
            device.LegacyInterface = !modern;
            Put16(0x00, VirtioSpec.PCI_VENDOR_ID_REDHAT_QUMRANET);
            Put16(0x02, legacy ? (ushort)0x1000 : (ushort)0x1041);
            Put16(0x06, 0x10);
            Put16(0x2C, VirtioSpec.PCI_VENDOR_ID_REDHAT_QUMRANET);
            Put16(0x2E, 1);
            _config[0x3C] = 11;
            _config[0x3D] = 1;
            int next = 0x40;
            int previous = 0x34;
            if (modern)
            {
                AddVirtioCap(ref previous, ref next, VirtioSpec.VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, 20);
                AddVirtioCap(ref previous, ref next, VirtioSpec.VIRTIO_PCI_CAP_COMMON_CFG, ModernBar, 0x0000, 0x38, 16);
                AddVirtioCap(ref previous, ref next, VirtioSpec.VIRTIO_PCI_CAP_ISR_CFG, ModernBar, 0x1000, 0x4, 16);
                AddVirtioCap(ref previous, ref next, VirtioSpec.VIRTIO_PCI_CAP_DEVICE_CFG, ModernBar, 0x2000, 0xC, 16);
                int notify = next;
                AddVirtioCap(ref previous, ref next, VirtioSpec.VIRTIO_PCI_CAP_NOTIFY_CFG, ModernBar, 0x3000, 0x1000, 20);
                Put32(notify + 16, 4);
                _bars[ModernBar] = new ModernRegisters(this, device);
            }
            if (msix)
            {
                _msixCapability = next;
                _config[previous] = (byte)next;
                _config[next] = (byte)0x11;
                Put16(next + 2, MsixEntries - 1);
                Put32(next + 4, MsixBar);
                Put32(next + 8, MsixBar | 0x800);
                previous = next + 1;
                next += 12;
                _bars[MsixBar] = new MsixRegisters(this);
            }
            if (legacy)
            {
                _bars[LegacyBar] = new LegacyRegisters(this, device);
            }
            // Class: network controller, Ethernet; header type 0; BARs sized as TryGetBar reports them.
            _config[0x08] = 1;
            _config[0x0A] = 0x00;
            _config[0x0B] = 0x02;
            for (int index = 0; index < 6; index++)
            {
                PciBar bar;
                if (!TryGetBar(index, out bar))
                {
                    continue;
                }
                uint size = 1;
                while (size < bar.Size)
                {
                    size <<= 1;
                }
                if (bar.IsPortIo)
                {
                    Config.IoBar(index, (ushort)bar.Address, size);
                }
                else if (bar.Is64Bit)
                {
                    Config.MemoryBar64(index, bar.Address, size, false);
                }
                else
                {
                    Config.MemoryBar32(index, (uint)bar.Address, size);
                }
            }
        }

        /// <summary>Puts this function into <paramref name="space"/> at bus/device/function for the kernel's enumeration.</summary>
        public void AttachTo(FakePciConfigSpace space, int bus, int device, int function)
        {
            space.Attach(bus, device, function, Config);
        }

        private void AddVirtioCap(ref int previous, ref int next, byte type, int bar, int offset, int length, int capLength)
        {
            _config[previous] = (byte)next;
            _config[next] = VirtioSpec.PCI_CAP_ID_VNDR;
            _config[next + 2] = (byte)capLength;
            _config[next + 3] = type;
            _config[next + 4] = (byte)bar;
            Put32(next + 8, (uint)offset);
            Put32(next + 12, (uint)length);
            previous = next + 1;
            next += capLength;
        }

        private void Put16(int offset, ushort value)
        {
            _config[offset] = (byte)value;
            _config[offset + 1] = (byte)(value >> 8);
        }

        private void Put32(int offset, uint value)
        {
            Put16(offset, (ushort)value);
            Put16(offset + 2, (ushort)(value >> 16));
        }

        public bool MsixEnabled => _msix && (ConfigRead16(_msixCapability + 2) & 0x8000) != 0;

        public ushort VendorId => ConfigRead16(0);
        public ushort DeviceId => ConfigRead16(2);
        public byte ConfigRead8(int offset) => _config[offset];
        public ushort ConfigRead16(int offset) => (ushort)(_config[offset] | (_config[offset + 1] << 8));
        public uint ConfigRead32(int offset) => (uint)(ConfigRead16(offset) | (ConfigRead16(offset + 2) << 16));

        public void ConfigWrite8(int offset, byte value)
        {
            if (offset >= 0x40 && offset != _msixCapability + 2 && offset != _msixCapability + 3)
            {
                return;
            }
            _config[offset] = value;
        }

        public void ConfigWrite16(int offset, ushort value)
        {
            if (offset == _msixCapability + 2 && _msix)
            {
                // Only enable and function mask are writable.
                ushort control = (ushort)((ConfigRead16(offset) & 0x07FF) | (value & 0xC000));
                Put16(offset, control);
                return;
            }
            if (offset == 4)
            {
                Put16(4, value);
                return;
            }
        }

        public void ConfigWrite32(int offset, uint value)
        {
        }

        public bool TryGetBar(int index, out PciBar bar)
        {
            bar = default;
            if (_bars[index] == null)
            {
                return false;
            }
            bar.IsPortIo = _bars[index].IsPortIo;
            bar.Address = bar.IsPortIo ? 0xC000UL : 0xFE000000UL + (ulong)index * 0x10000;
            bar.Size = (ulong)_bars[index].Length;
            bar.Is64Bit = index == ModernBar;
            return true;
        }

        public IRegisterRegion MapBar(int index) => index >= 0 && index < 6 ? _bars[index] : null;

        public void EnableBusMastering()
        {
            BusMaster = true;
            Put16(4, (ushort)(ConfigRead16(4) | 4));
        }

        public int FindCapability(byte capabilityId, int after)
        {
            int pointer = after == 0 ? _config[0x34] : _config[after + 1];
            int guard = 0;
            while (pointer != 0 && guard++ < 48)
            {
                if (_config[pointer] == capabilityId)
                {
                    return pointer;
                }
                pointer = _config[pointer + 1];
            }
            return 0;
        }

        // ---- interrupts from the device ----

        public void RaiseQueueInterrupt(int queue)
        {
            if (MsixEnabled)
            {
                SendVector(QueueVector[queue]);
            }
            else
            {
                _controller.AssertLine();
            }
        }

        public void RaiseConfigInterrupt()
        {
            if (MsixEnabled)
            {
                SendVector(MsixConfigVector);
            }
            else
            {
                _controller.AssertLine();
            }
        }

        private void SendVector(ushort vector)
        {
            if (vector == VirtioSpec.VIRTIO_MSI_NO_VECTOR || vector >= MsixEntries)
            {
                return;
            }
            if ((ConfigRead16(_msixCapability + 2) & 0x4000) != 0 || (MsixTable[vector * 4 + 3] & 1) != 0)
            {
                return;
            }
            ulong address = MsixTable[vector * 4] | ((ulong)MsixTable[vector * 4 + 1] << 32);
            _controller.DeliverMessage(address, MsixTable[vector * 4 + 2]);
        }

        internal void ResetTransportState()
        {
            MsixConfigVector = VirtioSpec.VIRTIO_MSI_NO_VECTOR;
            for (int q = 0; q < Queues; q++)
            {
                QueueVector[q] = VirtioSpec.VIRTIO_MSI_NO_VECTOR;
                QueueEnabled[q] = false;
                QueueSizes[q] = (ushort)_device.QueueMaxSize(q);
                QueueDesc[q] = QueueDriver[q] = QueueDevice[q] = 0;
            }
        }

        /// <summary>A write of the device status register (either transport): writing 0 resets the device and the
        /// transport's queue and vector state.</summary>
        internal void WriteDeviceStatus(byte value)
        {
            _device.WriteStatus(value);
            if (value == 0)
            {
                ResetTransportState();
            }
        }

        internal ushort AcceptVector(ushort vector)
        {
            return vector == VirtioSpec.VIRTIO_MSI_NO_VECTOR || vector < AcceptVectorsBelow ? vector : VirtioSpec.VIRTIO_MSI_NO_VECTOR;
        }

        /// <summary>BAR 4: common configuration, ISR, device configuration and notification windows.</summary>
        private sealed class ModernRegisters : IRegisterRegion
        {
            private readonly SimulatedPciFunction _pci;
            private readonly SimulatedVirtioNetDevice _device;

            public ModernRegisters(SimulatedPciFunction pci, SimulatedVirtioNetDevice device)
            {
                _pci = pci;
                _device = device;
                pci.ResetTransportState();
            }

            public int Length => 0x4000;
            public bool IsPortIo => false;

            private int Q => _pci.QueueSelect < Queues && _device.QueueMaxSize(_pci.QueueSelect) > 0 ? _pci.QueueSelect : -1;

            private void Width(int expected, int actual)
            {
                if (expected != actual)
                {
                    _pci.WidthErrors++;
                }
            }

            public byte Read8(int offset)
            {
                if (offset == 0x14)
                {
                    return _device.ReadStatus();
                }
                if (offset == 0x15)
                {
                    return (byte)_device.ConfigGeneration;
                }
                if (offset == 0x1000)
                {
                    return _device.ReadIsr();
                }
                if (offset >= 0x2000 && offset < 0x200C)
                {
                    return _device.ReadConfig8(offset - 0x2000);
                }
                _pci.WidthErrors++;
                return 0;
            }

            public ushort Read16(int offset)
            {
                if (offset >= 0x2000 && offset < 0x200C)
                {
                    return (ushort)(_device.ReadConfig8(offset - 0x2000) | (_device.ReadConfig8(offset - 0x2000 + 1) << 8));
                }
                int q = Q;
                switch (offset)
                {
                    case 0x10: return _pci.MsixConfigVector;
                    case 0x12: return (ushort)(_device.QueueMaxSize(2) > 0 ? 3 : 2);
                    case 0x16: return _pci.QueueSelect;
                    case 0x18: return q < 0 ? (ushort)0 : _pci.QueueSizes[q];
                    case 0x1A: return q < 0 ? VirtioSpec.VIRTIO_MSI_NO_VECTOR : _pci.QueueVector[q];
                    case 0x1C: return q < 0 ? (ushort)0 : (ushort)(_pci.QueueEnabled[q] ? 1 : 0);
                    case 0x1E: return (ushort)(q < 0 ? 0 : q);
                }
                _pci.WidthErrors++;
                return 0;
            }

            public uint Read32(int offset)
            {
                if (offset == 0x04)
                {
                    ulong features = _device.ReadDeviceFeatures();
                    return _pci.DeviceFeatureSelect == 0 ? (uint)features : _pci.DeviceFeatureSelect == 1 ? (uint)(features >> 32) : 0;
                }
                if (offset >= 0x2000 && offset < 0x200C)
                {
                    return (uint)(Read16(offset) | (Read16(offset + 2) << 16));
                }
                _pci.WidthErrors++;
                return 0;
            }

            public void Write8(int offset, byte value)
            {
                if (offset == 0x14)
                {
                    _pci.WriteDeviceStatus(value);
                    return;
                }
                _pci.WidthErrors++;
            }

            public void Write16(int offset, ushort value)
            {
                if (offset >= 0x3000 && offset < 0x4000)
                {
                    int queue = (offset - 0x3000) / 4;
                    if (value != queue || (offset & 3) != 0)
                    {
                        _device.Memory.RecordViolation("notify write to the wrong address or with the wrong value");
                    }
                    _device.Notify(queue);
                    return;
                }
                int q = Q;
                switch (offset)
                {
                    case 0x10:
                        _pci.MsixConfigVector = _pci.AcceptVector(value);
                        return;
                    case 0x16:
                        _pci.QueueSelect = value;
                        return;
                    case 0x18:
                        if (q >= 0)
                        {
                            _pci.QueueSizes[q] = value;
                        }
                        return;
                    case 0x1A:
                        if (q >= 0)
                        {
                            _pci.QueueVector[q] = _pci.AcceptVector(value);
                        }
                        return;
                    case 0x1C:
                        if (q >= 0 && value == 1)
                        {
                            if ((_device.ReadStatus() & VirtioSpec.FEATURES_OK) == 0)
                            {
                                _device.Memory.RecordViolation("queue enabled before FEATURES_OK");
                            }
                            _pci.QueueEnabled[q] = _device.SetQueue(q, _pci.QueueSizes[q], _pci.QueueDesc[q], _pci.QueueDriver[q], _pci.QueueDevice[q]);
                        }
                        return;
                }
                _pci.WidthErrors++;
            }

            public void Write32(int offset, uint value)
            {
                int q = Q;
                switch (offset)
                {
                    case 0x00:
                        _pci.DeviceFeatureSelect = value;
                        return;
                    case 0x08:
                        _pci.DriverFeatureSelect = value;
                        return;
                    case 0x0C:
                        if (_pci.DriverFeatureSelect == 0)
                        {
                            _pci.DriverFeaturesStaged = (_pci.DriverFeaturesStaged & 0xFFFFFFFF00000000UL) | value;
                        }
                        else if (_pci.DriverFeatureSelect == 1)
                        {
                            _pci.DriverFeaturesStaged = (_pci.DriverFeaturesStaged & 0xFFFFFFFFUL) | ((ulong)value << 32);
                        }
                        _device.WriteDriverFeatures(_pci.DriverFeaturesStaged);
                        return;
                    case 0x20: SetLow(_pci.QueueDesc, q, value); return;
                    case 0x24: SetHigh(_pci.QueueDesc, q, value); return;
                    case 0x28: SetLow(_pci.QueueDriver, q, value); return;
                    case 0x2C: SetHigh(_pci.QueueDriver, q, value); return;
                    case 0x30: SetLow(_pci.QueueDevice, q, value); return;
                    case 0x34: SetHigh(_pci.QueueDevice, q, value); return;
                }
                _pci.WidthErrors++;
            }

            private static void SetLow(ulong[] array, int q, uint value)
            {
                if (q >= 0)
                {
                    array[q] = (array[q] & 0xFFFFFFFF00000000UL) | value;
                }
            }

            private static void SetHigh(ulong[] array, int q, uint value)
            {
                if (q >= 0)
                {
                    array[q] = (array[q] & 0xFFFFFFFFUL) | ((ulong)value << 32);
                }
            }
        }

        /// <summary>BAR 0 (I/O): the legacy virtio-pci register block.</summary>
    }
}
