using System;
using System.Threading;
using Keel.Tests.Fakes;

namespace Keel.Tests.Simulation
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
        private const int CaptureSlots = 64;
        private const int CaptureBytes = 70000;

        private readonly SimulatedMemory _memory;
        private readonly SimQueue[] _queues = new SimQueue[QueueCount];
        private readonly byte[] _stream = new byte[StreamBytes];

        /// <summary>Largest header + frame the device can deliver (more than 18 page-sized buffers hold).</summary>
        private const int StreamBytes = 80000;
        private readonly byte[][] _capture = new byte[CaptureSlots][];
        private readonly int[] _captureLength = new int[CaptureSlots];
        private byte _isr;

        public SimulatedVirtioNetDevice(SimulatedMemory memory)
        {
            _memory = memory;
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

        // ---- ring processing ----

        /// <summary>Reads newly published chains: validates, snapshots, takes ownership (rx) or fetches (tx).</summary>
        private void SyncAvail(SimQueue q)
        {
            if (!q.Enabled)
            {
                return;
            }
            ushort availIndex = Volatile.Read(ref *(ushort*)(q.Avail + 2));
            int fresh = (ushort)(availIndex - q.SyncedAvail);
            if (fresh + q.OwnedHeads > q.Size)
            {
                _memory.RecordViolation("avail->idx moved past the buffers the driver could have published");
                q.SyncedAvail = availIndex;
                return;
            }
            int mask = q.Size - 1;
            for (int k = 0; k < fresh; k++)
            {
                ushort head = ((ushort*)(q.Avail + 4))[q.SyncedAvail & mask];
                q.SyncedAvail++;
                if (head >= q.Size || q.HeadOwned[head])
                {
                    _memory.RecordViolation("available ring names a bad or already published head");
                    continue;
                }
                if (!Snapshot(q, head))
                {
                    continue;
                }
                q.HeadOwned[head] = true;
                q.OwnedHeads++;
                q.Order[q.OrderTail & mask] = head;
                q.OrderTail++;
                if (q.Index == 0)
                {
                    TakeOwnership(q, head);
                }
                else
                {
                    FetchTx(q, head);
                }
            }
            if (EventIndex)
            {
                // Ask for a kick when the driver publishes past what we have read (QEMU: avail_event = last_avail_idx).
                Volatile.Write(ref *(ushort*)(q.Used + 4 + 8 * q.Size), q.SyncedAvail);
            }
            else
            {
                *(ushort*)q.Used = SuppressNotifications ? VirtioSpec.VIRTQ_USED_F_NO_NOTIFY : (ushort)0;
            }
        }

        private bool Snapshot(SimQueue q, int head)
        {
            int id = head;
            int count = 0;
            int capacity = 0;
            bool sawWritable = false;
            byte* table = q.Descriptors;
            int tableSize = q.Size;
            q.ChainIndirect[head] = 0;
            while (true)
            {
                if (count == MaxChain)
                {
                    _memory.RecordViolation("descriptor chain too long or looping");
                    return false;
                }
                byte* d = table + 16 * id;
                ulong address = *(ulong*)d;
                int length = (int)*(uint*)(d + 8);
                ushort flags = *(ushort*)(d + 12);
                ushort next = *(ushort*)(d + 14);
                if ((flags & VirtioSpec.VIRTQ_DESC_F_INDIRECT) != 0)
                {
                    if (!Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_F_INDIRECT_DESC)))
                    {
                        _memory.RecordViolation("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
                        return false;
                    }
                    if (table != q.Descriptors || count != 0 || (flags & VirtioSpec.VIRTQ_DESC_F_NEXT) != 0)
                    {
                        _memory.RecordViolation("indirect descriptor inside a chain, nested, or with NEXT");
                        return false;
                    }
                    if (length <= 0 || (length & 15) != 0)
                    {
                        _memory.RecordViolation("indirect table length not a multiple of 16");
                        return false;
                    }
                    byte* t = _memory.DeviceAccess(address, length, "indirect table outside allocated DMA memory");
                    if (t == null)
                    {
                        return false;
                    }
                    q.RingDescriptor[head * 2] = address;
                    q.RingDescriptor[head * 2 + 1] = (ulong)length | ((ulong)flags << 32);
                    q.ChainIndirect[head] = address;
                    IndirectChains++;
                    table = t;
                    tableSize = length / 16;
                    id = 0;
                    continue;
                }
                bool writable = (flags & VirtioSpec.VIRTQ_DESC_F_WRITE) != 0;
                if ((q.Index == 0) != writable)
                {
                    _memory.RecordViolation(q.Index == 0 ? "receive descriptor not device-writable" : "transmit descriptor device-writable");
                    return false;
                }
                if (sawWritable && !writable)
                {
                    _memory.RecordViolation("readable descriptor after a writable one");
                    return false;
                }
                sawWritable |= writable;
                if (length <= 0 || _memory.DeviceAccess(address, length, "descriptor points outside allocated DMA memory") == null)
                {
                    if (length <= 0)
                    {
                        _memory.RecordViolation("zero-length descriptor");
                    }
                    return false;
                }
                int slot = head * MaxChain + count;
                q.ChainAddress[slot] = address;
                q.ChainLength[slot] = length;
                q.ChainFlags[slot] = flags;
                q.ChainId[slot] = (ushort)id;
                capacity += length;
                count++;
                if ((flags & VirtioSpec.VIRTQ_DESC_F_NEXT) == 0)
                {
                    break;
                }
                if (next >= tableSize)
                {
                    _memory.RecordViolation("descriptor next out of range");
                    return false;
                }
                id = next;
            }
            q.ChainCount[head] = count;
            q.ChainCapacity[head] = capacity;
            return true;
        }

        /// <summary>Chains published through an indirect table.</summary>
        public long IndirectChains;

        /// <summary>Checks the published chain's descriptors (ring, and indirect table) were not changed by the driver.</summary>
        private void VerifyUnchanged(SimQueue q, int head)
        {
            byte* table = q.Descriptors;
            if (q.ChainIndirect[head] != 0)
            {
                byte* r = q.Descriptors + 16 * head;
                if (*(ulong*)r != q.RingDescriptor[head * 2]
                    || ((ulong)*(uint*)(r + 8) | ((ulong)*(ushort*)(r + 12) << 32)) != q.RingDescriptor[head * 2 + 1])
                {
                    _memory.RecordViolation("driver changed a descriptor the device owns");
                    return;
                }
                table = _memory.DeviceAccess(q.ChainIndirect[head], 16, "indirect table freed while the device owns it");
                if (table == null)
                {
                    return;
                }
            }
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                byte* d = table + 16 * q.ChainId[slot];
                if (*(ulong*)d != q.ChainAddress[slot] || (int)*(uint*)(d + 8) != q.ChainLength[slot]
                    || *(ushort*)(d + 12) != q.ChainFlags[slot])
                {
                    _memory.RecordViolation("driver changed a descriptor the device owns");
                    return;
                }
            }
        }

        private void TakeOwnership(SimQueue q, int head)
        {
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                if (!_memory.MarkOwned(q.ChainAddress[slot], q.ChainLength[slot], 1))
                {
                    _memory.RecordViolation("receive buffer overlaps memory the device already owns");
                }
                byte* p = _memory.DeviceAccess(q.ChainAddress[slot], q.ChainLength[slot], "rx buffer");
                if (p != null)
                {
                    // The buffer is the device's now: its old contents are gone (bounce-buffer semantics).
                    new Span<byte>(p, q.ChainLength[slot]).Fill(0xA5);
                }
            }
        }

        private void ReleaseOwnership(SimQueue q, int head)
        {
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                _memory.ClearOwned(q.ChainAddress[slot], q.ChainLength[slot]);
            }
        }

        /// <summary>
        /// Delivers one frame from the wire: picks buffers (several with MRG_RXBUF), writes header and data,
        /// returns them in the used ring, maybe interrupts. False (frame dropped, nothing consumed) when the
        /// driver has not published enough buffer space or the device is not running.
        /// </summary>
        public bool InjectFrame(ReadOnlySpan<byte> frame)
        {
            SimQueue q = _queues[0];
            if (!DriverOk || !q.Enabled)
            {
                RxDroppedNoBuffers++;
                return false;
            }
            SyncAvail(q);
            int hdr = HeaderLength;
            int total = hdr + frame.Length;
            if (total > _stream.Length)
            {
                RxDroppedTooBig++;
                return false;
            }
            int mask = q.Size - 1;
            int pending = (ushort)(q.OrderTail - q.NextAvail);
            int needed = 0;
            int capacity = 0;
            if (Mergeable)
            {
                while (capacity < total)
                {
                    if (needed == pending)
                    {
                        RxDroppedNoBuffers++;
                        return false;
                    }
                    capacity += q.ChainCapacity[q.Order[(q.NextAvail + needed) & mask]];
                    needed++;
                }
            }
            else
            {
                if (pending == 0)
                {
                    RxDroppedNoBuffers++;
                    return false;
                }
                if (q.ChainCapacity[q.Order[q.NextAvail & mask]] < total)
                {
                    RxDroppedTooBig++;
                    return false;
                }
                needed = 1;
            }
            Span<byte> stream = new Span<byte>(_stream, 0, total);
            stream.Slice(0, hdr).Clear();
            _stream[VirtioSpec.HDR_FLAGS] = RxHeaderFlags;
            _stream[VirtioSpec.HDR_GSO_TYPE] = RxGsoType;
            _stream[VirtioSpec.HDR_CSUM_START] = (byte)RxCsumStart;
            _stream[VirtioSpec.HDR_CSUM_START + 1] = (byte)(RxCsumStart >> 8);
            _stream[VirtioSpec.HDR_CSUM_OFFSET] = (byte)RxCsumOffset;
            _stream[VirtioSpec.HDR_CSUM_OFFSET + 1] = (byte)(RxCsumOffset >> 8);
            if (hdr == 12)
            {
                int announced = needed;
                if (NextRxFault == RxFault.NumBuffersZero)
                {
                    announced = 0;
                }
                else if (NextRxFault == RxFault.NumBuffersTooMany)
                {
                    announced = needed + 3;
                }
                _stream[VirtioSpec.HDR_NUM_BUFFERS] = (byte)announced;
                _stream[VirtioSpec.HDR_NUM_BUFFERS + 1] = (byte)(announced >> 8);
            }
            frame.CopyTo(stream.Slice(hdr));

            int position = 0;
            for (int b = 0; b < needed; b++)
            {
                ushort head = q.Order[q.NextAvail & mask];
                q.NextAvail++;
                VerifyUnchanged(q, head);
                int written = Scatter(q, head, stream.Slice(position));
                position += written;
                ReleaseOwnership(q, head);
                q.HeadOwned[head] = false;
                q.OwnedHeads--;
                uint id = head;
                uint length = (uint)written;
                if (b == 0 && NextRxFault == RxFault.ShortLength)
                {
                    length = (uint)(hdr + 5);
                }
                else if (b == 0 && NextRxFault == RxFault.LengthOverCapacity)
                {
                    length = (uint)(q.ChainCapacity[head] + 64);
                }
                else if (b == needed - 1 && b > 0 && NextRxFault == RxFault.LengthOverCapacityLastBuffer)
                {
                    length = (uint)(q.ChainCapacity[head] + 1);
                }
                if (b == 0 && NextRxFault == RxFault.BadIdOutOfRange)
                {
                    id = (uint)(q.Size + 7);
                }
                else if (b == 0 && NextRxFault == RxFault.BadIdNotInFlight)
                {
                    id = FindIdNotInFlight(q, head);
                }
                // struct virtq_used_elem { le32 id; le32 len; } after used->flags and used->idx.
                uint* element = (uint*)(q.Used + VirtioSpec.SplitUsedHeader + VirtioSpec.SplitUsedElementSize * ((q.UsedIdx + b) & mask));
                element[0] = id;
                element[1] = length;
            }
            PublishUsed(q, needed, NextRxFault == RxFault.UsedIndexJump);
            NextRxFault = RxFault.None;
            RxFrames++;
            return true;
        }

        private uint FindIdNotInFlight(SimQueue q, int except)
        {
            for (int i = 0; i < q.Size; i++)
            {
                if (i != except && !q.HeadOwned[i])
                {
                    return (uint)i;
                }
            }
            return (uint)q.Size;
        }

        private int Scatter(SimQueue q, int head, Span<byte> source)
        {
            int written = 0;
            for (int k = 0; k < q.ChainCount[head] && written < source.Length; k++)
            {
                int slot = head * MaxChain + k;
                ulong address = q.ChainAddress[slot];
                int length = q.ChainLength[slot];
                if (!_memory.IsOwned(address, length, 1))
                {
                    _memory.RecordViolation("device writing a receive buffer it does not own");
                }
                byte* p = _memory.DeviceAccess(address, length, "receive buffer freed while the device owns it");
                int take = Math.Min(length, source.Length - written);
                if (p != null)
                {
                    source.Slice(written, take).CopyTo(new Span<byte>(p, take));
                }
                written += take;
            }
            return written;
        }

        private void PublishUsed(SimQueue q, int count, bool jump)
        {
            q.UsedIdx = (ushort)(q.UsedIdx + count);
            ushort published = jump ? (ushort)(q.UsedIdx + q.Size + 3) : q.UsedIdx;
            Volatile.Write(ref *(ushort*)(q.Used + 2), published);
            Interlocked.MemoryBarrier();
            bool need;
            if (EventIndex)
            {
                ushort usedEvent = Volatile.Read(ref *(ushort*)(q.Avail + 4 + 2 * q.Size));
                bool valid = q.SignalledValid;
                ushort old = q.SignalledUsed;
                q.SignalledValid = true;
                q.SignalledUsed = q.UsedIdx;
                need = !valid || VirtioSpec.vring_need_event(usedEvent, q.UsedIdx, old);
            }
            else
            {
                need = (Volatile.Read(ref *(ushort*)q.Avail) & VirtioSpec.VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
            }
            if (need)
            {
                InterruptsRaised[q.Index]++;
                _isr |= 1;
                if (Interrupts != null)
                {
                    Interrupts.RaiseQueueInterrupt(q.Index);
                }
            }
        }

        // ---- transmit ----

        private readonly byte[] _txScratch = new byte[CaptureBytes + 64];

        /// <summary>Transmit chains fetched (one per Transmit call; <see cref="TxFrames"/> counts wire frames).</summary>
        public long TxChains;

        /// <summary>Chains that asked for checksum completion (NEEDS_CSUM) / segmentation (GSO_TCPV4).</summary>
        public long TxChecksumRequests;
        public long TxGsoRequests;

        /// <summary>
        /// Reads one transmit chain: header + frame. NEEDS_CSUM (with CSUM negotiated) is completed like a NIC
        /// would; GSO_TCPV4 (with HOST_TSO4) is cut into gso_size segments with their own IP length/id/checksum,
        /// sequence numbers, flags (FIN/PSH only on the last) and TCP checksums. Each wire frame is captured.
        /// </summary>
        private void FetchTx(SimQueue q, int head)
        {
            int total = 0;
            ulong hash = 14695981039346656037UL;
            int hdr = HeaderLength;
            byte[] scratch = _txScratch;
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                byte* p = _memory.DeviceAccess(q.ChainAddress[slot], q.ChainLength[slot], "tx buffer");
                if (p == null)
                {
                    continue;
                }
                for (int i = 0; i < q.ChainLength[slot]; i++)
                {
                    byte value = p[i];
                    hash = (hash ^ value) * 1099511628211UL;
                    if (total < scratch.Length)
                    {
                        scratch[total] = value;
                    }
                    total++;
                }
            }
            q.TxHash[head] = hash;
            TxChains++;
            if (total < hdr)
            {
                TxBadHeaders++;
                Capture(scratch, 0, 0);
                return;
            }
            byte flags = scratch[VirtioSpec.HDR_FLAGS];
            byte gso = scratch[VirtioSpec.HDR_GSO_TYPE];
            int hdrLen = scratch[VirtioSpec.HDR_HDR_LEN] | (scratch[VirtioSpec.HDR_HDR_LEN + 1] << 8);
            int gsoSize = scratch[VirtioSpec.HDR_GSO_SIZE] | (scratch[VirtioSpec.HDR_GSO_SIZE + 1] << 8);
            int csumStart = scratch[VirtioSpec.HDR_CSUM_START] | (scratch[VirtioSpec.HDR_CSUM_START + 1] << 8);
            int csumOffset = scratch[VirtioSpec.HDR_CSUM_OFFSET] | (scratch[VirtioSpec.HDR_CSUM_OFFSET + 1] << 8);
            int frameLength = Math.Min(total, scratch.Length) - hdr;
            bool needsCsum = (flags & VirtioSpec.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0;
            bool badHeader = (flags & ~VirtioSpec.VIRTIO_NET_HDR_F_NEEDS_CSUM) != 0
                || (needsCsum && !Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_CSUM)))
                || (gso != VirtioSpec.VIRTIO_NET_HDR_GSO_NONE && (gso != VirtioSpec.VIRTIO_NET_HDR_GSO_TCPV4 || !Negotiated(VirtioSpec.Bit(VirtioSpec.VIRTIO_NET_F_HOST_TSO4)) || !needsCsum))
                || (needsCsum && csumStart + csumOffset + 2 > frameLength);
            if (badHeader)
            {
                TxBadHeaders++;
                Capture(scratch, hdr, frameLength);
                return;
            }
            if (gso == VirtioSpec.VIRTIO_NET_HDR_GSO_TCPV4)
            {
                TxGsoRequests++;
                TxChecksumRequests++;
                Segment(scratch, hdr, frameLength, csumStart, hdrLen, gsoSize);
                return;
            }
            if (needsCsum)
            {
                TxChecksumRequests++;
                CompleteChecksum(scratch, hdr + csumStart, hdr + frameLength, hdr + csumStart + csumOffset);
            }
            Capture(scratch, hdr, frameLength);
        }

        /// <summary>Sums [start, end) of <paramref name="data"/> and stores the complement at <paramref name="field"/> (the shared emulator).</summary>
        private static void CompleteChecksum(byte[] data, int start, int end, int field)
        {
            fixed (byte* p = data)
            {
                OffloadEmulator.CompleteChecksum(p, start, end, field);
            }
        }

        private readonly byte[] _segment = new byte[CaptureBytes];

        /// <summary>TSO: cuts the TCP/IPv4 frame at <paramref name="offset"/> into gso_size segments (the shared emulator) and captures each.</summary>
        private void Segment(byte[] frame, int offset, int length, int csumStart, int hdrLen, int gsoSize)
        {
            int tcpStart = csumStart;
            OffloadEmulator.TsoFrame t;
            fixed (byte* f = &frame[offset])
            {
                t = OffloadEmulator.Parse(f, tcpStart);
            }
            int headers = t.Headers;
            if (hdrLen != headers || gsoSize <= 0 || headers > length)
            {
                TxBadHeaders++;
                Capture(frame, offset, length);
                return;
            }
            int payload = length - headers;
            byte[] seg = _segment;
            int done = 0;
            int index = 0;
            while (done < payload)
            {
                int take = Math.Min(gsoSize, payload - done);
                bool last = done + take == payload;
                Array.Copy(frame, offset, seg, 0, headers);
                Array.Copy(frame, offset + headers + done, seg, headers, take);
                int segmentLength = headers + take;
                fixed (byte* h = seg)
                {
                    OffloadEmulator.FixSegmentHeaders(h, t, tcpStart, index, done, take, last);
                    OffloadEmulator.CompleteChecksum(h, tcpStart, segmentLength, tcpStart + 16);
                }
                Capture(seg, 0, segmentLength);
                done += take;
                index++;
            }
        }

        /// <summary>Records one wire frame in the capture ring.</summary>
        private void Capture(byte[] data, int offset, int length)
        {
            int slotIndex = (int)(TxFrames % CaptureSlots);
            int keep = Math.Min(length, CaptureBytes);
            Array.Copy(data, offset, _capture[slotIndex], 0, keep);
            _captureLength[slotIndex] = keep;
            TxFrames++;
            TxBytes += length;
            if (TxSink != null)
            {
                TxSink.FrameSent(data, offset, length);
            }
        }

        /// <summary>Optional receiver of every transmitted wire frame (after checksum completion and segmentation).</summary>
        public ISimTxSink TxSink;

        private ulong HashChain(SimQueue q, int head)
        {
            ulong hash = 14695981039346656037UL;
            for (int k = 0; k < q.ChainCount[head]; k++)
            {
                int slot = head * MaxChain + k;
                byte* p = _memory.DeviceAccess(q.ChainAddress[slot], q.ChainLength[slot], "tx buffer freed before completion");
                if (p == null)
                {
                    continue;
                }
                for (int i = 0; i < q.ChainLength[slot]; i++)
                {
                    hash = (hash ^ p[i]) * 1099511628211UL;
                }
            }
            return hash;
        }

        /// <summary>Completes up to <paramref name="max"/> fetched transmit chains (in order). Returns how many.</summary>
        public int CompleteTx(int max)
        {
            SimQueue q = _queues[1];
            if (!q.Enabled)
            {
                return 0;
            }
            SyncAvail(q);
            int mask = q.Size - 1;
            int done = 0;
            while (done < max && q.NextAvail != q.OrderTail)
            {
                ushort head = q.Order[q.NextAvail & mask];
                q.NextAvail++;
                VerifyUnchanged(q, head);
                if (HashChain(q, head) != q.TxHash[head])
                {
                    _memory.RecordViolation("driver changed a transmit buffer before the device completed it");
                }
                q.HeadOwned[head] = false;
                q.OwnedHeads--;
                uint* element = (uint*)(q.Used + VirtioSpec.SplitUsedHeader + VirtioSpec.SplitUsedElementSize * ((q.UsedIdx + done) & mask));
                element[0] = NextTxFault == TxFault.BadId && done == 0 ? (uint)(q.Size + 1) : head;
                element[1] = 0;
                done++;
            }
            if (done > 0)
            {
                PublishUsed(q, done, NextTxFault == TxFault.UsedIndexJump);
                NextTxFault = TxFault.None;
            }
            return done;
        }

        /// <summary>Copies the <paramref name="back"/>-th most recent transmitted frame (0 = last) into <paramref name="destination"/>.</summary>
        public int CapturedFrame(int back, Span<byte> destination)
        {
            if (back >= CaptureSlots || back >= TxFrames)
            {
                return -1;
            }
            int slot = (int)((TxFrames - 1 - back) % CaptureSlots);
            int length = Math.Min(_captureLength[slot], destination.Length);
            new ReadOnlySpan<byte>(_capture[slot], 0, length).CopyTo(destination);
            return _captureLength[slot];
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
