using Keel.Buffers;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// One send queue of a virtio-net device (Linux struct send_queue): its virtqueue, transmit header slots,
    /// indirect tables, the packets the device holds, stop/wake with the watchdog, transmit batching and its
    /// counters. <see cref="VirtioNetDevice.Transmit"/> forwards here.
    /// </summary>
    public sealed unsafe partial class SendQueue
    {

        private readonly VirtioNetDevice _device;
        private readonly VirtioNetOptions _options;
        private readonly VirtioNetPlatform _platform;
        private readonly IVirtioTransport _transport;
        private readonly WatchdogWork _watchdogWork;
        private readonly int _watchdogTimer;
        private readonly ReclaimWork _reclaimWork;
        private readonly int _reclaimTimer;
        private bool _reclaimTimerArmed;
        private readonly Interrupt _interrupt;
        private readonly int _pair;
        private Virtqueue _ring;
        private int _headerLength;
        private ulong _features;

        /// <summary>Counters of this queue (Linux virtnet_sq_stats).</summary>
        internal SendQueueStats Stats;

        /// <summary>
        /// Byte limit on the frames in the ring (<see cref="VirtioNetOptions.ByteQueueLimits"/>; null when off). Over it,
        /// <see cref="OverLimit"/> tells bulk senders to wait, while <see cref="Transmit"/> still takes any frame the
        /// ring has room for, so an ACK or a ping reply never waits behind the limit.
        /// </summary>
        private readonly ByteQueueLimit _limit;

        /// <summary>True while the byte limit holds bulk senders back (the device is asked for a completion interrupt).</summary>
        private bool _limited;

        public SendQueue(VirtioNetDevice device, int pair, IVirtioTransport transport, VirtioNetOptions options, VirtioNetPlatform platform)
        {
            _pair = pair;
            _device = device;
            _transport = transport;
            _options = options;
            _platform = platform;
            _watchdogWork = new WatchdogWork(this);
            _watchdogTimer = platform.Timers.CreateTimer(_watchdogWork);
            _reclaimWork = new ReclaimWork(this);
            _reclaimTimer = platform.Timers.CreateTimer(_reclaimWork);
            _interrupt = new Interrupt(this);
            if (options.ByteQueueLimits)
            {
                _limit = new ByteQueueLimit(0, options.ByteQueueMaxLimit);
            }
        }

        /// <summary>The byte limit of the ring (null when <see cref="VirtioNetOptions.ByteQueueLimits"/> is off).</summary>
        public ByteQueueLimit Limit => _limit;

        /// <summary>True while the bytes in the ring are at the byte limit: bulk senders should wait for completions.</summary>
        public bool OverLimit => _limited;

        /// <summary>The virtqueue (null before the first start).</summary>
        public Virtqueue Ring => _ring;

        /// <summary>Packet descriptors offered to the stack for transmit frames.</summary>
        public PacketPool Packets { get; private set; }

        internal IInterruptHandler InterruptHandler => _interrupt;

        private bool Has(ulong feature) => (_features & feature) != 0;

        /// <summary>Cancels the watchdog (stop, reset).</summary>
        internal void CancelTimers()
        {
            _platform.Timers.Cancel(_watchdogTimer);
            _platform.Timers.Cancel(_reclaimTimer);
            _reclaimTimerArmed = false;
        }

        /// <summary>After a device reset: packets still in the ring are freed and counted.</summary>
        internal void TakeBackAll()
        {
            ushort head;
            while (_ring.DetachUnused(out head))
            {
                Packet packet = _packet[head];
                _packet[head] = null;
                if (packet != null)
                {
                    Stats.DroppedAtReset++;
                    packet.Free();
                }
            }
            _stopped = false;
            _limited = false;
            if (_limit != null)
            {
                _limit.Reset(_platform.Clock.NowNanoseconds);
            }
        }

        /// <summary>Gives header slots and indirect tables back (ring memory is the device core's).</summary>
        internal void ReleaseDma()
        {
            if (_headers.IsValid)
            {
                _platform.Dma.FreeContiguous(_headers);
                _headers = default;
            }
            if (_indirect.IsValid)
            {
                _platform.Dma.FreeContiguous(_indirect);
                _indirect = default;
            }
        }

        private bool OnInterrupt()
        {
            Stats.Interrupts++;
            _ring.DisableCallbacks();
            _device.SchedulePoll(_pair);
            return true;
        }

        private sealed class Interrupt : IInterruptHandler
        {
            private readonly SendQueue _queue;
            public Interrupt(SendQueue queue) { _queue = queue; }
            public bool HandleInterrupt() => _queue.OnInterrupt();
        }

        private sealed class WatchdogWork : IWorkItem
        {
            private readonly SendQueue _queue;
            public WatchdogWork(SendQueue queue) { _queue = queue; }
            public void Run() => _queue.OnWatchdog();
        }

        private sealed class ReclaimWork : IWorkItem
        {
            private readonly SendQueue _queue;
            public ReclaimWork(SendQueue queue) { _queue = queue; }
            public void Run() => _queue.OnReclaimTimer();
        }

        /// <summary>Bytes reserved per descriptor id in the transmit header area (a 12-byte header, 16-aligned).</summary>
        private const int TxHeaderSlot = 16;

        /// <summary>Entries of each indirect table: header + linear area + every fragment.</summary>
        private const int TxIndirectEntries = 2 + Packet.MaxFragments;

        /// <summary>
        /// Without indirect descriptors the queue is stopped when fewer descriptors than this are free after a
        /// send: room for the largest packet (header + linear + every fragment) plus one (Linux 2 + MAX_SKB_FRAGS).
        /// With indirect descriptors every frame takes one slot, so one free slot is enough.
        /// </summary>
        public const int TxStopThreshold = 2 + Packet.MaxFragments;

        /// <summary>
        /// virtio_net_hdr slot for every transmit descriptor id, in DMA memory, used when the header cannot be
        /// pushed in front of the frame. The device reads the slot of the chain's head id.
        /// </summary>
        private DmaRegion _headers;

        /// <summary>Indirect descriptor tables of the transmit queue (one per descriptor id), when negotiated.</summary>
        private DmaRegion _indirect;

        /// <summary>Packet whose chain starts at the index, owned by the driver until the device returns it; else null.</summary>
        private Packet[] _packet;

        /// <summary>Frame length (without virtio header) of the packet at the index, counted at completion.</summary>
        private int[] _frameLength;

        /// <summary>Scatter list for one frame: header + linear area + every fragment.</summary>
        private ScatterList _scatter;

        /// <summary>True while the queue is stopped (ring nearly full); <see cref="CanTransmit"/> is false.</summary>
        private bool _stopped;

        /// <summary>Clock reading when the queue last stopped (transmit watchdog).</summary>
        private long _stoppedAt;

        /// <summary>Completed packets counted when the queue stopped; unchanged at the watchdog means no progress.</summary>
        private long _completedAtStop;

        /// <summary>Nesting depth of transmit batches: kicks are held back until the outermost batch ends.</summary>
        private int _batchDepth;

        /// <summary>Chains added while a batch was open and not yet announced to the device.</summary>
        private bool _kickPending;

        /// <summary>Header may be pushed into the frame's headroom (VERSION_1 or ANY_LAYOUT, and the option).</summary>
        private bool _canPush;

        /// <summary>Free descriptors below which the queue stops (1 with indirect descriptors).</summary>
        private int _stopThreshold = TxStopThreshold;

        /// <summary>Takes <paramref name="ring"/> and makes the header slots, packet pool and per-id arrays (first start only).</summary>
        public bool Allocate(Virtqueue ring)
        {
            _ring = ring;
            int ringSize = ring.Size;
            _headerLength = _device.HeaderLength;
            _features = _device.NegotiatedFeatures;
            int headerPages = (ringSize * TxHeaderSlot + DmaPage.Size - 1) / DmaPage.Size;
            if (!_platform.Dma.TryAllocateContiguous(headerPages, out _headers))
            {
                return false;
            }
            _packet = new Packet[ringSize];
            _frameLength = new int[ringSize];
            _scatter = new ScatterList(TxIndirectEntries);
            int packets = _options.TxPackets > 0 ? _options.TxPackets : 2 * ringSize;
            Packets = PacketPool.Create(_platform.Pages, packets);
            if (Packets == null)
            {
                return false;
            }
            if (Has(VirtioFeatures.IndirectDescriptors))
            {
                int pages = (ringSize * TxIndirectEntries * 16 + DmaPage.Size - 1) / DmaPage.Size;
                if (!_platform.Dma.TryAllocateContiguous(pages, out _indirect))
                {
                    return false;
                }
                _ring.SetIndirectTables(_indirect, TxIndirectEntries);
                _stopThreshold = 1;
            }
            _canPush = _options.TxHeaderPush
                && (Has(VirtioFeatures.Version1) || Has(VirtioFeatures.AnyLayout));
            return true;
        }

        public bool CanTransmit => _device.IsRunning && !_stopped;

        /// <summary>True while the queue is stopped (ring nearly full).</summary>
        public bool Stopped => _stopped;

        /// <summary>VIRTIO_NET_F_CSUM negotiated: the device completes checksums of NEEDS_CSUM frames.</summary>
        public bool SupportsChecksumOffload => Has(VirtioNetFeatures.Csum);

        /// <summary>HOST_TSO4 negotiated: the device segments TCP/IPv4 packets up to 64 KiB.</summary>
        public int MaxTsoBytes => Has(VirtioNetFeatures.HostTso4) ? MaxTsoPacket : 0;

        /// <summary>HOST_TSO6 negotiated: the device segments TCP/IPv6 packets up to 64 KiB.</summary>
        public int MaxTso6Bytes => Has(VirtioNetFeatures.HostTso6) ? MaxTsoPacket : 0;

        /// <summary>Largest IPv4 packet handed to the device for segmentation (the IP total length field's limit).</summary>
        public const int MaxTsoPacket = 65535;

        /// <summary>
        /// Queues one frame (no copy). The virtio header goes into the frame's headroom when it can (Linux
        /// can_push: header and linear area are one descriptor), else into the head id's header slot; a frame of
        /// more than one descriptor takes one ring slot through an indirect table when negotiated. On true the
        /// driver owns the packet and frees it when the device has sent it; on false (stopped, ring full, not
        /// running, empty frame) the caller keeps it, unchanged. Notifies the device at once unless a batch is open.
        /// </summary>
        public bool Transmit(Packet frame)
        {
            if (!_device.IsRunning || _stopped || frame == null || frame.Length == 0)
            {
                Stats.Busy++;
                return false;
            }
            // Linux start_xmit: reclaim finished buffers first, so the ring rarely fills.
            Reclaim();
            if (!PrepareOffloads(frame))
            {
                // A segmentation request the device cannot honour: dropped (the stack only asks when offered).
                Stats.OffloadErrors++;
                Stats.Dropped++;
                frame.Free();
                return true;
            }
            int segments = frame.SegmentCount;
            int hdr = _headerLength;
            int frameLength = frame.Length;
            int linear = frame.LinearLength;
            bool push = _canPush && frame.Headroom >= hdr && ((frame.DataPhysical - (ulong)hdr) & 1) == 0;
            // Descriptors: header (own, or pushed in front of the linear part) + separate linear part + fragments.
            int count = 1 + (!push && linear > 0 ? 1 : 0);
            for (int s = 1; s < segments; s++)
            {
                int length;
                frame.Segment(s, out length);
                if (length > 0)
                {
                    count++;
                }
            }
            int slots = count > 1 && _ring.IndirectEntries >= count ? 1 : count;
            if (count > _scatter.Capacity || slots > _ring.FreeCount)
            {
                Stats.Busy++;
                if (slots > _ring.FreeCount)
                {
                    StopQueue();
                }
                return false;
            }
            int head = _ring.NextHead;
            ScatterList list = _scatter;
            list.Clear();
            if (push)
            {
                // Offsets in the header are relative to the frame: read them before the push moves the data start.
                int csumStart = frame.ChecksumStart;
                int gsoHeader = TsoHeaderLength(frame, csumStart);
                byte* h = frame.Push(hdr);
                WriteTxHeader(h, frame, csumStart, gsoHeader);
                list.Add(frame.DataPhysical, hdr + linear, false);
            }
            else
            {
                byte* h = _headers.Virtual + head * TxHeaderSlot;
                WriteTxHeader(h, frame, frame.ChecksumStart, TsoHeaderLength(frame, frame.ChecksumStart));
                list.Add(_headers.Physical + (ulong)(head * TxHeaderSlot), hdr, false);
                if (linear > 0)
                {
                    list.Add(frame.DataPhysical, linear, false);
                }
            }
            for (int s = 1; s < segments; s++)
            {
                int length;
                frame.Segment(s, out length);
                if (length > 0)
                {
                    list.Add(frame.SegmentPhysical(s), length, false);
                }
            }
            ushort added;
            bool ok = slots == 1 && list.Count > 1
                ? _ring.TryAddIndirect(list, out added)
                : _ring.TryAdd(list, out added);
            if (!ok)
            {
                if (push)
                {
                    frame.Pull(hdr);
                }
                Stats.Busy++;
                return false;
            }
            _packet[added] = frame;
            _frameLength[added] = frameLength;
            if (_limit != null)
            {
                _limit.Queued(frameLength);
                if (_limit.OverLimit && !_limited)
                {
                    _limited = true;
                    Stats.LimitStops++;
                }
            }
            if (push)
            {
                Stats.PushedHeaders++;
            }
            if (slots == 1 && list.Count > 1)
            {
                Stats.IndirectFrames++;
            }
            if ((frame.Flags & Packet.FlagNeedsChecksum) != 0)
            {
                Stats.ChecksumPartial++;
                if ((frame.Flags & Packet.FlagTcpSegmentation) != 0)
                {
                    Stats.GsoFrames++;
                }
            }
            if (_batchDepth > 0)
            {
                _kickPending = true;
            }
            else
            {
                Kick();
                ArmCompletion();
            }
            if (_ring.FreeCount < _stopThreshold)
            {
                StopQueue();
            }
            return true;
        }

        /// <summary>
        /// Opens a transmit batch: frames queued until the matching <see cref="EndTransmitBatch"/> share one
        /// notification (Linux xmit_more). The poll opens one around packet delivery, so replies sent by the
        /// stack while receiving go out with a single kick.
        /// </summary>
        public void BeginTransmitBatch()
        {
            _batchDepth++;
        }

        /// <summary>Closes a batch; the outermost close notifies the device once if anything was queued.</summary>
        public void EndTransmitBatch()
        {
            if (_batchDepth > 0)
            {
                _batchDepth--;
            }
            if (_batchDepth == 0 && _kickPending)
            {
                _kickPending = false;
                Kick();
                ArmCompletion();
            }
        }

        internal void Kick()
        {
            if (_device.IsRunning && _ring.KickPrepare())
            {
                _transport.NotifyQueue(_ring.QueueIndex);
                Stats.Kicks++;
            }
        }

        /// <summary>
        /// While packets are outstanding, make sure they are freed even when nothing else runs the poll. With a
        /// quarter of the ring or more in flight (a bulk sender), a completion interrupt after about three quarters
        /// of them (Linux virtqueue_enable_cb_delayed). With fewer (ACKs and replies, which the next receive poll
        /// reclaims anyway), no interrupt: a lazy timer (<see cref="VirtioNetOptions.TxLazyReclaimNanoseconds"/>)
        /// reclaims them and asks for the interrupt only if some are still outstanding then. A TCP receiver sends an
        /// ACK per poll; a completion interrupt for each woke the guest and ran a second poll per received batch.
        /// </summary>
        internal void ArmCompletion()
        {
            if (!_device.IsRunning || _ring.InFlight == 0 || !_ring.CallbacksDisabled)
            {
                return;
            }
            // Not with packets handled in the interrupt handler: the timer runs from the main loop, which would
            // then race the handler on the ring and the pools.
            long lazy = _options.ProcessInInterrupt ? 0 : _options.TxLazyReclaimNanoseconds;
            if (lazy > 0 && !_stopped && !_limited && _ring.InFlight < _ring.Size / 4)
            {
                if (!_reclaimTimerArmed)
                {
                    _reclaimTimerArmed = true;
                    _platform.Timers.Start(_reclaimTimer, Duration.FromNanoseconds(lazy));
                }
                return;
            }
            RequestCompletionInterrupt();
        }

        private void OnReclaimTimer()
        {
            _reclaimTimerArmed = false;
            if (!_device.IsRunning)
            {
                return;
            }
            Stats.LazyReclaims++;
            Reclaim();
            if (_ring.InFlight > 0 && _ring.CallbacksDisabled)
            {
                RequestCompletionInterrupt();
            }
        }

        private void RequestCompletionInterrupt()
        {
            if (!_ring.EnableCallbacksDelayed())
            {
                _ring.DisableCallbacks();
                _device.SchedulePoll(_pair);
            }
        }

        /// <summary>Stops the queue (Linux check_sq_full_and_disable) and starts the watchdog.</summary>
        internal void StopQueue()
        {
            if (_stopped)
            {
                return;
            }
            _stopped = true;
            Stats.Stops++;
            _stoppedAt = _platform.Clock.NowNanoseconds;
            _completedAtStop = Stats.Packets;
            _platform.Timers.Start(_watchdogTimer, Duration.FromNanoseconds(_options.TxTimeoutNanoseconds));
            if (!_ring.EnableCallbacksDelayed())
            {
                // Completions already arrived: reclaim now, maybe restart at once.
                _ring.DisableCallbacks();
                Reclaim();
            }
        }

        private void WakeQueue()
        {
            _stopped = false;
            Stats.Wakes++;
            _platform.Timers.Cancel(_watchdogTimer);
        }

        /// <summary>Frees every packet the device has finished sending (Linux free_old_xmit); wakes a stopped queue.</summary>
        internal void Reclaim()
        {
            if (_ring == null)
            {
                return;
            }
            long completedBytes = 0;
            while (true)
            {
                ushort head;
                int length;
                UsedResult result = _ring.TryGetUsed(out head, out length);
                if (result == UsedResult.Empty)
                {
                    break;
                }
                if (result == UsedResult.Broken)
                {
                    _device.RequestReset();
                    break;
                }
                if (result == UsedResult.BadId)
                {
                    Stats.BadIds++;
                    continue;
                }
                Packet packet = _packet[head];
                _packet[head] = null;
                if (packet != null)
                {
                    Stats.Packets++;
                    Stats.Bytes += _frameLength[head];
                    completedBytes += _frameLength[head];
                    packet.Free();
                }
            }
            if (_limit != null && completedBytes > 0)
            {
                _limit.Completed(completedBytes, _platform.Clock.NowNanoseconds);
                if (_limited && !_limit.OverLimit)
                {
                    _limited = false;
                }
            }
            if (_stopped && _ring.FreeCount >= _stopThreshold)
            {
                WakeQueue();
            }
        }

        /// <summary>
        /// Watchdog (Linux dev_watchdog → ndo_tx_timeout): the queue stayed stopped for the timeout without a
        /// completion. Counted; the device is notified again and the watchdog re-armed.
        /// </summary>
        internal void OnWatchdog()
        {
            if (!_device.IsRunning || !_stopped)
            {
                return;
            }
            Reclaim();
            if (!_stopped)
            {
                return;
            }
            long now = _platform.Clock.NowNanoseconds;
            if (Stats.Packets == _completedAtStop && now - _stoppedAt >= _options.TxTimeoutNanoseconds)
            {
                Stats.Timeouts++;
                _transport.NotifyQueue(_ring.QueueIndex);
                Stats.Kicks++;
            }
            _stoppedAt = now;
            _completedAtStop = Stats.Packets;
            _platform.Timers.Start(_watchdogTimer, Duration.FromNanoseconds(_options.TxTimeoutNanoseconds));
        }
    }
}
