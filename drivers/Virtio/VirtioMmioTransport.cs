using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// virtio over MMIO (virtio 1.2 §4.2, "Virtio Over MMIO"): one register window per device, found by the
    /// platform (kernel command line or ACPI DSDT), not by a bus scan; one wired interrupt line, demultiplexed
    /// through InterruptStatus and acknowledged through InterruptACK. Version 2 is the modern interface
    /// (64-bit queue addresses, QueueReady, FEATURES_OK, config generation); version 1 the legacy one
    /// (§4.2.4: GuestPageSize, QueueAlign and a queue page frame number, no FEATURES_OK). The drivers above see
    /// only <see cref="IVirtioTransport"/>.
    /// </summary>
    public sealed class VirtioMmioTransport : IVirtioTransport, IInterruptHandler
    {
        /// <summary>"virt" in little-endian: the value of MagicValue.</summary>
        public const uint Magic = 0x74726976;

        /// <summary>Registers before the device configuration space; a window must be at least this long.</summary>
        public const int ConfigOffset = 0x100;

        // Register offsets shared by both versions.
        private const int MagicValue = 0x000;
        private const int VersionOffset = 0x004;
        private const int DeviceIdOffset = 0x008;
        private const int VendorIdOffset = 0x00C;
        private const int DeviceFeatures = 0x010;
        private const int DeviceFeaturesSel = 0x014;
        private const int DriverFeatures = 0x020;
        private const int DriverFeaturesSel = 0x024;
        private const int QueueSel = 0x030;
        private const int QueueNumMax = 0x034;
        private const int QueueNum = 0x038;
        private const int QueueNotify = 0x050;
        private const int InterruptStatus = 0x060;
        private const int InterruptAck = 0x064;
        private const int Status = 0x070;

        // Version 2 only.
        private const int QueueReady = 0x044;
        private const int QueueDescLow = 0x080;
        private const int QueueDriverLow = 0x090;
        private const int QueueDeviceLow = 0x0A0;
        private const int ConfigGenerationOffset = 0x0FC;

        // Version 1 (legacy) only.
        private const int GuestPageSize = 0x028;
        private const int QueueAlign = 0x03C;
        private const int QueuePfn = 0x040;

        /// <summary>Page size and used-ring alignment told to a legacy device (the page frame number's unit).</summary>
        private const int LegacyPageSize = 4096;

        /// <summary>Highest queue index asked about: QueueSel is 32 bits, real devices have a handful.</summary>
        public const int MaxQueues = 1024;

        /// <summary>Bounded wait for reset: status reads before giving up.</summary>
        private const int ResetPolls = 1000000;

        private readonly IRegisterRegion _registers;
        private readonly InterruptLine _line;
        private readonly IInterruptController _controller;
        private IInterruptHandler _config;
        private IInterruptHandler[] _queues;
        private bool _attached;

        private VirtioMmioTransport(IRegisterRegion registers, InterruptLine line, IInterruptController controller, int version)
        {
            _registers = registers;
            _line = line;
            _controller = controller;
            Version = version;
            DeviceType = (int)registers.Read32(DeviceIdOffset);
            VendorId = registers.Read32(VendorIdOffset);
        }

        /// <summary>1 (legacy) or 2 (modern).</summary>
        public int Version { get; }

        /// <summary>The virtio device id (1 = network, 4 = entropy, …); 0 for an empty slot.</summary>
        public int DeviceType { get; }

        /// <summary>The VendorID register (QEMU: 0x554D4551, "QEMU").</summary>
        public uint VendorId { get; }

        /// <summary>The wired line this device interrupts on.</summary>
        public InterruptLine Line => _line;

        public bool IsLegacy => Version == 1;

        /// <summary>
        /// The virtio device id behind the register window: −1 when it is not a virtio-mmio device (wrong magic,
        /// unknown version, window too small), 0 for a transport with no device behind it (a VMM's spare slot).
        /// </summary>
        public static int ProbeDeviceType(IRegisterRegion registers)
        {
            if (registers == null || registers.Length < ConfigOffset || registers.Read32(MagicValue) != Magic)
            {
                return -1;
            }
            uint version = registers.Read32(VersionOffset);
            if (version != 1 && version != 2)
            {
                return -1;
            }
            return (int)registers.Read32(DeviceIdOffset);
        }

        /// <summary>
        /// A transport over <paramref name="registers"/> interrupting on <paramref name="line"/>. Null when the
        /// window holds no virtio device (see <see cref="ProbeDeviceType"/>: wrong magic, unknown version, too
        /// small, or an empty slot).
        /// </summary>
        public static VirtioMmioTransport TryCreate(IRegisterRegion registers, InterruptLine line, IInterruptController controller)
        {
            if (ProbeDeviceType(registers) <= 0)
            {
                return null;
            }
            return new VirtioMmioTransport(registers, line, controller, (int)registers.Read32(VersionOffset));
        }

        public bool Reset()
        {
            _registers.Write32(Status, 0);
            for (int i = 0; i < ResetPolls; i++)
            {
                if (_registers.Read32(Status) == 0)
                {
                    if (IsLegacy)
                    {
                        // The page frame numbers count in this unit (§4.2.4); tell the device before any queue.
                        _registers.Write32(GuestPageSize, LegacyPageSize);
                    }
                    return true;
                }
            }
            return false;
        }

        public byte ReadStatus() => (byte)_registers.Read32(Status);

        public void WriteStatus(byte status) => _registers.Write32(Status, status);

        public ulong ReadDeviceFeatures()
        {
            _registers.Write32(DeviceFeaturesSel, 0);
            ulong low = _registers.Read32(DeviceFeatures);
            _registers.Write32(DeviceFeaturesSel, 1);
            ulong high = _registers.Read32(DeviceFeatures);
            return low | (high << 32);
        }

        public void WriteDriverFeatures(ulong features)
        {
            _registers.Write32(DriverFeaturesSel, 0);
            _registers.Write32(DriverFeatures, (uint)features);
            _registers.Write32(DriverFeaturesSel, 1);
            _registers.Write32(DriverFeatures, (uint)(features >> 32));
        }

        public uint ConfigGeneration => IsLegacy ? 0u : _registers.Read32(ConfigGenerationOffset);

        public byte ReadConfig8(int offset) => InConfig(offset, 1) ? _registers.Read8(ConfigOffset + offset) : (byte)0;

        public ushort ReadConfig16(int offset) => InConfig(offset, 2) ? _registers.Read16(ConfigOffset + offset) : (ushort)0;

        public uint ReadConfig32(int offset) => InConfig(offset, 4) ? _registers.Read32(ConfigOffset + offset) : 0u;

        private bool InConfig(int offset, int width)
        {
            return offset >= 0 && (offset & (width - 1)) == 0 && ConfigOffset + offset + width <= _registers.Length;
        }

        public int QueueMaxSize(int queue)
        {
            if (queue < 0 || queue >= MaxQueues)
            {
                return 0;
            }
            _registers.Write32(QueueSel, (uint)queue);
            uint max = _registers.Read32(QueueNumMax);
            return max > SplitVirtqueue.MaxSize ? SplitVirtqueue.MaxSize : (int)max;
        }

        public bool SetupQueue(int queue, int size, ulong descriptors, ulong driverArea, ulong deviceArea)
        {
            int max = QueueMaxSize(queue);
            if (max == 0 || size > max || size <= 0)
            {
                return false;
            }
            if (IsLegacy)
            {
                return SetupLegacyQueue(size, descriptors, driverArea, deviceArea);
            }
            // The queue must not be live (§4.2.3.2 step 2): a reset clears QueueReady.
            if (_registers.Read32(QueueReady) != 0)
            {
                return false;
            }
            _registers.Write32(QueueNum, (uint)size);
            Write64(QueueDescLow, descriptors);
            Write64(QueueDriverLow, driverArea);
            Write64(QueueDeviceLow, deviceArea);
            _registers.Write32(QueueReady, 1);
            return _registers.Read32(QueueReady) == 1;
        }

        /// <summary>§4.2.4: queue size, used-ring alignment and the first page's frame number.</summary>
        private bool SetupLegacyQueue(int size, ulong descriptors, ulong driverArea, ulong deviceArea)
        {
            if (!SplitVirtqueue.IsValidSize(size) || !SplitVirtqueue.IsLegacyLayout(size, descriptors, driverArea, deviceArea)
                || _registers.Read32(QueuePfn) != 0)
            {
                return false;
            }
            _registers.Write32(QueueNum, (uint)size);
            _registers.Write32(QueueAlign, LegacyPageSize);
            _registers.Write32(QueuePfn, (uint)(descriptors / LegacyPageSize));
            return true;
        }

        private void Write64(int low, ulong value)
        {
            _registers.Write32(low, (uint)value);
            _registers.Write32(low + 4, (uint)(value >> 32));
        }

        public void NotifyQueue(int queue)
        {
            _registers.Write32(QueueNotify, (uint)queue);
        }

        /// <summary>No MSI-X on MMIO: always the wired line (<paramref name="allowMsix"/> is ignored).</summary>
        public bool AttachInterrupts(IInterruptHandler configChanged, IInterruptHandler[] queues, bool allowMsix)
        {
            _config = configChanged;
            _queues = queues;
            if (_attached)
            {
                return true;
            }
            if (_controller == null || !_controller.TryAttachLine(_line, this))
            {
                return false;
            }
            _attached = true;
            return true;
        }

        public bool UsesMsix => false;

        public void DetachInterrupts()
        {
            if (_attached)
            {
                _controller.DetachLine(_line, this);
                _attached = false;
            }
        }

        /// <summary>
        /// Reads InterruptStatus and acknowledges exactly the bits read, so a level-triggered line drops and an
        /// event after the read raises it again. Returns the two defined bits.
        /// </summary>
        public byte ReadIsr()
        {
            uint status = _registers.Read32(InterruptStatus);
            if (status != 0)
            {
                _registers.Write32(InterruptAck, status);
            }
            return (byte)(status & (VirtioIsr.Queue | VirtioIsr.ConfigurationChange));
        }

        /// <summary>The wired line: acknowledge, then run the queue and configuration handlers the bits name.</summary>
        public bool HandleInterrupt() => VirtioIsr.Dispatch(ReadIsr(), _config, _queues);
    }
}
