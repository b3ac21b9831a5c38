using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// A virtio-mmio register window written from virtio 1.2 §4.2 ("Virtio Over MMIO"), register by register,
    /// in front of <see cref="SimulatedVirtioNetDevice"/>: the version 2 layout (§4.2.2, table "MMIO Device
    /// Register Layout") and the legacy version 1 layout (§4.2.4). It enforces what the spec asks of a driver:
    /// 32-bit aligned accesses to the control registers; no reads of write-only registers or writes of read-only
    /// ones; queue registers written only while the queue is not ready (version 2) or not in use (version 1);
    /// GuestPageSize before the first QueuePFN; no version-2 registers on a version-1 device (and back). Every
    /// breach is a violation in <see cref="SimulatedMemory"/>. Interrupts set InterruptStatus and assert the
    /// GSI on the <see cref="FakeInterruptController"/>; InterruptACK clears the bits written.
    /// </summary>
    public sealed class SimulatedVirtioMmio : IRegisterRegion, ISimInterruptSink
    {
        // §4.2.2 register offsets (version 2; the legacy ones in §4.2.4 share most of them).
        public const int MagicValue = 0x000;
        public const int Version = 0x004;
        public const int DeviceID = 0x008;
        public const int VendorID = 0x00C;
        public const int DeviceFeatures = 0x010;
        public const int DeviceFeaturesSel = 0x014;
        public const int DriverFeatures = 0x020;
        public const int DriverFeaturesSel = 0x024;
        public const int GuestPageSize = 0x028;      // version 1 only
        public const int QueueSel = 0x030;
        public const int QueueNumMax = 0x034;
        public const int QueueNum = 0x038;
        public const int QueueAlign = 0x03C;         // version 1 only
        public const int QueuePFN = 0x040;           // version 1 only
        public const int QueueReady = 0x044;         // version 2 only
        public const int QueueNotify = 0x050;
        public const int InterruptStatus = 0x060;
        public const int InterruptACK = 0x064;
        public const int Status = 0x070;
        public const int QueueDescLow = 0x080;       // version 2 only, as are the five after it
        public const int QueueDescHigh = 0x084;
        public const int QueueDriverLow = 0x090;
        public const int QueueDriverHigh = 0x094;
        public const int QueueDeviceLow = 0x0A0;
        public const int QueueDeviceHigh = 0x0A4;
        public const int ConfigGeneration = 0x0FC;   // version 2 only
        public const int Config = 0x100;

        /// <summary>"virt".</summary>
        public const uint Magic = 0x74726976;

        /// <summary>QEMU's VendorID ("QEMU").</summary>
        public const uint QemuVendor = 0x554D4551;

        private const int Queues = 3;

        private readonly SimulatedVirtioNetDevice _device;
        private readonly FakeInterruptController _controller;
        private readonly int _gsi;

        private uint _deviceFeaturesSel;
        private uint _driverFeaturesSel;
        private ulong _driverFeatures;
        private uint _queueSel;
        private readonly uint[] _queueNum = new uint[Queues];
        private readonly ulong[] _desc = new ulong[Queues];
        private readonly ulong[] _driver = new ulong[Queues];
        private readonly ulong[] _deviceArea = new ulong[Queues];
        private readonly bool[] _ready = new bool[Queues];
        private readonly uint[] _pfn = new uint[Queues];
        private readonly uint[] _align = new uint[Queues];

        public SimulatedVirtioMmio(SimulatedVirtioNetDevice device, FakeInterruptController controller, int version, int gsi, int length = 0x200)
        {
            _device = device;
            _controller = controller;
            _gsi = gsi;
            VersionValue = (uint)version;
            Length = length;
            device.Interrupts = this;
            device.LegacyInterface = version == 1;
            Reset();
        }

        /// <summary>What the Version register reads (1 legacy, 2 modern; anything else to test refusal).</summary>
        public uint VersionValue;

        /// <summary>What MagicValue reads.</summary>
        public uint MagicRead = Magic;

        /// <summary>What DeviceID reads (1 = network; 0 = an empty slot).</summary>
        public uint DeviceIdValue = 1;

        /// <summary>The InterruptStatus bits pending.</summary>
        public uint InterruptStatusBits { get; private set; }

        /// <summary>GuestPageSize as last written (version 1).</summary>
        public uint PageSize { get; private set; }

        public int Length { get; }
        public bool IsPortIo => false;

        public long Acks { get; private set; }
        public long Notifies { get; private set; }

        /// <summary>The queue's ring addresses as the device uses them.</summary>
        public (ulong Descriptors, ulong Driver, ulong Device) QueueAddresses(int queue) => (_desc[queue], _driver[queue], _deviceArea[queue]);

        /// <summary>QueueAlign as written for <paramref name="queue"/> (version 1).</summary>
        public uint Align(int queue) => _align[queue];

        public bool IsReady(int queue) => VersionValue == 1 ? _pfn[queue] != 0 : _ready[queue];

        private bool Legacy => VersionValue == 1;

        private int Q => _queueSel < Queues && _device.QueueMaxSize((int)_queueSel) > 0 ? (int)_queueSel : -1;

        private void Violation(string what) => _device.Memory.RecordViolation("virtio-mmio: " + what);

        private void Reset()
        {
            for (int q = 0; q < Queues; q++)
            {
                _queueNum[q] = 0;
                _desc[q] = _driver[q] = _deviceArea[q] = 0;
                _ready[q] = false;
                _pfn[q] = 0;
                _align[q] = 0;
            }
            InterruptStatusBits = 0;
        }

        // ---- the device raises interrupts ----

        public void RaiseQueueInterrupt(int queue)
        {
            InterruptStatusBits |= 1;
            _controller.AssertGsi(_gsi);
        }

        public void RaiseConfigInterrupt()
        {
            InterruptStatusBits |= 2;
            _controller.AssertGsi(_gsi);
        }

        // ---- device configuration space: any width, naturally aligned ----

        private bool InConfig(int offset, int width)
        {
            if (offset < Config)
            {
                return false;
            }
            if ((offset & (width - 1)) != 0 || offset + width > Length)
            {
                Violation("unaligned or out-of-window configuration access at " + offset);
            }
            return true;
        }

        private byte ConfigByte(int offset) => _device.ReadConfig8(offset - Config);

        public byte Read8(int offset)
        {
            if (InConfig(offset, 1))
            {
                return ConfigByte(offset);
            }
            Violation("8-bit read of control register " + offset);
            return 0;
        }

        public ushort Read16(int offset)
        {
            if (InConfig(offset, 2))
            {
                return (ushort)(ConfigByte(offset) | (ConfigByte(offset + 1) << 8));
            }
            Violation("16-bit read of control register " + offset);
            return 0;
        }

        public void Write8(int offset, byte value) => Violation("8-bit write at " + offset);

        public void Write16(int offset, ushort value) => Violation("16-bit write at " + offset);

        // ---- control registers: 32 bits only ----

        public uint Read32(int offset)
        {
            if (InConfig(offset, 4))
            {
                return (uint)(ConfigByte(offset) | (ConfigByte(offset + 1) << 8) | (ConfigByte(offset + 2) << 16) | (ConfigByte(offset + 3) << 24));
            }
            int q = Q;
            switch (offset)
            {
                case MagicValue:
                    return MagicRead;
                case Version:
                    return VersionValue;
                case DeviceID:
                    return DeviceIdValue;
                case VendorID:
                    return QemuVendor;
                case DeviceFeatures:
                    ulong features = _device.ReadDeviceFeatures();
                    return _deviceFeaturesSel == 0 ? (uint)features : _deviceFeaturesSel == 1 ? (uint)(features >> 32) : 0u;
                case QueueNumMax:
                    return q < 0 ? 0u : (uint)_device.QueueMaxSize(q);
                case QueuePFN:
                    if (!Legacy)
                    {
                        break;
                    }
                    return q < 0 ? 0u : _pfn[q];
                case QueueReady:
                    if (Legacy)
                    {
                        break;
                    }
                    return q >= 0 && _ready[q] ? 1u : 0u;
                case InterruptStatus:
                    return InterruptStatusBits;
                case Status:
                    return _device.ReadStatus();
                case ConfigGeneration:
                    if (Legacy)
                    {
                        break;
                    }
                    return _device.ConfigGeneration;
                default:
                    break;
            }
            Violation("read of a register that is not readable on version " + VersionValue + ": " + offset);
            return 0;
        }

        public void Write32(int offset, uint value)
        {
            if (offset >= Config)
            {
                Violation("write to the configuration space");
                return;
            }
            int q = Q;
            switch (offset)
            {
                case DeviceFeaturesSel:
                    _deviceFeaturesSel = value;
                    return;
                case DriverFeatures:
                    if (_driverFeaturesSel == 0)
                    {
                        _driverFeatures = (_driverFeatures & 0xFFFFFFFF00000000UL) | value;
                    }
                    else if (_driverFeaturesSel == 1)
                    {
                        _driverFeatures = (_driverFeatures & 0xFFFFFFFFUL) | ((ulong)value << 32);
                    }
                    // The device takes the features as they stand after each half (legacy: never FEATURES_OK).
                    _device.WriteDriverFeatures(Legacy ? _driverFeatures & 0xFFFFFFFFUL : _driverFeatures);
                    return;
                case DriverFeaturesSel:
                    _driverFeaturesSel = value;
                    return;
                case GuestPageSize:
                    if (!Legacy)
                    {
                        break;
                    }
                    if (value == 0 || (value & (value - 1)) != 0)
                    {
                        Violation("GuestPageSize not a power of 2");
                    }
                    PageSize = value;
                    return;
                case QueueSel:
                    _queueSel = value;
                    return;
                case QueueNum:
                    if (q < 0 || QueueLive(q, "QueueNum"))
                    {
                        return;
                    }
                    if (value == 0 || value > _device.QueueMaxSize(q))
                    {
                        Violation("QueueNum beyond QueueNumMax");
                    }
                    _queueNum[q] = value;
                    return;
                case QueueAlign:
                    if (!Legacy)
                    {
                        break;
                    }
                    if (q >= 0 && !QueueLive(q, "QueueAlign"))
                    {
                        _align[q] = value;
                    }
                    return;
                case QueuePFN:
                    if (!Legacy)
                    {
                        break;
                    }
                    WritePfn(q, value);
                    return;
                case QueueReady:
                    if (Legacy)
                    {
                        break;
                    }
                    WriteReady(q, value);
                    return;
                case QueueNotify:
                    Notifies++;
                    if (value >= Queues || !IsReady((int)value))
                    {
                        Violation("notify of a queue that is not live: " + value);
                        return;
                    }
                    _device.Notify((int)value);
                    return;
                case InterruptACK:
                    Acks++;
                    InterruptStatusBits &= ~value;
                    return;
                case Status:
                    _device.WriteStatus((byte)value);
                    if (value == 0)
                    {
                        Reset();
                    }
                    return;
                case QueueDescLow:
                case QueueDescHigh:
                case QueueDriverLow:
                case QueueDriverHigh:
                case QueueDeviceLow:
                case QueueDeviceHigh:
                    if (Legacy)
                    {
                        break;
                    }
                    if (q >= 0 && !QueueLive(q, "a queue address"))
                    {
                        WriteAddress(q, offset, value);
                    }
                    return;
                default:
                    break;
            }
            Violation("write of a register that is not writable on version " + VersionValue + ": " + offset);
        }

        private bool QueueLive(int q, string register)
        {
            if (IsReady(q))
            {
                Violation(register + " written while queue " + q + " is live");
                return true;
            }
            return false;
        }

        private void WriteAddress(int q, int offset, uint value)
        {
            ulong[] target = offset < QueueDriverLow ? _desc : offset < QueueDeviceLow ? _driver : _deviceArea;
            bool high = (offset & 4) != 0;
            target[q] = high ? (target[q] & 0xFFFFFFFFUL) | ((ulong)value << 32) : (target[q] & 0xFFFFFFFF00000000UL) | value;
        }

        private void WriteReady(int q, uint value)
        {
            if (q < 0)
            {
                Violation("QueueReady for a queue that does not exist");
                return;
            }
            if (value == 0)
            {
                _ready[q] = false;
                return;
            }
            if (_queueNum[q] == 0)
            {
                Violation("QueueReady before QueueNum");
                return;
            }
            _ready[q] = _device.SetQueue(q, (int)_queueNum[q], _desc[q], _driver[q], _deviceArea[q]);
        }

        /// <summary>§4.2.4: the rings sit at PFN × GuestPageSize, used ring at the next QueueAlign boundary.</summary>
        private void WritePfn(int q, uint value)
        {
            if (q < 0)
            {
                Violation("QueuePFN for a queue that does not exist");
                return;
            }
            if (value == 0)
            {
                _pfn[q] = 0;
                return;
            }
            if (PageSize == 0)
            {
                Violation("QueuePFN before GuestPageSize");
                return;
            }
            if (_queueNum[q] == 0 || _align[q] == 0 || (_align[q] & (_align[q] - 1)) != 0)
            {
                Violation("QueuePFN before QueueNum and a power-of-2 QueueAlign");
                return;
            }
            ulong size = _queueNum[q];
            ulong desc = (ulong)value * PageSize;
            ulong avail = desc + 16 * size;
            ulong align = _align[q];
            ulong used = (avail + 6 + 2 * size + align - 1) & ~(align - 1);
            _desc[q] = desc;
            _driver[q] = avail;
            _deviceArea[q] = used;
            _pfn[q] = _device.SetQueue(q, (int)size, desc, avail, used) ? value : 0;
        }
    }
}
