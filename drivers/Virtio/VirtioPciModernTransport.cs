using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// virtio-pci modern interface (virtio 1.x "Virtio Structure PCI Capabilities"): vendor capabilities name
    /// the BAR windows of the common configuration, notification, ISR and device configuration structures.
    /// Works with QEMU disable-legacy=on (device 0x1041) and with transitional devices (0x1000).
    /// </summary>
    public sealed class VirtioPciModernTransport : IVirtioTransport
    {
        // Common configuration structure offsets.
        private const int DeviceFeatureSelect = 0x00;
        private const int DeviceFeature = 0x04;
        private const int DriverFeatureSelect = 0x08;
        private const int DriverFeature = 0x0C;
        private const int MsixConfig = 0x10;
        private const int NumQueues = 0x12;
        private const int DeviceStatus = 0x14;
        private const int ConfigGenerationOffset = 0x15;
        private const int QueueSelect = 0x16;
        private const int QueueSizeOffset = 0x18;
        private const int QueueMsixVector = 0x1A;
        private const int QueueEnable = 0x1C;
        private const int QueueNotifyOff = 0x1E;
        private const int QueueDesc = 0x20;
        private const int QueueDriver = 0x28;
        private const int QueueDevice = 0x30;
        private const int CommonLength = 0x38;

        /// <summary>Bounded wait for reset: status reads before giving up.</summary>
        private const int ResetPolls = 1000000;

        private readonly IRegisterRegion _common;
        private readonly int _commonBase;
        private readonly IRegisterRegion _notify;
        private readonly int _notifyBase;
        private readonly int _notifyLength;
        private readonly uint _notifyMultiplier;
        private readonly IRegisterRegion _isr;
        private readonly int _isrBase;
        private readonly IRegisterRegion _device;
        private readonly int _deviceBase;
        private readonly int _deviceLength;

        /// <summary>Byte offset inside the notify window for each queue, set by <see cref="SetupQueue"/>.</summary>
        private readonly int[] _queueNotify;

        private readonly VirtioPciInterrupts _interrupts;

        private VirtioPciModernTransport(IPciFunction pci, IInterruptController controller,
            IRegisterRegion common, int commonBase, IRegisterRegion notify, int notifyBase, int notifyLength,
            uint notifyMultiplier, IRegisterRegion isr, int isrBase, IRegisterRegion device, int deviceBase, int deviceLength)
        {
            Pci = pci;
            _common = common;
            _commonBase = commonBase;
            _notify = notify;
            _notifyBase = notifyBase;
            _notifyLength = notifyLength;
            _notifyMultiplier = notifyMultiplier;
            _isr = isr;
            _isrBase = isrBase;
            _device = device;
            _deviceBase = deviceBase;
            _deviceLength = deviceLength;
            int queues = common.Read16(commonBase + NumQueues);
            _queueNotify = new int[queues];
            for (int q = 0; q < queues; q++)
            {
                _queueNotify[q] = -1;
            }
            _interrupts = new VirtioPciInterrupts(pci, controller, this);
        }

        public IPciFunction Pci { get; }

        public bool IsLegacy => false;

        /// <summary>Queues the device has (num_queues).</summary>
        public int QueueCount => _queueNotify.Length;

        /// <summary>
        /// Finds the modern capabilities and maps their BARs. Returns null when the function has no complete set
        /// (common, notify, ISR; device configuration is optional) or a window lies outside its BAR.
        /// </summary>
        public static VirtioPciModernTransport TryCreate(IPciFunction pci, IInterruptController controller)
        {
            IRegisterRegion[] bars = new IRegisterRegion[6];
            IRegisterRegion common = null, notify = null, isr = null, device = null;
            int commonBase = 0, notifyBase = 0, notifyLength = 0, isrBase = 0, deviceBase = 0, deviceLength = 0;
            uint multiplier = 0;
            int capability = pci.FindCapability(VirtioPciIds.CapabilityVendor, 0);
            while (capability != 0)
            {
                byte type = pci.ConfigRead8(capability + 3);
                int bar = pci.ConfigRead8(capability + 4);
                uint offset = pci.ConfigRead32(capability + 8);
                uint length = pci.ConfigRead32(capability + 12);
                IRegisterRegion region = null;
                bool wanted = (type == VirtioPciIds.CfgCommon && common == null)
                    || (type == VirtioPciIds.CfgNotify && notify == null)
                    || (type == VirtioPciIds.CfgIsr && isr == null)
                    || (type == VirtioPciIds.CfgDevice && device == null);
                if (wanted && bar <= 5)
                {
                    if (bars[bar] == null)
                    {
                        bars[bar] = pci.MapBar(bar);
                    }
                    region = bars[bar];
                }
                if (region != null && offset <= int.MaxValue && length <= int.MaxValue
                    && (long)offset + length <= region.Length)
                {
                    if (type == VirtioPciIds.CfgCommon && length >= CommonLength)
                    {
                        common = region;
                        commonBase = (int)offset;
                    }
                    else if (type == VirtioPciIds.CfgNotify && length >= 2)
                    {
                        notify = region;
                        notifyBase = (int)offset;
                        notifyLength = (int)length;
                        multiplier = pci.ConfigRead32(capability + 16);
                    }
                    else if (type == VirtioPciIds.CfgIsr && length >= 1)
                    {
                        isr = region;
                        isrBase = (int)offset;
                    }
                    else if (type == VirtioPciIds.CfgDevice)
                    {
                        device = region;
                        deviceBase = (int)offset;
                        deviceLength = (int)length;
                    }
                }
                capability = pci.FindCapability(VirtioPciIds.CapabilityVendor, capability);
            }
            if (common == null || notify == null || isr == null)
            {
                return null;
            }
            pci.EnableBusMastering();
            return new VirtioPciModernTransport(pci, controller, common, commonBase, notify, notifyBase, notifyLength,
                multiplier, isr, isrBase, device, deviceBase, deviceLength);
        }

        public bool Reset()
        {
            WriteStatus(0);
            for (int i = 0; i < ResetPolls; i++)
            {
                if (ReadStatus() == 0)
                {
                    // A reset clears msix_config: route configuration interrupts again.
                    if (_interrupts.UsesMsix)
                    {
                        _common.Write16(_commonBase + MsixConfig, _interrupts.ConfigVector);
                    }
                    return true;
                }
            }
            return false;
        }

        public byte ReadStatus() => _common.Read8(_commonBase + DeviceStatus);

        public void WriteStatus(byte status) => _common.Write8(_commonBase + DeviceStatus, status);

        public ulong ReadDeviceFeatures()
        {
            _common.Write32(_commonBase + DeviceFeatureSelect, 0);
            ulong low = _common.Read32(_commonBase + DeviceFeature);
            _common.Write32(_commonBase + DeviceFeatureSelect, 1);
            ulong high = _common.Read32(_commonBase + DeviceFeature);
            return low | (high << 32);
        }

        public void WriteDriverFeatures(ulong features)
        {
            _common.Write32(_commonBase + DriverFeatureSelect, 0);
            _common.Write32(_commonBase + DriverFeature, (uint)features);
            _common.Write32(_commonBase + DriverFeatureSelect, 1);
            _common.Write32(_commonBase + DriverFeature, (uint)(features >> 32));
        }

        public uint ConfigGeneration => _common.Read8(_commonBase + ConfigGenerationOffset);

        public byte ReadConfig8(int offset) => InConfig(offset, 1) ? _device.Read8(_deviceBase + offset) : (byte)0;

        public ushort ReadConfig16(int offset) => InConfig(offset, 2) ? _device.Read16(_deviceBase + offset) : (ushort)0;

        public uint ReadConfig32(int offset) => InConfig(offset, 4) ? _device.Read32(_deviceBase + offset) : 0u;

        private bool InConfig(int offset, int width) => _device != null && offset >= 0 && offset + width <= _deviceLength;

        public int QueueMaxSize(int queue)
        {
            if (queue < 0 || queue >= _queueNotify.Length)
            {
                return 0;
            }
            _common.Write16(_commonBase + QueueSelect, (ushort)queue);
            return _common.Read16(_commonBase + QueueSizeOffset);
        }

        public bool SetupQueue(int queue, int size, ulong descriptors, ulong driverArea, ulong deviceArea)
        {
            int max = QueueMaxSize(queue);
            if (max == 0 || size > max || !SplitVirtqueue.IsValidSize(size))
            {
                return false;
            }
            int notifyOffset = (int)(_common.Read16(_commonBase + QueueNotifyOff) * _notifyMultiplier);
            if (notifyOffset < 0 || notifyOffset + 2 > _notifyLength)
            {
                return false;
            }
            _common.Write16(_commonBase + QueueSizeOffset, (ushort)size);
            Write64(QueueDesc, descriptors);
            Write64(QueueDriver, driverArea);
            Write64(QueueDevice, deviceArea);
            ushort vector = _interrupts.QueueVector(queue);
            _common.Write16(_commonBase + QueueMsixVector, vector);
            if (_common.Read16(_commonBase + QueueMsixVector) != vector)
            {
                return false;
            }
            _queueNotify[queue] = notifyOffset;
            _common.Write16(_commonBase + QueueEnable, 1);
            return true;
        }

        private void Write64(int offset, ulong value)
        {
            _common.Write32(_commonBase + offset, (uint)value);
            _common.Write32(_commonBase + offset + 4, (uint)(value >> 32));
        }

        public void NotifyQueue(int queue)
        {
            _notify.Write16(_notifyBase + _queueNotify[queue], (ushort)queue);
        }

        public bool AttachInterrupts(IInterruptHandler configChanged, IInterruptHandler[] queues, bool allowMsix)
        {
            if (allowMsix && _interrupts.TryMsix(configChanged, queues))
            {
                _common.Write16(_commonBase + MsixConfig, _interrupts.ConfigVector);
                if (_common.Read16(_commonBase + MsixConfig) == _interrupts.ConfigVector)
                {
                    return true;
                }
                _interrupts.AbandonMsix();
            }
            _common.Write16(_commonBase + MsixConfig, VirtioPciIds.NoVector);
            return _interrupts.TryLegacy(configChanged, queues);
        }

        public bool UsesMsix => _interrupts.UsesMsix;

        public void DetachInterrupts()
        {
            _interrupts.Detach();
        }

        public byte ReadIsr() => _isr.Read8(_isrBase);
    }
}
