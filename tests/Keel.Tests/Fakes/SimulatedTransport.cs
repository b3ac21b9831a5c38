using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// Fake <see cref="IVirtioTransport"/> wired straight to a <see cref="SimulatedVirtioNetDevice"/> (no PCI
    /// registers). Emulates either the modern or the legacy interface semantics, and either MSI-X (a handler
    /// per queue) or INTx (one line, the ISR register tells queue from configuration interrupts).
    /// Interrupts are delivered synchronously, from inside whatever device operation raised them, the way a
    /// real interrupt can arrive in the middle of driver code.
    /// </summary>
    public sealed class SimulatedTransport : IVirtioTransport, ISimInterruptSink
    {
        private readonly SimulatedVirtioNetDevice _device;
        private readonly bool _wantMsix;
        private IInterruptHandler _config;
        private IInterruptHandler[] _queues;

        public SimulatedTransport(SimulatedVirtioNetDevice device, bool legacy = false, bool msix = true)
        {
            _device = device;
            IsLegacy = legacy;
            _wantMsix = msix;
            device.LegacyInterface = legacy;
            device.Interrupts = this;
        }

        public bool IsLegacy { get; }

        public bool UsesMsix { get; private set; }

        /// <summary>INTx handler invocations that found ISR = 0 (not ours).</summary>
        public long SpuriousLineInterrupts { get; private set; }

        /// <summary>When true, interrupts are recorded but not delivered (interrupts masked).</summary>
        public bool Masked;

        public long MaskedInterrupts { get; private set; }

        public bool Reset()
        {
            _device.Reset();
            return _device.ReadStatus() == 0;
        }

        public byte ReadStatus() => _device.ReadStatus();

        public void WriteStatus(byte status) => _device.WriteStatus(status);

        public ulong ReadDeviceFeatures() => _device.ReadDeviceFeatures();

        public void WriteDriverFeatures(ulong features) => _device.WriteDriverFeatures(IsLegacy ? features & 0xFFFFFFFFUL : features);

        public uint ConfigGeneration => IsLegacy ? 0 : _device.ConfigGeneration;

        public byte ReadConfig8(int offset) => _device.ReadConfig8(offset);

        public ushort ReadConfig16(int offset) => (ushort)(_device.ReadConfig8(offset) | (_device.ReadConfig8(offset + 1) << 8));

        public uint ReadConfig32(int offset) => (uint)(ReadConfig16(offset) | (ReadConfig16(offset + 2) << 16));

        public int QueueMaxSize(int queue) => _device.QueueMaxSize(queue);

        public bool SetupQueue(int queue, int size, ulong descriptors, ulong driverArea, ulong deviceArea)
        {
            if (IsLegacy)
            {
                ulong avail = descriptors + (ulong)(16 * size);
                ulong used = (avail + (ulong)(6 + 2 * size) + 4095) & ~4095UL;
                if ((descriptors & 4095) != 0 || driverArea != avail || deviceArea != used)
                {
                    return false;
                }
            }
            return _device.SetQueue(queue, size, descriptors, driverArea, deviceArea);
        }

        public void NotifyQueue(int queue) => _device.Notify(queue);

        public bool AttachInterrupts(IInterruptHandler configChanged, IInterruptHandler[] queues, bool allowMsix)
        {
            _config = configChanged;
            _queues = queues;
            UsesMsix = _wantMsix && allowMsix;
            return true;
        }

        public void DetachInterrupts()
        {
            _config = null;
            _queues = null;
        }

        public byte ReadIsr() => _device.ReadIsr();

        public void RaiseQueueInterrupt(int queue)
        {
            if (_queues == null)
            {
                return;
            }
            if (Masked)
            {
                MaskedInterrupts++;
                return;
            }
            if (UsesMsix)
            {
                _queues[queue].HandleInterrupt();
            }
            else
            {
                LineInterrupt();
            }
        }

        public void RaiseConfigInterrupt()
        {
            if (_config == null || Masked)
            {
                return;
            }
            if (UsesMsix)
            {
                _config.HandleInterrupt();
            }
            else
            {
                LineInterrupt();
            }
        }

        private void LineInterrupt()
        {
            byte isr = ReadIsr();
            if (isr == 0)
            {
                SpuriousLineInterrupts++;
                return;
            }
            if ((isr & 1) != 0)
            {
                for (int q = 0; q < _queues.Length; q++)
                {
                    _queues[q].HandleInterrupt();
                }
            }
            if ((isr & 2) != 0)
            {
                _config.HandleInterrupt();
            }
        }
    }
}
