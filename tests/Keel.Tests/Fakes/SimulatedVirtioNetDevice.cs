using System;
using System.Threading;

namespace Keel.Tests.Fakes
{
    /// <summary>Where the simulated device raises interrupts (the transport decides: MSI-X vector or INTx + ISR).</summary>
    public interface ISimInterruptSink
    {
        void RaiseQueueInterrupt(int queue);
        void RaiseConfigInterrupt();
    }

    /// <summary>Receives every frame the simulated device puts on the wire.</summary>
    public interface ISimTxSink
    {
        void FrameSent(byte[] data, int offset, int length);
    }

    /// <summary>One-shot receive misbehaviours (applied to the next injected frame).</summary>
    public enum RxFault
    {
        None,
        /// <summary>Used length shorter than header + Ethernet header.</summary>
        ShortLength,
        /// <summary>Used length larger than the buffer the driver posted (head buffer).</summary>
        LengthOverCapacity,
        /// <summary>Used length larger than the buffer, on the last buffer of a merged frame.</summary>
        LengthOverCapacityLastBuffer,
        /// <summary>Used id ≥ queue size.</summary>
        BadIdOutOfRange,
        /// <summary>Used id that is not the head of a chain the driver has in flight.</summary>
        BadIdNotInFlight,
        /// <summary>num_buffers = 0 in the header.</summary>
        NumBuffersZero,
        /// <summary>num_buffers larger than the buffers actually returned.</summary>
        NumBuffersTooMany,
        /// <summary>used->idx moved by more than the queue size.</summary>
        UsedIndexJump,
    }

    /// <summary>One-shot transmit misbehaviours (applied at the next completion).</summary>
    public enum TxFault
    {
        None,
        BadId,
        UsedIndexJump,
    }

    /// <summary>
    /// The device side of a virtio-net function, at the level of the virtio spec: feature negotiation, status,
    /// configuration space, split rings in simulated physical memory. It reads only descriptors reachable from
    /// the available ring, checks each one against the memory the driver really holds, keeps its own snapshot
    /// of every published chain (a driver that rewrites a published descriptor or a transmit buffer before
    /// completion is caught), merges large frames over several buffers with num_buffers, honours EVENT_IDX and
    /// the flags both ways, and counts notifications and interrupts. Misbehaves on command.
    /// </summary>
    public sealed unsafe partial class SimulatedVirtioNetDevice
    {
        public const int QueueCount = 2;
        public const int MaxChain = 24;
        private const int CaptureBytes = 70000;

        private readonly SimulatedMemory _memory;
        private readonly SimQueue[] _queues = new SimQueue[QueueCount];
        private readonly byte[] _stream = new byte[StreamBytes];

        /// <summary>Largest header + frame the device can deliver (more than 18 page-sized buffers hold).</summary>
        private const int StreamBytes = 80000;
        private readonly byte[][] _capture;
        private readonly int[] _captureLength;
        private byte _isr;

        /// <summary>
        /// <paramref name="captureSlots"/>: how many of the last transmitted frames are kept for
        /// <see cref="GetTransmitted"/> (70 kB each, allocated here).
        /// </summary>
        public SimulatedVirtioNetDevice(SimulatedMemory memory, int captureSlots = 64)
        {
            _memory = memory;
            CaptureSlots = captureSlots;
            _capture = new byte[captureSlots][];
            _captureLength = new int[captureSlots];
            for (int q = 0; q < QueueCount; q++)
            {
                _queues[q] = new SimQueue(q);
            }
            for (int i = 0; i < CaptureSlots; i++)
            {
                _capture[i] = new byte[CaptureBytes];
            }
            OfferedFeatures = VirtioSpec.Bit(VirtioSpec.VIRTIO_F_VERSION_1) | VirtioSpec.Bit(VirtioSpec.VIRTIO_F_EVENT_IDX) | VirtioSpec.Bit(VirtioSpec.VIRTIO_F_INDIRECT_DESC)
                | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_MAC) | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_STATUS) | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_MRG_RXBUF)
                | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CSUM) | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_GUEST_CSUM) | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_GUEST_TSO4)
                | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_GUEST_TSO6) | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_HOST_TSO4) | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CTRL_VQ)
                | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CTRL_RX) | VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_GUEST_ANNOUNCE);
        }

        public SimulatedMemory Memory => _memory;

        /// <summary>How many of the last transmitted frames <see cref="GetTransmitted"/> can return.</summary>
        public readonly int CaptureSlots;

        public ISimInterruptSink Interrupts;

        // ---- identity and configuration ----

        public ulong OfferedFeatures;
        public readonly byte[] Mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
        public ushort ConfigStatus = VirtioSpec.VIRTIO_NET_S_LINK_UP;
        public ushort ConfigMtu = 1500;
        public int MaxQueueSize = 256;

        /// <summary>Set by the transport: legacy interface (no FEATURES_OK, fixed queue size).</summary>
        public bool LegacyInterface;

        /// <summary>Clear FEATURES_OK when the driver sets it (the device does not accept the features).</summary>
        public bool RefuseFeaturesOk;

        public byte Status { get; private set; }
        public ulong DriverFeatures { get; private set; }
        public uint ConfigGeneration { get; private set; }

        // ---- behaviour knobs ----

        public RxFault NextRxFault;

        /// <summary>
        /// Lies the next received frame tells (a device that lies anyhow, for the fuzz target): the used element of
        /// buffer <see cref="RxLie.Buffer"/> gets this id and/or length, the header this num_buffers. Cleared after the frame.
        /// </summary>
        public RxLie NextRxLie;

        public struct RxLie
        {
            public int Buffer;
            public uint? Id;
            public uint? Length;
            public ushort? NumBuffers;
        }
        public TxFault NextTxFault;

        /// <summary>Header fields written into received frames.</summary>
        public byte RxHeaderFlags;
        public byte RxGsoType;
        public ushort RxCsumStart;
        public ushort RxCsumOffset;

        /// <summary>Complete transmit chains as soon as they are fetched (at the notification). Else call <see cref="CompleteTx"/>.</summary>
        public bool TxAutoComplete = true;

        /// <summary>Without EVENT_IDX: set VRING_USED_F_NO_NOTIFY (the device asks for no kicks).</summary>
        public bool SuppressNotifications;

        // ---- counters ----

        public long RxFrames;
        public long RxDroppedNoBuffers;
        public long RxDroppedTooBig;
        public long TxFrames;
        public long TxBytes;
        public long TxBadHeaders;
        public long ConfigInterrupts;
        public long Resets;
        public readonly long[] Notifications = new long[QueueCount];
        public readonly long[] InterruptsRaised = new long[QueueCount];

        private bool Negotiated(ulong feature) => (DriverFeatures & feature) != 0;
        private bool EventIndex => Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_F_EVENT_IDX));
        public bool Mergeable => Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_MRG_RXBUF));
        public int HeaderLength => Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_F_VERSION_1)) || Mergeable ? 12 : 10;
        public bool DriverOk => (Status & VirtioSpec.DRIVER_OK) != 0;

        /// <summary>Receive chains the driver has published and the device has not used yet.</summary>
        public int RxBuffersAvailable
        {
            get
            {
                SimQueue q = _queues[0];
                if (!q.Enabled)
                {
                    return 0;
                }
                SyncAvail(q);
                return (ushort)(q.OrderTail - q.NextAvail);
            }
        }

        /// <summary>Transmit chains fetched and not completed.</summary>
        public int TxPending
        {
            get
            {
                SimQueue q = _queues[1];
                return q.Enabled ? (ushort)(q.OrderTail - q.NextAvail) : 0;
            }
        }

        public int QueueSize(int queue) => _queues[queue].Size;

        // ---- register-level operations (called by the transports) ----

        public byte ReadStatus() => Status;

        public void WriteStatus(byte value)
        {
            if (value == 0)
            {
                Reset();
                return;
            }
            if ((value & VirtioSpec.FEATURES_OK) != 0 && (Status & VirtioSpec.FEATURES_OK) == 0)
            {
                if (LegacyInterface)
                {
                    _memory.RecordViolation("FEATURES_OK written to a legacy device");
                }
                if (RefuseFeaturesOk || (DriverFeatures & ~OfferedFeatures) != 0)
                {
                    value = (byte)(value & ~VirtioSpec.FEATURES_OK);
                }
            }
            if ((value & VirtioSpec.DRIVER_OK) != 0 && (Status & VirtioSpec.DRIVER_OK) == 0 && !LegacyInterface
                && (Status & VirtioSpec.FEATURES_OK) == 0)
            {
                _memory.RecordViolation("DRIVER_OK without FEATURES_OK");
            }
            Status = (byte)(value | (Status & VirtioSpec.DEVICE_NEEDS_RESET));
        }

        public ulong ReadDeviceFeatures() => LegacyInterface ? OfferedFeatures & 0xFFFFFFFFUL : OfferedFeatures;

        public void WriteDriverFeatures(ulong features)
        {
            if ((Status & VirtioSpec.FEATURES_OK) != 0)
            {
                _memory.RecordViolation("driver features written after FEATURES_OK");
            }
            DriverFeatures = features;
        }

        /// <summary>When set, the device changes its MAC (and config_generation) while the driver reads byte 3 of it.</summary>
        public byte[] ChangeMacDuringRead;

        public byte ReadConfig8(int offset)
        {
            if (offset == 3 && ChangeMacDuringRead != null)
            {
                for (int i = 0; i < 6; i++)
                {
                    Mac[i] = ChangeMacDuringRead[i];
                }
                ChangeMacDuringRead = null;
                ConfigGeneration++;
            }
            switch (offset)
            {
                case 0: case 1: case 2: case 3: case 4: case 5: return Mac[offset];
                case 6: return (byte)ConfigStatus;
                case 7: return (byte)(ConfigStatus >> 8);
                case 8: return 1;
                case 9: return 0;
                case 10: return (byte)ConfigMtu;
                case 11: return (byte)(ConfigMtu >> 8);
                default: return 0;
            }
        }

        public byte ReadIsr()
        {
            byte value = _isr;
            _isr = 0;
            return value;
        }

        public int QueueMaxSize(int queue) => queue >= 0 && queue < QueueCount ? MaxQueueSize : queue == ControlQueueIndex ? ControlQueueMaxSize() : 0;

        /// <summary>Programs and enables a queue; false when the device refuses.</summary>
        public bool SetQueue(int queue, int size, ulong descriptors, ulong avail, ulong used)
        {
            if (queue == ControlQueueIndex)
            {
                return SetControlQueue(size, descriptors, avail, used);
            }
            if (queue < 0 || queue >= QueueCount || size <= 0 || size > 32768 || (size & (size - 1)) != 0 || size > MaxQueueSize
                || (LegacyInterface && size != MaxQueueSize))
            {
                return false;
            }
            if ((descriptors & 15) != 0 || (avail & 1) != 0 || (used & 3) != 0)
            {
                _memory.RecordViolation("ring areas misaligned");
                return false;
            }
            byte* d = _memory.DeviceAccess(descriptors, 16 * size, "descriptor table outside allocated memory");
            byte* a = _memory.DeviceAccess(avail, 6 + 2 * size, "available ring outside allocated memory");
            byte* u = _memory.DeviceAccess(used, 6 + 8 * size, "used ring outside allocated memory");
            if (d == null || a == null || u == null)
            {
                return false;
            }
            _queues[queue].Configure(size, descriptors, avail, used, d, a, u);
            return true;
        }

        public void Notify(int queue)
        {
            if (queue == ControlQueueIndex)
            {
                NotifyControl();
                return;
            }
            if (queue < 0 || queue >= QueueCount || !_queues[queue].Enabled)
            {
                _memory.RecordViolation("notification of a queue that is not set up");
                return;
            }
            if (!DriverOk)
            {
                _memory.RecordViolation("notification before DRIVER_OK");
            }
            Notifications[queue]++;
            SimQueue q = _queues[queue];
            SyncAvail(q);
            if (queue == 1 && TxAutoComplete)
            {
                CompleteTx(int.MaxValue);
            }
        }

        public void Reset()
        {
            for (int i = 0; i < QueueCount; i++)
            {
                SimQueue q = _queues[i];
                if (q.Enabled && i == 0)
                {
                    for (ushort n = q.NextAvail; n != q.OrderTail; n++)
                    {
                        ReleaseOwnership(q, q.Order[n & (q.Size - 1)]);
                    }
                }
                q.Enabled = false;
            }
            Status = 0;
            DriverFeatures = 0;
            _isr = 0;
            ResetControl();
            Resets++;
        }

        // ---- configuration events ----

        public void SetLink(bool up)
        {
            ConfigStatus = up ? VirtioSpec.VIRTIO_NET_S_LINK_UP : (ushort)0;
            ConfigGeneration++;
            RaiseConfig();
        }

        /// <summary>The device asks the driver to reset it (DEVICE_NEEDS_RESET + configuration interrupt).</summary>
        public void SignalNeedsReset()
        {
            Status |= VirtioSpec.DEVICE_NEEDS_RESET;
            RaiseConfig();
        }

        private void RaiseConfig()
        {
            ConfigInterrupts++;
            _isr |= 2;
            if (Interrupts != null)
            {
                Interrupts.RaiseConfigInterrupt();
            }
        }

        private sealed class SimQueue
        {
            public readonly int Index;
            public int Size;
            public bool Enabled;
            public byte* Descriptors;
            public byte* Avail;
            public byte* Used;

            /// <summary>Published entries read so far (free-running, like avail->idx).</summary>
            public ushort SyncedAvail;

            /// <summary>Valid heads appended to <see cref="Order"/> (bad entries are skipped).</summary>
            public ushort OrderTail;

            /// <summary>Read entries consumed (receive: used for a frame; transmit: completed).</summary>
            public ushort NextAvail;

            /// <summary>Device's used index.</summary>
            public ushort UsedIdx;
            public ushort SignalledUsed;
            public bool SignalledValid;
            public int OwnedHeads;

            /// <summary>Heads in the order they were read: Order[n &amp; mask] for NextAvail ≤ n &lt; SyncedAvail.</summary>
            public ushort[] Order;
            public bool[] HeadOwned;
            public int[] ChainCount;
            public int[] ChainCapacity;
            public ulong[] ChainAddress;
            public int[] ChainLength;
            public ushort[] ChainFlags;
            public ushort[] ChainId;
            public ulong[] TxHash;
            public ulong[] ChainIndirect;
            public ulong[] RingDescriptor;

            public SimQueue(int index)
            {
                Index = index;
            }


            public void Configure(int size, ulong d, ulong a, ulong u, byte* dp, byte* ap, byte* up)
            {
                Size = size;
                Descriptors = dp;
                Avail = ap;
                Used = up;
                SyncedAvail = 0;
                OrderTail = 0;
                NextAvail = 0;
                UsedIdx = 0;
                SignalledUsed = 0;
                SignalledValid = false;
                OwnedHeads = 0;
                Order = new ushort[size];
                HeadOwned = new bool[size];
                ChainCount = new int[size];
                ChainCapacity = new int[size];
                ChainAddress = new ulong[size * MaxChain];
                ChainLength = new int[size * MaxChain];
                ChainFlags = new ushort[size * MaxChain];
                ChainId = new ushort[size * MaxChain];
                TxHash = new ulong[size];
                ChainIndirect = new ulong[size];
                RingDescriptor = new ulong[size * 2];
                Enabled = true;
            }
        }
    }
}
