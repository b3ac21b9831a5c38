using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>Entropy device misbehaviours, applied to the next buffer it returns.</summary>
    public enum RngFault
    {
        None,
        /// <summary>Used id the driver never made available.</summary>
        BadId,
        /// <summary>Used length larger than the buffer.</summary>
        LengthTooLong,
        /// <summary>Used length 0.</summary>
        ZeroLength,
    }

    /// <summary>
    /// A virtio entropy device (virtio §5.4: device id 4, one request queue, no device features, no
    /// configuration) with its transport, at the level of the specification: status handshake, features
    /// (VERSION_1, EVENT_IDX, RING_PACKED as offered), one queue read through the spec-written
    /// <see cref="DeviceRing"/>, buffers filled with a known byte pattern, interrupts as the driver asks.
    /// Misbehaves on command (<see cref="NextFault"/>).
    /// </summary>
    public sealed unsafe class SimulatedEntropyDevice : IVirtioTransport
    {
        private readonly SimulatedMemory _memory;
        private readonly DeviceBuffer[] _chain = new DeviceBuffer[DeviceRing.MaxChain];
        private DeviceRing _ring;
        private IInterruptHandler _queueHandler;
        private byte _next = 1;

        public SimulatedEntropyDevice(SimulatedMemory memory, bool packed)
        {
            _memory = memory;
            OfferedFeatures = VirtioSpec.Bit(VirtioSpec.VIRTIO_F_VERSION_1) | VirtioSpec.Bit(VirtioSpec.VIRTIO_F_EVENT_IDX)
                | (packed ? VirtioSpec.Bit(VirtioSpec.VIRTIO_F_RING_PACKED) : 0);
        }

        public ulong OfferedFeatures;
        public ulong DriverFeatures { get; private set; }
        public byte Status { get; private set; }
        public int MaxQueueSize = 8;

        /// <summary>Bytes returned per buffer (at most the buffer's length).</summary>
        public int BytesPerBuffer = 64;

        /// <summary>When false, buffers are held until <see cref="Complete"/>.</summary>
        public bool AutoComplete = true;

        public RngFault NextFault;

        public long BuffersFilled;
        public long BytesFilled;
        public long Notifications;
        public long Resets;

        public bool IsLegacy => false;

        public bool Reset()
        {
            Status = 0;
            DriverFeatures = 0;
            _ring = null;
            Resets++;
            return true;
        }

        public byte ReadStatus() => Status;

        public void WriteStatus(byte status)
        {
            if (status == 0)
            {
                Reset();
                return;
            }
            if ((status & VirtioSpec.FEATURES_OK) != 0 && (DriverFeatures & ~OfferedFeatures) != 0)
            {
                status = (byte)(status & ~VirtioSpec.FEATURES_OK);
            }
            Status = status;
        }

        public ulong ReadDeviceFeatures() => OfferedFeatures;

        public void WriteDriverFeatures(ulong features) => DriverFeatures = features;

        public uint ConfigGeneration => 0;

        public byte ReadConfig8(int offset) => 0;

        public ushort ReadConfig16(int offset) => 0;

        public uint ReadConfig32(int offset) => 0;

        public int QueueMaxSize(int queue) => queue == 0 ? MaxQueueSize : 0;

        public bool SetupQueue(int queue, int size, ulong descriptors, ulong driverArea, ulong deviceArea)
        {
            if (queue != 0 || size <= 0 || size > MaxQueueSize)
            {
                return false;
            }
            bool packed = (DriverFeatures & VirtioSpec.Bit(VirtioSpec.VIRTIO_F_RING_PACKED)) != 0;
            bool eventIndex = (DriverFeatures & VirtioSpec.Bit(VirtioSpec.VIRTIO_F_EVENT_IDX)) != 0;
            _ring = new DeviceRing(_memory, packed, eventIndex, size, descriptors, driverArea, deviceArea);
            return true;
        }

        public void NotifyQueue(int queue)
        {
            Notifications++;
            if ((Status & VirtioSpec.DRIVER_OK) == 0)
            {
                _memory.RecordViolation("notification before DRIVER_OK");
            }
            if (AutoComplete)
            {
                Complete();
            }
        }

        /// <summary>Fills every available buffer and returns it (with <see cref="NextFault"/> applied once).</summary>
        public void Complete()
        {
            if (_ring == null)
            {
                return;
            }
            int count;
            int id;
            bool interrupt = false;
            while ((id = _ring.Pop(_chain, out count)) >= 0)
            {
                if (count != 1 || !_chain[0].Writable)
                {
                    _memory.RecordViolation("entropy request is not one device-writable buffer");
                }
                int length = BytesPerBuffer < _chain[0].Length ? BytesPerBuffer : _chain[0].Length;
                byte* data = _memory.DeviceAccess(_chain[0].Address, length, "entropy buffer outside memory");
                for (int i = 0; i < length; i++)
                {
                    data[i] = _next++;
                }
                RngFault fault = NextFault;
                NextFault = RngFault.None;
                switch (fault)
                {
                    case RngFault.BadId:
                        _ring.PushRaw(_ring.Size + 3, length);
                        interrupt = true;
                        continue;
                    case RngFault.LengthTooLong:
                        length = _chain[0].Length + 100;
                        break;
                    case RngFault.ZeroLength:
                        length = 0;
                        break;
                }
                BuffersFilled++;
                BytesFilled += length;
                interrupt |= _ring.Push(id, length);
            }
            if (interrupt && _queueHandler != null)
            {
                _queueHandler.HandleInterrupt();
            }
        }

        public bool AttachInterrupts(IInterruptHandler configChanged, IInterruptHandler[] queues, bool allowMsix)
        {
            _queueHandler = queues[0];
            UsesMsix = allowMsix;
            return true;
        }

        public bool UsesMsix { get; private set; }

        public void DetachInterrupts()
        {
            _queueHandler = null;
        }

        public byte ReadIsr() => 0;
    }
}
