using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// virtio-net driver: one receive and one transmit queue over any <see cref="IVirtioTransport"/>.
    /// <para>
    /// Receive follows Linux drivers/net/virtio_net.c: mergeable page-fragment buffers carved from a per-queue
    /// <see cref="PagePool"/> (premapped), sized by an EWMA of packet length; packets are built only when data
    /// arrives (header copy + page fragments); fallbacks for small buffers and big page chains; a NAPI-style
    /// poll with a budget, re-armed with prepare → complete → re-check; refill when the ring is more than half
    /// empty and a retry timer when memory runs out; every device-supplied value is checked and counted.
    /// </para>
    /// Threading: <see cref="Transmit"/>, the poll, timers and configuration work run in the kernel main loop;
    /// the interrupt handlers only disable callbacks and schedule the poll (except in the
    /// <see cref="VirtioNetOptions.ProcessInInterrupt"/> ablation).
    /// Files: this one (life cycle, negotiation, interrupts, poll), <c>.Receive.cs</c>, <c>.Transmit.cs</c>,
    /// <c>.Statistics.cs</c>.
    /// </summary>
    public sealed unsafe partial class VirtioNetDevice : INetDevice
    {
        /// <summary>Queue numbers (no control queue, no multiqueue).</summary>
        public const int RxQueueIndex = 0;
        public const int TxQueueIndex = 1;

        private const int EthernetHeaderLength = 14;
        private const int DefaultMtu = 1500;
        private const int MinMtu = 68;

        private readonly IVirtioTransport _transport;
        private readonly VirtioNetPlatform _platform;
        private readonly VirtioNetOptions _options;

        /// <summary>Handlers the transport calls in interrupt context (MSI-X vectors 1 and 2, or via the ISR).</summary>
        private readonly RxInterrupt _rxInterrupt;
        private readonly TxInterrupt _txInterrupt;
        private readonly ConfigInterrupt _configInterrupt;

        /// <summary>Work items and their scheduler/timer handles, registered once in the constructor.</summary>
        private readonly PollWork _pollWork;
        private readonly ConfigWork _configWork;
        private readonly RefillTimer _refillTimerWork;
        private readonly TxWatchdog _txWatchdogWork;
        private readonly int _pollHandle;
        private readonly int _configHandle;
        private readonly int _refillTimer;
        private readonly int _txWatchdogTimer;

        private SplitVirtqueue _rxQueue;
        private SplitVirtqueue _txQueue;

        /// <summary>Hardware address: from config space with VIRTIO_NET_F_MAC, otherwise made up (locally administered).</summary>
        private readonly byte[] _mac = new byte[6];

        /// <summary>Features we asked for on the first start; asked for again after a recovery reset.</summary>
        private ulong _wantedFeatures;

        /// <summary>Status bits written so far in the current initialisation.</summary>
        private byte _status;

        /// <summary>True between DRIVER_OK and shutdown/reset: queues may be kicked and polled.</summary>
        private bool _running;

        /// <summary>Set when a queue reported an impossible used index (or the device asked for a reset).</summary>
        private bool _resetPending;

        /// <summary>True once rings, pools and per-descriptor arrays exist (first successful start).</summary>
        private bool _resourcesReady;

        private bool _interruptsAttached;

        /// <summary>Set when the device refused a queue's MSI-X vector: interrupts are routed over INTx from then on.</summary>
        private bool _msixRefused;

        public VirtioNetDevice(IVirtioTransport transport, VirtioNetPlatform platform, VirtioNetOptions options)
        {
            _transport = transport;
            _platform = platform;
            _options = options ?? new VirtioNetOptions();
            if (_options.Budget <= 0)
            {
                _options.Budget = 64;
            }
            _rxInterrupt = new RxInterrupt(this);
            _txInterrupt = new TxInterrupt(this);
            _configInterrupt = new ConfigInterrupt(this);
            _pollWork = new PollWork(this);
            _configWork = new ConfigWork(this);
            _refillTimerWork = new RefillTimer(this);
            _txWatchdogWork = new TxWatchdog(this);
            _pollHandle = platform.Work.Register(_pollWork);
            _configHandle = platform.Work.Register(_configWork);
            _refillTimer = platform.Timers.CreateTimer(_refillTimerWork);
            _txWatchdogTimer = platform.Timers.CreateTimer(_txWatchdogWork);
            State = VirtioNetState.Created;
            Mtu = DefaultMtu;
        }

        /// <summary>Life-cycle state.</summary>
        public VirtioNetState State { get; private set; }

        /// <summary>Features both sides agreed on.</summary>
        public ulong NegotiatedFeatures { get; private set; }

        /// <summary>Features the device offered at the last start.</summary>
        public ulong OfferedFeatures { get; private set; }

        /// <summary>True when the last start failed because the device cleared FEATURES_OK.</summary>
        public bool FeaturesRefused { get; private set; }

        /// <summary>Receive buffer shape chosen from the negotiated features.</summary>
        public ReceiveMode Mode { get; private set; }

        /// <summary>Bytes of virtio_net_hdr in front of every frame (12 or 10).</summary>
        public int HeaderLength { get; private set; }

        /// <summary>The receive queue (for tests and diagnostics).</summary>
        public SplitVirtqueue RxQueue => _rxQueue;

        /// <summary>The transmit queue (for tests and diagnostics).</summary>
        public SplitVirtqueue TxQueue => _txQueue;

        /// <summary>Receive page pool (premapped pages; recycling per <see cref="VirtioNetOptions.PagePoolRecycling"/>).</summary>
        public PagePool RxPagePool { get; private set; }

        /// <summary>Packets built on receive come from here.</summary>
        public PacketPool RxPackets { get; private set; }

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

        public PacketPool TransmitPackets { get; private set; }

        public IPacketReceiver Receiver { get; set; }

        /// <summary>Optional XDP-like hook that sees raw frames before packets are built.</summary>
        public IRawReceiveHook RawReceiveHook { get; set; }

        // ---- start-up ----

        /// <summary>
        /// Brings the device up: reset, ACKNOWLEDGE, DRIVER, feature negotiation, FEATURES_OK (re-read; refusal →
        /// FAILED), configuration, interrupts, queues, receive buffers, DRIVER_OK, first kick, one poll scheduled.
        /// Allocates everything the driver will ever need. False on any failure (the device is left FAILED).
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
            FeaturesRefused = false;
            if (!_transport.Reset())
            {
                return Fail("virtio-net: device does not reset");
            }
            _status = VirtioStatus.Acknowledge;
            _transport.WriteStatus(_status);
            _status |= VirtioStatus.Driver;
            _transport.WriteStatus(_status);

            ulong offered = _transport.ReadDeviceFeatures();
            OfferedFeatures = offered;
            if (!recovering)
            {
                _wantedFeatures = ChooseFeatures(offered);
            }
            ulong features = _wantedFeatures & offered;
            if (!_transport.IsLegacy && (features & VirtioFeatures.Version1) == 0)
            {
                return Fail("virtio-net: modern device without VERSION_1");
            }
            _transport.WriteDriverFeatures(features);
            if (!_transport.IsLegacy)
            {
                _status |= VirtioStatus.FeaturesOk;
                _transport.WriteStatus(_status);
                if ((_transport.ReadStatus() & VirtioStatus.FeaturesOk) == 0)
                {
                    FeaturesRefused = true;
                    return Fail("virtio-net: device refused FEATURES_OK");
                }
            }
            if (recovering && features != NegotiatedFeatures)
            {
                return Fail("virtio-net: features changed across reset");
            }
            NegotiatedFeatures = features;
            HeaderLength = (features & (VirtioFeatures.Version1 | VirtioNetFeatures.MergeableRxBuffers)) != 0
                ? VirtioNetHeader.SizeWithNumBuffers
                : VirtioNetHeader.SizeLegacy;
            ReadConfiguration();
            if (!recovering)
            {
                ChooseReceiveMode();
            }

            if (!_interruptsAttached)
            {
                IInterruptHandler[] queueHandlers = new IInterruptHandler[2];
                queueHandlers[RxQueueIndex] = _rxInterrupt;
                queueHandlers[TxQueueIndex] = _txInterrupt;
                if (!_transport.AttachInterrupts(_configInterrupt, queueHandlers, !_msixRefused))
                {
                    return Fail("virtio-net: no interrupt");
                }
                _interruptsAttached = true;
            }
            if (!_resourcesReady && !AllocateResources())
            {
                return false;
            }
            if (!_transport.SetupQueue(RxQueueIndex, _rxQueue.Size, _rxQueue.DescriptorPhysical, _rxQueue.AvailPhysical, _rxQueue.UsedPhysical)
                || !_transport.SetupQueue(TxQueueIndex, _txQueue.Size, _txQueue.DescriptorPhysical, _txQueue.AvailPhysical, _txQueue.UsedPhysical))
            {
                if (_transport.UsesMsix && !_msixRefused)
                {
                    // The device refused a queue vector (Linux vp_find_vqs): start again from reset with INTx.
                    _msixRefused = true;
                    _transport.Reset();
                    _transport.DetachInterrupts();
                    _interruptsAttached = false;
                    return Initialize(recovering);
                }
                return Fail("virtio-net: queue setup refused");
            }
            // Transmit completions are only wanted while packets are outstanding (see ArmTxCompletion).
            _txQueue.DisableCallbacks();
            // Out of memory here is not fatal (Linux virtnet_open): the refill timer keeps retrying.
            RefillRx(false);
            _status |= VirtioStatus.DriverOk;
            _transport.WriteStatus(_status);
            _running = true;
            KickRx();
            // Buffers may have been used before callbacks were on: no interrupt would announce them.
            SchedulePoll();
            return true;
        }

        private bool Fail(string reason)
        {
            _status |= VirtioStatus.Failed;
            _transport.WriteStatus(_status);
            if (_platform.Log != null)
            {
                _platform.Log.Write(reason);
                _platform.Log.WriteLine();
            }
            return false;
        }

        /// <summary>The subset of <paramref name="offered"/> this driver understands and was asked to use.</summary>
        private ulong ChooseFeatures(ulong offered)
        {
            ulong wanted = VirtioNetFeatures.Mac | VirtioNetFeatures.Status | VirtioNetFeatures.Mtu;
            if (!_transport.IsLegacy)
            {
                wanted |= VirtioFeatures.Version1;
            }
            if (_options.MergeableRxBuffers)
            {
                wanted |= VirtioNetFeatures.MergeableRxBuffers;
            }
            if (_options.EventIndex)
            {
                wanted |= VirtioFeatures.EventIndex;
            }
            if (_options.IndirectDescriptors)
            {
                wanted |= VirtioFeatures.IndirectDescriptors;
            }
            if (_options.TxHeaderPush && _transport.IsLegacy)
            {
                wanted |= VirtioFeatures.AnyLayout;
            }
            if (_options.GuestChecksum || _options.GuestTso)
            {
                wanted |= VirtioNetFeatures.GuestCsum;
            }
            if (_options.TxChecksum || _options.HostTso)
            {
                wanted |= VirtioNetFeatures.Csum;
            }
            ulong result = wanted & offered;
            // HOST_TSO4 depends on CSUM.
            if (_options.HostTso && (result & VirtioNetFeatures.Csum) != 0)
            {
                result |= offered & VirtioNetFeatures.HostTso4;
            }
            // GUEST_TSO4/6 depend on GUEST_CSUM ("Feature bit requirements").
            if (_options.GuestTso && (result & VirtioNetFeatures.GuestCsum) != 0)
            {
                result |= offered & (VirtioNetFeatures.GuestTso4 | VirtioNetFeatures.GuestTso6);
            }
            if (_transport.IsLegacy)
            {
                result &= 0xFFFFFFFFUL;
            }
            return result;
        }

        private bool Has(ulong feature) => (NegotiatedFeatures & feature) != 0;

        /// <summary>Reads MAC, link status and MTU, consistently under config_generation (modern).</summary>
        private void ReadConfiguration()
        {
            uint before, after;
            int mtu = DefaultMtu;
            bool linkUp = true;
            int tries = 0;
            do
            {
                before = _transport.ConfigGeneration;
                if (Has(VirtioNetFeatures.Mac))
                {
                    for (int i = 0; i < 6; i++)
                    {
                        _mac[i] = _transport.ReadConfig8(VirtioNetConfig.Mac + i);
                    }
                }
                if (Has(VirtioNetFeatures.Status))
                {
                    linkUp = (_transport.ReadConfig16(VirtioNetConfig.Status) & VirtioNetConfig.StatusLinkUp) != 0;
                }
                if (Has(VirtioNetFeatures.Mtu))
                {
                    mtu = _transport.ReadConfig16(VirtioNetConfig.Mtu);
                }
                after = _transport.ConfigGeneration;
                tries++;
            }
            while (before != after && tries < 100);
            if (!Has(VirtioNetFeatures.Mac))
            {
                // Locally administered unicast address, stable for this boot.
                long seed = _platform.Clock != null ? _platform.Clock.NowNanoseconds : 0;
                _mac[0] = 0x02;
                _mac[1] = 0x4B;
                _mac[2] = (byte)(seed >> 24);
                _mac[3] = (byte)(seed >> 16);
                _mac[4] = (byte)(seed >> 8);
                _mac[5] = (byte)seed;
            }
            if (mtu < MinMtu)
            {
                mtu = DefaultMtu;
            }
            Mtu = mtu;
            LinkUp = linkUp;
        }

        private void ChooseReceiveMode()
        {
            bool guestGso = Has(VirtioNetFeatures.GuestTso4) || Has(VirtioNetFeatures.GuestTso6);
            _bigPackets = guestGso || Mtu > DefaultMtu;
            if (Has(VirtioNetFeatures.MergeableRxBuffers))
            {
                Mode = ReceiveMode.Mergeable;
            }
            else if (_bigPackets)
            {
                Mode = ReceiveMode.Big;
            }
            else
            {
                Mode = ReceiveMode.Small;
            }
        }

        /// <summary>Sizes the rings from what the device allows and makes every array and pool (first start only).</summary>
        private bool AllocateResources()
        {
            int rxSize = ChooseQueueSize(RxQueueIndex, _options.RxQueueSize);
            int txSize = ChooseQueueSize(TxQueueIndex, _options.TxQueueSize);
            if (rxSize == 0 || txSize == 0)
            {
                return Fail("virtio-net: queue missing or size not a power of two");
            }
            DmaRegion rxRing, txRing, txHeaders;
            if (!_platform.Dma.TryAllocateContiguous(SplitVirtqueue.RingPages(rxSize), out rxRing))
            {
                return Fail("virtio-net: no memory for the receive ring");
            }
            if (!_platform.Dma.TryAllocateContiguous(SplitVirtqueue.RingPages(txSize), out txRing))
            {
                _platform.Dma.FreeContiguous(rxRing);
                return Fail("virtio-net: no memory for the transmit ring");
            }
            int headerPages = (txSize * TxHeaderSlot + DmaPage.Size - 1) / DmaPage.Size;
            if (!_platform.Dma.TryAllocateContiguous(headerPages, out txHeaders))
            {
                _platform.Dma.FreeContiguous(rxRing);
                _platform.Dma.FreeContiguous(txRing);
                return Fail("virtio-net: no memory for transmit headers");
            }
            bool eventIndex = Has(VirtioFeatures.EventIndex);
            _rxQueue = new SplitVirtqueue(RxQueueIndex, rxSize, rxRing, eventIndex);
            _txQueue = new SplitVirtqueue(TxQueueIndex, txSize, txRing, eventIndex);
            _txHeaders = txHeaders;

            if (!AllocateReceiveResources(rxSize) || !AllocateTransmitResources(txSize))
            {
                ReleaseRingMemory();
                return Fail("virtio-net: no memory for packet pools");
            }
            _resourcesReady = true;
            return true;
        }

        private int ChooseQueueSize(int queue, int requested)
        {
            int max = _transport.QueueMaxSize(queue);
            if (!SplitVirtqueue.IsValidSize(max))
            {
                return 0;
            }
            if (_transport.IsLegacy || requested <= 0 || requested >= max || !SplitVirtqueue.IsValidSize(requested))
            {
                return max;
            }
            return requested;
        }

        private void ReleaseRingMemory()
        {
            if (_rxQueue != null)
            {
                _platform.Dma.FreeContiguous(_rxQueue.Memory);
                _rxQueue = null;
            }
            if (_txQueue != null)
            {
                _platform.Dma.FreeContiguous(_txQueue.Memory);
                _txQueue = null;
            }
            if (_txHeaders.IsValid)
            {
                _platform.Dma.FreeContiguous(_txHeaders);
                _txHeaders = default;
            }
            if (_rxIndirect.IsValid)
            {
                _platform.Dma.FreeContiguous(_rxIndirect);
                _rxIndirect = default;
            }
            if (_txIndirect.IsValid)
            {
                _platform.Dma.FreeContiguous(_txIndirect);
                _txIndirect = default;
            }
        }

        // ---- shutdown and recovery ----

        /// <summary>
        /// Shuts the device down: reset (the device stops touching memory), take back every buffer still in the
        /// rings (receive pages to the pool, transmit packets freed), release interrupts, rings and free pool
        /// pages. Returns true when every page and packet went back to the allocator; false when the stack still
        /// holds received packets (call <see cref="ReleaseMemory"/> again after freeing them).
        /// </summary>
        public bool Stop()
        {
            if (State == VirtioNetState.Stopped)
            {
                return ReleaseMemory();
            }
            _running = false;
            _platform.Timers.Cancel(_refillTimer);
            _platform.Timers.Cancel(_txWatchdogTimer);
            _transport.Reset();
            if (_resourcesReady)
            {
                TakeBackAllBuffers();
            }
            if (_interruptsAttached)
            {
                _transport.DetachInterrupts();
                _interruptsAttached = false;
            }
            if (_resourcesReady)
            {
                ReleaseRingMemory();
            }
            State = VirtioNetState.Stopped;
            return ReleaseMemory();
        }

        /// <summary>
        /// Gives free pool pages and packet pools back to the page allocator. True when nothing is left
        /// (receive page pool <c>InFlight == 0</c>, both packet pools destroyed).
        /// </summary>
        public bool ReleaseMemory()
        {
            if (!_resourcesReady)
            {
                return true;
            }
            bool done = true;
            if (RxPagePool != null && RxPagePool.ReleaseFreePages() != 0)
            {
                done = false;
            }
            if (RxPackets != null && !RxPackets.Destroy())
            {
                done = false;
            }
            if (TransmitPackets != null && !TransmitPackets.Destroy())
            {
                done = false;
            }
            return done;
        }

        /// <summary>After a device reset: every descriptor chain still in a ring comes back to the driver.</summary>
        private void TakeBackAllBuffers()
        {
            ushort head;
            while (_rxQueue.DetachUnused(out head))
            {
                ReleaseRxBuffer(head);
                _rxPosted--;
            }
            while (_txQueue.DetachUnused(out head))
            {
                Packet packet = _txPacket[head];
                _txPacket[head] = null;
                if (packet != null)
                {
                    _txDroppedAtReset++;
                    packet.Free();
                }
            }
            ReleaseCarvePage();
            _txStopped = false;
        }

        /// <summary>
        /// The device broke a rule we cannot recover from in place (used index jumped, or it set
        /// DEVICE_NEEDS_RESET): reset it, take every buffer back, and initialise again with the same features.
        /// </summary>
        private void Recover()
        {
            _resetPending = false;
            _deviceResets++;
            _running = false;
            _platform.Timers.Cancel(_refillTimer);
            _platform.Timers.Cancel(_txWatchdogTimer);
            _transport.Reset();
            TakeBackAllBuffers();
            _rxQueue.Reinitialize();
            _txQueue.Reinitialize();
            if (!Initialize(true))
            {
                State = VirtioNetState.Failed;
            }
        }

        private void RequestReset()
        {
            if (!_resetPending)
            {
                _resetPending = true;
                _running = false;
                SchedulePoll();
            }
        }

        // ---- interrupts and deferred work ----

        private void SchedulePoll()
        {
            _platform.Work.Schedule(_pollHandle);
        }

        /// <summary>Receive-queue interrupt: disable callbacks, schedule the poll (Linux virtqueue_napi_schedule).</summary>
        private bool OnRxInterrupt()
        {
            _rxInterrupts++;
            if (_options.ProcessInInterrupt)
            {
                PollInInterrupt();
                return true;
            }
            if (_rxQueue != null)
            {
                _rxQueue.DisableCallbacks();
            }
            SchedulePoll();
            return true;
        }

        /// <summary>Transmit-queue interrupt: completions to reclaim; the poll does it.</summary>
        private bool OnTxInterrupt()
        {
            _txInterrupts++;
            if (_txQueue != null)
            {
                _txQueue.DisableCallbacks();
            }
            SchedulePoll();
            return true;
        }

        private bool OnConfigInterrupt()
        {
            _configInterrupts++;
            _platform.Work.Schedule(_configHandle);
            return true;
        }

        /// <summary>Configuration change (from the main loop): link status, or a device asking to be reset.</summary>
        private void OnConfigWork()
        {
            if (State != VirtioNetState.Running)
            {
                return;
            }
            if ((_transport.ReadStatus() & VirtioStatus.DeviceNeedsReset) != 0)
            {
                Recover();
                return;
            }
            ReadConfiguration();
        }

        /// <summary>
        /// The NAPI poll (Linux virtnet_poll): at most <see cref="VirtioNetOptions.Budget"/> packets, transmit
        /// reclaim, refill (see <see cref="NeedsRefill"/>), then re-arm: enable callbacks, full barrier,
        /// re-check the used index, and poll again if buffers slipped in (no wakeup is lost).
        /// </summary>
        public void Poll()
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
            _polls++;
            int budget = _options.Budget;
            BeginTransmitBatch();
            int received = ReceiveBatch(budget);
            ReclaimTx();
            if (NeedsRefill)
            {
                RefillRx(true);
            }
            if (Receiver != null)
            {
                Receiver.ReceiveBatchDone();
            }
            EndTransmitBatch();
            if (_resetPending)
            {
                SchedulePoll();
                return;
            }
            ArmTxCompletion();
            if (received < budget)
            {
                ushort token = _rxQueue.EnableCallbacksPrepare();
                if (_rxQueue.PollUsed(token))
                {
                    // A buffer arrived between the drain and the enable: its interrupt may be lost, poll again.
                    _rxQueue.DisableCallbacks();
                    _rearmRaces++;
                    SchedulePoll();
                }
            }
            else
            {
                SchedulePoll();
            }
        }

        /// <summary>
        /// Linux virtnet_poll's refill test: more than half of min(budget, ring size) descriptors free. It holds
        /// whenever the ring is more than half empty, and refills in batches (one kick each) of at least
        /// budget/2 buffers, so a burst right after a poll finds the ring nearly full.
        /// </summary>
        private bool NeedsRefill
        {
            get
            {
                int window = _options.Budget < _rxQueue.Size ? _options.Budget : _rxQueue.Size;
                int room = _rxQueue.FreeCount;
                int capped = (_rxMaxPosted - _rxPosted) * _rxDescriptorsPerBuffer;
                if (capped < room)
                {
                    room = capped;
                    window = _rxMaxPosted < window ? _rxMaxPosted : window;
                }
                return room > window / 2 && room >= _rxDescriptorsPerBuffer;
            }
        }

        /// <summary>Ablation: the whole receive path inside the interrupt handler.</summary>
        private void PollInInterrupt()
        {
            if (!_running)
            {
                return;
            }
            _polls++;
            BeginTransmitBatch();
            do
            {
                _rxQueue.DisableCallbacks();
                ReceiveBatch(_rxQueue.Size);
                ReclaimTx();
                if (NeedsRefill)
                {
                    RefillRx(true);
                }
            }
            while (_running && !_rxQueue.EnableCallbacks());
            if (Receiver != null)
            {
                Receiver.ReceiveBatchDone();
            }
            EndTransmitBatch();
            ArmTxCompletion();
            if (_resetPending)
            {
                SchedulePoll();
            }
        }

        private sealed class RxInterrupt : IInterruptHandler
        {
            private readonly VirtioNetDevice _device;
            public RxInterrupt(VirtioNetDevice device) { _device = device; }
            public bool HandleInterrupt() => _device.OnRxInterrupt();
        }

        private sealed class TxInterrupt : IInterruptHandler
        {
            private readonly VirtioNetDevice _device;
            public TxInterrupt(VirtioNetDevice device) { _device = device; }
            public bool HandleInterrupt() => _device.OnTxInterrupt();
        }

        private sealed class ConfigInterrupt : IInterruptHandler
        {
            private readonly VirtioNetDevice _device;
            public ConfigInterrupt(VirtioNetDevice device) { _device = device; }
            public bool HandleInterrupt() => _device.OnConfigInterrupt();
        }

        private sealed class PollWork : IWorkItem
        {
            private readonly VirtioNetDevice _device;
            public PollWork(VirtioNetDevice device) { _device = device; }
            public void Run() => _device.Poll();
        }

        private sealed class ConfigWork : IWorkItem
        {
            private readonly VirtioNetDevice _device;
            public ConfigWork(VirtioNetDevice device) { _device = device; }
            public void Run() => _device.OnConfigWork();
        }

        private sealed class RefillTimer : IWorkItem
        {
            private readonly VirtioNetDevice _device;
            public RefillTimer(VirtioNetDevice device) { _device = device; }
            public void Run() => _device.OnRefillTimer();
        }

        private sealed class TxWatchdog : IWorkItem
        {
            private readonly VirtioNetDevice _device;
            public TxWatchdog(VirtioNetDevice device) { _device = device; }
            public void Run() => _device.OnTxWatchdog();
        }
    }
}
