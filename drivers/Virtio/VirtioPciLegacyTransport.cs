using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// virtio-pci legacy interface ("Legacy Interfaces: A Note on PCI Device Layout"): all registers in I/O BAR 0.
    /// Used for QEMU disable-modern=on and for transitional devices whose modern capabilities are unusable.
    /// 32 feature bits, no FEATURES_OK, queue size fixed by the device, ring addressed by page frame number.
    /// </summary>
    public sealed class VirtioPciLegacyTransport : IVirtioTransport
    {
        private const int DeviceFeatures = 0;
        private const int DriverFeatures = 4;
        private const int QueuePfn = 8;
        private const int QueueSizeOffset = 12;
        private const int QueueSelect = 14;
        private const int QueueNotify = 16;
        private const int DeviceStatus = 18;
        private const int IsrStatus = 19;
        private const int ConfigVector = 20;
        private const int QueueVector = 22;
        private const int ConfigWithoutMsix = 20;
        private const int ConfigWithMsix = 24;

        private readonly IRegisterRegion _io;
        private readonly VirtioPciInterrupts _interrupts;

        private VirtioPciLegacyTransport(IPciFunction pci, IInterruptController controller, IRegisterRegion io)
        {
            Pci = pci;
            _io = io;
            _interrupts = new VirtioPciInterrupts(pci, controller, this);
        }

        public IPciFunction Pci { get; }

        public bool IsLegacy => true;

        /// <summary>Maps BAR 0 (I/O). Null when it is missing, not I/O, or too small.</summary>
        public static VirtioPciLegacyTransport TryCreate(IPciFunction pci, IInterruptController controller)
        {
            PciBar bar;
            if (!pci.TryGetBar(0, out bar) || !bar.IsPortIo)
            {
                return null;
            }
            IRegisterRegion io = pci.MapBar(0);
            if (io == null || io.Length < ConfigWithMsix)
            {
                return null;
            }
            pci.EnableBusMastering();
            return new VirtioPciLegacyTransport(pci, controller, io);
        }

        private int ConfigBase => _interrupts.UsesMsix ? ConfigWithMsix : ConfigWithoutMsix;

        public bool Reset()
        {
            _io.Write8(DeviceStatus, 0);
            // Legacy reset is synchronous; the read flushes the write (Linux vp_legacy_reset).
            bool done = _io.Read8(DeviceStatus) == 0;
            if (done && _interrupts.UsesMsix)
            {
                // A reset clears the configuration vector: route configuration interrupts again.
                _io.Write16(ConfigVector, _interrupts.ConfigVector);
            }
            return done;
        }

        public byte ReadStatus() => _io.Read8(DeviceStatus);

        public void WriteStatus(byte status) => _io.Write8(DeviceStatus, status);

        public ulong ReadDeviceFeatures() => _io.Read32(DeviceFeatures);

        public void WriteDriverFeatures(ulong features) => _io.Write32(DriverFeatures, (uint)features);

        public uint ConfigGeneration => 0;

        public byte ReadConfig8(int offset) => InConfig(offset, 1) ? _io.Read8(ConfigBase + offset) : (byte)0;

        public ushort ReadConfig16(int offset) => InConfig(offset, 2) ? _io.Read16(ConfigBase + offset) : (ushort)0;

        public uint ReadConfig32(int offset) => InConfig(offset, 4) ? _io.Read32(ConfigBase + offset) : 0u;

        private bool InConfig(int offset, int width) => offset >= 0 && ConfigBase + offset + width <= _io.Length;

        public int QueueMaxSize(int queue)
        {
            _io.Write16(QueueSelect, (ushort)queue);
            return _io.Read16(QueueSizeOffset);
        }

        public bool SetupQueue(int queue, int size, ulong descriptors, ulong driverArea, ulong deviceArea)
        {
            int max = QueueMaxSize(queue);
            if (max == 0 || size != max)
            {
                return false;
            }
            if (!SplitVirtqueue.IsLegacyLayout(size, descriptors, driverArea, deviceArea))
            {
                return false;
            }
            _io.Write32(QueuePfn, (uint)(descriptors >> 12));
            ushort vector = _interrupts.QueueVector(queue);
            if (_interrupts.UsesMsix)
            {
                _io.Write16(QueueVector, vector);
                if (_io.Read16(QueueVector) != vector)
                {
                    _io.Write32(QueuePfn, 0);
                    return false;
                }
            }
            return true;
        }

        public void NotifyQueue(int queue)
        {
            _io.Write16(QueueNotify, (ushort)queue);
        }

        public bool AttachInterrupts(IInterruptHandler configChanged, IInterruptHandler[] queues, bool allowMsix)
        {
            if (allowMsix && _interrupts.TryMsix(configChanged, queues))
            {
                _io.Write16(ConfigVector, _interrupts.ConfigVector);
                if (_io.Read16(ConfigVector) == _interrupts.ConfigVector)
                {
                    return true;
                }
                _interrupts.AbandonMsix();
            }
            return _interrupts.TryLegacy(configChanged, queues);
        }

        public bool UsesMsix => _interrupts.UsesMsix;

        public void DetachInterrupts()
        {
            _interrupts.Detach();
        }

        public byte ReadIsr() => _io.Read8(IsrStatus);
    }
}
