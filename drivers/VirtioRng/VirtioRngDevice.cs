using System;
using Keel.Drivers.Virtio;
using Keel.Hal;

namespace Keel.Drivers.VirtioRng
{
    /// <summary>
    /// virtio entropy device (virtio "Entropy Device", device id 4; QEMU <c>-device virtio-rng-pci</c>): one
    /// request queue, no feature bits of its own, no configuration. The driver posts device-writable buffers;
    /// the device fills them with random bytes and returns them with the length written. Bytes go to an
    /// <see cref="IEntropySink"/> (the kernel's pool), which says when it has enough: buffers are posted only
    /// on request (start-up and the pool's reseeds), so the device is idle otherwise.
    /// Built on the shared <see cref="VirtioDevice"/> core, split or packed rings alike. Every used id and
    /// length is checked: bad ones are counted and dropped, the buffer goes back; a queue the device broke is
    /// reset and set up again.
    /// </summary>
    public sealed unsafe class VirtioRngDevice : IEntropyDevice, IStatisticsSource
    {
        /// <summary>virtio device id of an entropy source.</summary>
        public const int DeviceType = 4;

        /// <summary>Bytes per request buffer.</summary>
        public const int BufferBytes = 64;

        /// <summary>Request buffers (one DMA page holds them all).</summary>
        public const int Buffers = 4;

        private const int RequestQueue = 0;
        private const string Name = "virtio-rng";

        private readonly VirtioDevice _core;
        private readonly IVirtioTransport _transport;
        private readonly IDmaMemory _dma;
        private readonly IWorkScheduler _work;
        private readonly IEntropySink _sink;
        private readonly QueueInterrupt _queueInterrupt;
        private readonly ConfigInterrupt _configInterrupt;
        private readonly PollWork _pollWork;
        private readonly int _pollHandle;
        private readonly bool _allowPacked;

        private Virtqueue _ring;
        private DmaRegion _page;

        /// <summary>Buffer slot posted under each head id, or -1.</summary>
        private int[] _slotOfHead;

        /// <summary>True while the slot is posted to the device.</summary>
        private readonly bool[] _posted = new bool[Buffers];

        private bool _running;
        private bool _resetPending;

        private long _bytes;
        private long _requests;
        private long _completions;
        private long _interrupts;
        private long _lengthErrors;
        private long _emptyReads;
        private long _badIds;
        private long _resets;

        public VirtioRngDevice(IVirtioTransport transport, IDmaMemory dma, IWorkScheduler work, ITextOutput log, IEntropySink sink, bool allowPacked = true)
        {
            _transport = transport;
            _dma = dma;
            _work = work;
            _sink = sink;
            _allowPacked = allowPacked;
            _core = new VirtioDevice(transport, dma, log);
            _queueInterrupt = new QueueInterrupt(this);
            _configInterrupt = new ConfigInterrupt();
            _pollWork = new PollWork(this);
            _pollHandle = work.Register(_pollWork);
        }

        public VirtioDevice Core => _core;

        /// <summary>The request queue (tests, diagnostics).</summary>
        public Virtqueue Ring => _ring;

        public bool Running => _running;

        /// <summary>Random bytes delivered to the sink.</summary>
        public long BytesDelivered => _bytes;

        /// <summary>
        /// Start-up through the core: reset, ACKNOWLEDGE, DRIVER, features (VERSION_1, optionally RING_PACKED,
        /// EVENT_IDX), FEATURES_OK, interrupts, the request queue, DRIVER_OK, then the first requests.
        /// </summary>
        public bool Start()
        {
            if (!Initialize(false))
            {
                return false;
            }
            RequestEntropy();
            return true;
        }

        private bool Initialize(bool recovering)
        {
            ulong wanted = VirtioFeatures.Version1 | VirtioFeatures.EventIndex;
            if (_allowPacked)
            {
                wanted |= VirtioFeatures.RingPacked;
            }
            if (!_core.BeginInit(wanted, recovering, _core.NegotiatedFeatures, Name))
            {
                return false;
            }
            IInterruptHandler[] queues = new IInterruptHandler[1];
            queues[0] = _queueInterrupt;
            if (!_core.AttachInterrupts(_configInterrupt, queues, Name))
            {
                return false;
            }
            if (_ring == null)
            {
                int size = _core.ChooseQueueSize(RequestQueue, 8);
                if (size == 0)
                {
                    return _core.Fail(Name, ": request queue missing");
                }
                _ring = _core.AllocateQueue(RequestQueue, size);
                if (_ring == null || !_dma.TryAllocateContiguous(1, out _page))
                {
                    return _core.Fail(Name, ": no memory");
                }
                _slotOfHead = new int[size];
                for (int i = 0; i < size; i++)
                {
                    _slotOfHead[i] = -1;
                }
            }
            if (!_core.SetupQueue(_ring))
            {
                if (_core.CanFallBackToIntx)
                {
                    _core.FallBackToIntx();
                    return Initialize(recovering);
                }
                return _core.Fail(Name, ": queue setup refused");
            }
            _core.FinishInit();
            _running = true;
            return true;
        }

        /// <summary>Posts every idle buffer and notifies the device (the pool wants bytes).</summary>
        public void RequestEntropy()
        {
            if (!_running)
            {
                return;
            }
            _requests++;
            int added = 0;
            for (int slot = 0; slot < Buffers; slot++)
            {
                if (!_posted[slot] && Post(slot))
                {
                    added++;
                }
            }
            if (added > 0 && _ring.KickPrepare())
            {
                _transport.NotifyQueue(RequestQueue);
            }
        }

        private bool Post(int slot)
        {
            ushort head;
            if (!_ring.TryAddOne(_page.Physical + (ulong)(slot * BufferBytes), BufferBytes, true, out head))
            {
                return false;
            }
            _slotOfHead[head] = slot;
            _posted[slot] = true;
            return true;
        }

        /// <summary>Takes every filled buffer (main loop): bytes to the sink, checks on every id and length.</summary>
        public void Poll()
        {
            if (_resetPending)
            {
                Recover();
                return;
            }
            if (!_running)
            {
                return;
            }
            bool wantMore = false;
            bool delivered = false;
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
                    _resetPending = true;
                    _work.Schedule(_pollHandle);
                    return;
                }
                if (result == UsedResult.BadId)
                {
                    _badIds++;
                    continue;
                }
                int slot = _slotOfHead[head];
                _slotOfHead[head] = -1;
                if (slot < 0)
                {
                    _badIds++;
                    continue;
                }
                _posted[slot] = false;
                _completions++;
                if (length > BufferBytes)
                {
                    _lengthErrors++;
                    continue;
                }
                if (length == 0)
                {
                    _emptyReads++;
                    continue;
                }
                _bytes += length;
                delivered = true;
                wantMore = _sink.AddEntropy(new ReadOnlySpan<byte>(_page.Virtual + slot * BufferBytes, length));
            }
            if (delivered && wantMore)
            {
                RequestEntropy();
            }
            if (!_ring.EnableCallbacks())
            {
                // Filled meanwhile: no interrupt will announce it.
                _ring.DisableCallbacks();
                _work.Schedule(_pollHandle);
            }
        }

        /// <summary>The device broke the ring: reset, take the buffers back, set it up again, ask again.</summary>
        private void Recover()
        {
            _resetPending = false;
            _resets++;
            _running = false;
            _core.Reset();
            ushort head;
            while (_ring.DetachUnused(out head))
            {
                int slot = _slotOfHead[head];
                _slotOfHead[head] = -1;
                if (slot >= 0)
                {
                    _posted[slot] = false;
                }
            }
            _ring.Reinitialize();
            if (Initialize(true))
            {
                RequestEntropy();
            }
        }

        /// <summary>Reset, release interrupts, ring and buffer page. True when no buffer was left with the device.</summary>
        public bool Stop()
        {
            _running = false;
            _core.Teardown();
            bool clean = true;
            if (_ring != null)
            {
                ushort head;
                while (_ring.DetachUnused(out head))
                {
                    int slot = _slotOfHead[head];
                    if (slot >= 0)
                    {
                        _posted[slot] = false;
                    }
                }
                _core.FreeQueue(_ring);
                _ring = null;
            }
            if (_page.IsValid)
            {
                _dma.FreeContiguous(_page);
                _page = default;
            }
            for (int slot = 0; slot < Buffers; slot++)
            {
                clean &= !_posted[slot];
            }
            return clean;
        }

        private bool OnInterrupt()
        {
            _interrupts++;
            if (_ring != null)
            {
                _ring.DisableCallbacks();
            }
            _work.Schedule(_pollHandle);
            return true;
        }

        private static readonly string[] s_statisticNames =
        {
            "rng_bytes",
            "rng_requests",
            "rng_completions",
            "rng_interrupts",
            "rng_length_errors",
            "rng_empty_reads",
            "rng_bad_ids",
            "rng_device_resets",
        };

        public int StatisticsCount => s_statisticNames.Length;

        public string StatisticName(int index) => s_statisticNames[index];

        private static readonly string[] s_statisticHelp =
        {
            "Random bytes delivered by the device",
            "Requests posted to the device",
            "Requests the device completed",
            "Interrupts from the device",
            "Completions with a length larger than the request",
            "Completions with no bytes",
            "Completions with an id never posted",
            "Device resets",
        };

        public StatisticKind StatisticKind(int index) => Keel.Hal.StatisticKind.Counter;

        public string StatisticHelp(int index) => s_statisticHelp[index];

        public long StatisticValue(int index)
        {
            switch (index)
            {
                case 0: return _bytes;
                case 1: return _requests;
                case 2: return _completions;
                case 3: return _interrupts;
                case 4: return _lengthErrors;
                case 5: return _emptyReads;
                case 6: return _badIds;
                case 7: return _resets;
                default: return 0;
            }
        }

        private sealed class QueueInterrupt : IInterruptHandler
        {
            private readonly VirtioRngDevice _device;
            public QueueInterrupt(VirtioRngDevice device) { _device = device; }
            public bool HandleInterrupt() => _device.OnInterrupt();
        }

        /// <summary>The entropy device has no configuration space: configuration interrupts are ignored.</summary>
        private sealed class ConfigInterrupt : IInterruptHandler
        {
            public bool HandleInterrupt() => true;
        }

        private sealed class PollWork : IWorkItem
        {
            private readonly VirtioRngDevice _device;
            public PollWork(VirtioRngDevice device) { _device = device; }
            public void Run() => _device.Poll();
        }
    }
}
