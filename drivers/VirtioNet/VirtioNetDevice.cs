using System.Runtime.CompilerServices;
using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// virtio-net driver over any <see cref="IVirtioTransport"/>. The generic virtio start-up (reset, status
    /// handshake, feature negotiation, consistent configuration reads, vectors, queue set-up, teardown) is the
    /// shared <see cref="VirtioDevice"/> core; this class keeps what is specific to a network card: the feature
    /// choice, the receive mode, the configuration fields, queue pairs and the NAPI-style poll.
    /// <para>
    /// Queues are objects, as in Linux drivers/net/virtio_net.c: a <see cref="ReceiveQueue"/> (ring, page pool,
    /// refill, NAPI state, counters) and a <see cref="SendQueue"/> (ring, header slots, stop/wake, counters) per
    /// pair, so more pairs are a loop over <see cref="QueuePairs"/>. Queue 2n receives, 2n + 1 transmits.
    /// </para>
    /// Threading: <see cref="Transmit"/>, the poll, timers and configuration work run in the kernel main loop;
    /// the interrupt handlers only disable callbacks and schedule the poll (except in the
    /// <see cref="VirtioNetOptions.ProcessInInterrupt"/> ablation).
    /// Files: this one (start-up, interrupts, poll), <c>.Shutdown.cs</c> (stop, reset recovery), <c>.Configuration.cs</c> (features, config space),
    /// <c>.Statistics.cs</c>, <c>.Control.cs</c> (control virtqueue), ReceiveQueue*, SendQueue*.
    /// </summary>
    public sealed unsafe partial class VirtioNetDevice : INetDevice, IMulticastFilter
    {
        /// <summary>virtio device id of a network card ("Device Types").</summary>
        public const int DeviceType = 1;

        /// <summary>Queue numbers of the first pair.</summary>
        public const int RxQueueIndex = 0;
        public const int TxQueueIndex = 1;

        private const int DefaultMtu = 1500;
        private const int MinMtu = 68;
        private const string Name = "virtio-net";

        private readonly IVirtioTransport _transport;
        private readonly VirtioDevice _core;
        private readonly VirtioNetPlatform _platform;
        private readonly VirtioNetOptions _options;
        private readonly ConfigInterrupt _configInterrupt;
        private readonly ConfigWork _configWork;
        private readonly int _configHandle;

        /// <summary>Queue pairs in use (one; more is a loop over these arrays).</summary>
        public const int QueuePairs = 1;
        private readonly ReceiveQueue[] _receiveQueues = new ReceiveQueue[QueuePairs];
        private readonly SendQueue[] _sendQueues = new SendQueue[QueuePairs];

        /// <summary>The first pair, kept in fields for the per-packet paths.</summary>
        private readonly ReceiveQueue _rq;
        private readonly SendQueue _sq;

        private readonly byte[] _mac = new byte[6];

        /// <summary>Features asked for on the first start; asked for again after a recovery reset.</summary>
        private ulong _wantedFeatures;

        /// <summary>Every feature the options asked for, whether or not the device offers it (see <see cref="NotOfferedFeatures"/>).</summary>
        private ulong _askedFeatures;

        /// <summary>True between DRIVER_OK and shutdown/reset: queues may be kicked and polled.</summary>
        private bool _running;

        /// <summary>Set when a queue reported an impossible used index (or the device asked for a reset).</summary>
        private bool _resetPending;

        /// <summary>True once rings, pools and per-descriptor arrays exist (first successful start).</summary>
        private bool _resourcesReady;

        private long _configInterrupts;
        private long _deviceResets;

        public VirtioNetDevice(IVirtioTransport transport, VirtioNetPlatform platform, VirtioNetOptions options)
        {
            _transport = transport;
            _platform = platform;
            _options = options ?? new VirtioNetOptions();
            if (_options.Budget <= 0)
            {
                _options.Budget = 64;
            }
            _core = new VirtioDevice(transport, platform.Dma, platform.Log);
            _configInterrupt = new ConfigInterrupt(this);
            _configWork = new ConfigWork(this);
            _configHandle = platform.Work.Register(_configWork);
            for (int p = 0; p < QueuePairs; p++)
            {
                _receiveQueues[p] = new ReceiveQueue(this, p, _options, platform);
                _sendQueues[p] = new SendQueue(this, p, transport, _options, platform);
            }
            _rq = _receiveQueues[0];
            _sq = _sendQueues[0];
            CreateControl();
            State = VirtioNetState.Created;
            Mtu = DefaultMtu;
        }

        /// <summary>Life-cycle state.</summary>
        public VirtioNetState State { get; private set; }

        /// <summary>The device-independent virtio core (status, features, queues).</summary>
        public VirtioDevice Core => _core;

        /// <summary>Features both sides agreed on.</summary>
        public ulong NegotiatedFeatures => _core.NegotiatedFeatures;

        /// <summary>Features the device offered at the last start.</summary>
        public ulong OfferedFeatures => _core.OfferedFeatures;

        /// <summary>
        /// Features this driver would have used (given its options) that the device did not offer: what
        /// <c>link</c> reports with the fallback taken for each.
        /// </summary>
        public ulong NotOfferedFeatures => _askedFeatures & ~OfferedFeatures;

        /// <summary>True when the last start failed because the device cleared FEATURES_OK.</summary>
        public bool FeaturesRefused => _core.FeaturesRefused;

        /// <summary>Receive buffer shape chosen from the negotiated features.</summary>
        public ReceiveMode Mode { get; private set; }

        /// <summary>Bytes of virtio_net_hdr in front of every frame (12 or 10).</summary>
        public int HeaderLength { get; private set; }

        /// <summary>True when the device may send packets larger than 1514 bytes (GUEST_TSO or MTU &gt; 1500).</summary>
        internal bool BigPackets { get; private set; }

        /// <summary>True while the queues may be kicked and polled.</summary>
        internal bool IsRunning
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _running; }
        }

        /// <summary>Receive queue <paramref name="pair"/>.</summary>
        public ReceiveQueue ReceiveQueue(int pair) => _receiveQueues[pair];

        /// <summary>Send queue <paramref name="pair"/>.</summary>
        public SendQueue SendQueue(int pair) => _sendQueues[pair];

        /// <summary>The first receive virtqueue (for tests and diagnostics).</summary>
        public Virtqueue RxQueue => _rq.Ring;

        /// <summary>The first transmit virtqueue (for tests and diagnostics).</summary>
        public Virtqueue TxQueue => _sq.Ring;

        /// <summary>Receive page pool of the first queue.</summary>
        public PagePool RxPagePool => _rq.Pages;

        /// <summary>Packets built on receive (first queue).</summary>
        public PacketPool RxPackets => _rq.Packets;

        /// <summary>Current mergeable buffer length (header included) of the first queue.</summary>
        public int MergeableBufferLength => _rq.MergeableBufferLength;

        /// <summary>Most pages of one large mergeable receive buffer (first queue; 0: page-sized buffers only).</summary>
        public int RxLargeBufferPagesMax => _rq.LargeBufferPagesMax;

        /// <summary>Receive buffers posted to the device right now (first queue).</summary>
        public int RxBuffersPosted => _rq.BuffersPosted;

        /// <summary>Options given at construction.</summary>
        public VirtioNetOptions Options => _options;

        // ---- INetDevice ----

        public void GetMacAddress(byte[] destination)
        {
            for (int i = 0; i < 6; i++)
            {
                destination[i] = _mac[i];
            }
        }

        public int Mtu { get; private set; }

        public bool LinkUp { get; private set; }

        public PacketPool TransmitPackets => _sq.Packets;

        public IPacketReceiver Receiver { get; set; }

        /// <summary>Optional XDP-like hook that sees raw frames before packets are built.</summary>
        public IRawReceiveHook RawReceiveHook { get; set; }

        public bool CanTransmit => _running && !_sq.Stopped && !_sq.OverLimit;

        /// <summary>VIRTIO_NET_F_CSUM negotiated: the device completes checksums of NEEDS_CSUM frames.</summary>
        public bool SupportsChecksumOffload => Has(VirtioNetFeatures.Csum);

        /// <summary>HOST_TSO4 negotiated: the device segments TCP/IPv4 packets up to 64 KiB.</summary>
        public int MaxTsoBytes => Has(VirtioNetFeatures.HostTso4) ? MaxTsoPacket : 0;

        /// <summary>HOST_TSO6 negotiated: the device segments TCP/IPv6 packets up to 64 KiB.</summary>
        public int MaxTso6Bytes => Has(VirtioNetFeatures.HostTso6) ? MaxTsoPacket : 0;

        /// <summary>Free descriptors below which a send queue stops without indirect descriptors (see <see cref="VirtioNet.SendQueue.TxStopThreshold"/>).</summary>
        public const int TxStopThreshold = VirtioNet.SendQueue.TxStopThreshold;

        /// <summary>Largest IPv4 packet handed to the device for segmentation (the IP total length field's limit).</summary>
        public const int MaxTsoPacket = 65535;

        /// <summary>Queues one frame on the first send queue (see <see cref="VirtioNet.SendQueue.Transmit"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool Transmit(Packet frame) => _sq.Transmit(frame);

        /// <summary>Opens a transmit batch (Linux xmit_more): kicks wait for the outermost <see cref="EndTransmitBatch"/>.</summary>
        public void BeginTransmitBatch() => _sq.BeginTransmitBatch();

        public void EndTransmitBatch() => _sq.EndTransmitBatch();

        // ---- start-up ----

        /// <summary>
        /// Brings the device up through the core: negotiation, configuration, interrupts, queues, receive
        /// buffers, DRIVER_OK, first kick, one poll scheduled. Allocates everything the driver will ever need.
        /// False on any failure (the device is left FAILED).
        /// </summary>
        public bool Start()
        {
            if (State == VirtioNetState.Running)
            {
                return true;
            }
            if (!Initialize(false))
            {
                State = VirtioNetState.Failed;
                return false;
            }
            State = VirtioNetState.Running;
            return true;
        }

        private bool Initialize(bool recovering)
        {
            if (!recovering)
            {
                _wantedFeatures = ChooseFeatures(_transport.ReadDeviceFeatures());
            }
            if (!_core.BeginInit(_wantedFeatures, recovering, NegotiatedFeatures, Name))
            {
                return false;
            }
            HeaderLength = (NegotiatedFeatures & (VirtioFeatures.Version1 | VirtioNetFeatures.MergeableRxBuffers)) != 0
                ? VirtioNetHeader.SizeWithNumBuffers
                : VirtioNetHeader.SizeLegacy;
            ReadConfiguration();
            if (!recovering)
            {
                ChooseReceiveMode();
            }
            if (!_core.AttachInterrupts(_configInterrupt, QueueHandlers(), Name))
            {
                return false;
            }
            if (!_resourcesReady && !AllocateResources())
            {
                return false;
            }
            if (!SetupQueues())
            {
                if (_core.CanFallBackToIntx)
                {
                    // The device refused a queue vector (Linux vp_find_vqs): start again from reset with INTx.
                    _core.FallBackToIntx();
                    return Initialize(recovering);
                }
                return _core.Fail(Name, ": queue setup refused");
            }
            for (int p = 0; p < QueuePairs; p++)
            {
                // Transmit completions are only wanted while packets are outstanding (see SendQueue.ArmCompletion).
                _sendQueues[p].Ring.DisableCallbacks();
                // Out of memory here is not fatal (Linux virtnet_open): the refill timer keeps retrying.
                _receiveQueues[p].Refill(false);
            }
            _core.FinishInit();
            _running = true;
            for (int p = 0; p < QueuePairs; p++)
            {
                _receiveQueues[p].Kick();
            }
            StartControl();
            // Buffers may have been used before callbacks were on: no interrupt would announce them.
            SchedulePoll();
            return true;
        }

        /// <summary>Handlers in queue order: receive 2n, transmit 2n + 1, then the control queue.</summary>
        private IInterruptHandler[] QueueHandlers()
        {
            int count = 2 * QueuePairs + (HasControlQueue ? 1 : 0);
            IInterruptHandler[] handlers = new IInterruptHandler[count];
            for (int p = 0; p < QueuePairs; p++)
            {
                handlers[2 * p] = _receiveQueues[p].InterruptHandler;
                handlers[2 * p + 1] = _sendQueues[p].InterruptHandler;
            }
            if (HasControlQueue)
            {
                handlers[2 * QueuePairs] = _controlInterrupt;
            }
            return handlers;
        }

        private bool SetupQueues()
        {
            for (int p = 0; p < QueuePairs; p++)
            {
                if (!_core.SetupQueue(_receiveQueues[p].Ring) || !_core.SetupQueue(_sendQueues[p].Ring))
                {
                    return false;
                }
            }
            return !HasControlQueue || _core.SetupQueue(_controlRing);
        }

        /// <summary>Sizes the rings from what the device allows and makes every array and pool (first start only).</summary>
        private bool AllocateResources()
        {
            for (int p = 0; p < QueuePairs; p++)
            {
                int rxSize = _core.ChooseQueueSize(2 * p, _options.RxQueueSize);
                int txSize = _core.ChooseQueueSize(2 * p + 1, _options.TxQueueSize);
                if (rxSize == 0 || txSize == 0)
                {
                    return _core.Fail(Name, ": queue missing or size not allowed");
                }
                Virtqueue rxRing = _core.AllocateQueue(2 * p, rxSize);
                Virtqueue txRing = rxRing != null ? _core.AllocateQueue(2 * p + 1, txSize) : null;
                if (txRing == null)
                {
                    _core.FreeQueue(rxRing);
                    return _core.Fail(Name, ": no memory for the rings");
                }
                if (!_receiveQueues[p].Allocate(rxRing) || !_sendQueues[p].Allocate(txRing))
                {
                    if (_sendQueues[p].Ring != txRing)
                    {
                        _core.FreeQueue(txRing); // the receive queue failed first: the send queue never took its ring
                    }
                    ReleaseRingMemory();
                    ReleasePools();
                    return _core.Fail(Name, ": no memory for packet pools");
                }
            }
            if (!AllocateControl())
            {
                // The queues' pools were made already: they go back with the rings.
                ReleaseRingMemory();
                ReleasePools();
                return _core.Fail(Name, ": no memory for the control queue");
            }
            _resourcesReady = true;
            return true;
        }

        private void ReleaseRingMemory()
        {
            for (int p = 0; p < QueuePairs; p++)
            {
                _core.FreeQueue(_receiveQueues[p].Ring);
                _core.FreeQueue(_sendQueues[p].Ring);
                _receiveQueues[p].ReleaseDma();
                _sendQueues[p].ReleaseDma();
            }
            ReleaseControl();
        }

        // ---- interrupts and deferred work ----

        /// <summary>Schedules every queue pair's NAPI poll (start-up, reset).</summary>
        internal void SchedulePoll()
        {
            for (int p = 0; p < QueuePairs; p++)
            {
                _receiveQueues[p].ScheduleNapi();
            }
        }

        /// <summary>Schedules the NAPI poll of queue pair <paramref name="pair"/>.</summary>
        internal void SchedulePoll(int pair)
        {
            _receiveQueues[pair].ScheduleNapi();
        }

        /// <summary>Receive-queue interrupt (Linux virtqueue_napi_schedule): disable callbacks, schedule the poll.</summary>
        internal bool OnReceiveInterrupt(ReceiveQueue queue)
        {
            if (_options.ProcessInInterrupt)
            {
                PollInInterrupt();
                return true;
            }
            if (queue.Ring != null)
            {
                queue.Ring.DisableCallbacks();
            }
            queue.ScheduleNapi();
            return true;
        }

        private bool OnConfigInterrupt()
        {
            _configInterrupts++;
            _platform.Work.Schedule(_configHandle);
            return true;
        }

        /// <summary>Configuration change (from the main loop): link status, announce, or a device asking to be reset.</summary>
        private void OnConfigWork()
        {
            if (State != VirtioNetState.Running)
            {
                return;
            }
            if (_core.NeedsReset)
            {
                Recover();
                return;
            }
            ReadConfiguration();
            HandleAnnounce();
        }

        /// <summary>
        /// The NAPI poll (Linux virtnet_poll), per queue pair: at most <see cref="VirtioNetOptions.Budget"/>
        /// packets, transmit reclaim, refill, then re-arm: enable callbacks, full barrier, re-check the used
        /// index, and poll again if buffers slipped in (no wakeup is lost).
        /// </summary>
        public void Poll()
        {
            for (int p = 0; p < QueuePairs; p++)
            {
                PollPair(p);
            }
        }

        /// <summary>One queue pair's NAPI poll (the pair's work item runs it; see <see cref="Poll"/>).</summary>
        internal void PollPair(int pair)
        {
            if (_resetPending && State == VirtioNetState.Running)
            {
                Recover();
                return;
            }
            if (!_running)
            {
                return;
            }
            int budget = _options.Budget;
            ReceiveQueue rq = _receiveQueues[pair];
            SendQueue sq = _sendQueues[pair];
            rq.Stats.Polls++;
            sq.BeginTransmitBatch();
            int received = rq.ReceiveBatch(budget);
            sq.Reclaim();
            if (rq.NeedsRefill)
            {
                rq.Refill(true);
            }
            if (Receiver != null)
            {
                Receiver.ReceiveBatchDone();
            }
            sq.EndTransmitBatch();
            if (_resetPending)
            {
                SchedulePoll();
                return;
            }
            sq.ArmCompletion();
            if (pair == 0)
            {
                PollControl();
            }
            if (received >= budget || rq.CompleteAndRecheck())
            {
                rq.ScheduleNapi();
            }
        }

        /// <summary>Ablation: the whole receive path inside the interrupt handler.</summary>
        private void PollInInterrupt()
        {
            if (!_running)
            {
                return;
            }
            for (int p = 0; p < QueuePairs; p++)
            {
                ReceiveQueue rq = _receiveQueues[p];
                SendQueue sq = _sendQueues[p];
                rq.Stats.Polls++;
                sq.BeginTransmitBatch();
                do
                {
                    rq.Ring.DisableCallbacks();
                    rq.ReceiveBatch(rq.Ring.Size);
                    sq.Reclaim();
                    if (rq.NeedsRefill)
                    {
                        rq.Refill(true);
                    }
                }
                while (_running && !rq.Ring.EnableCallbacks());
                if (Receiver != null)
                {
                    Receiver.ReceiveBatchDone();
                }
                sq.EndTransmitBatch();
                sq.ArmCompletion();
            }
            if (_resetPending)
            {
                SchedulePoll();
            }
        }

        private sealed class ConfigInterrupt : IInterruptHandler
        {
            private readonly VirtioNetDevice _device;
            public ConfigInterrupt(VirtioNetDevice device) { _device = device; }
            public bool HandleInterrupt() => _device.OnConfigInterrupt();
        }

        private sealed class ConfigWork : IWorkItem
        {
            private readonly VirtioNetDevice _device;
            public ConfigWork(VirtioNetDevice device) { _device = device; }
            public void Run() => _device.OnConfigWork();
        }
    }
}
