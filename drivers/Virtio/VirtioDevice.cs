using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// The device-independent half of every virtio driver (Linux virtio.c + virtio_pci_common.c; rcore
    /// virtio-drivers' <c>Transport::begin_init</c>/<c>finish_init</c>/<c>read_consistent</c>): reset, the
    /// ACKNOWLEDGE → DRIVER → FEATURES_OK → DRIVER_OK handshake with the features re-read, consistent reads of
    /// the device configuration under config_generation, interrupt vectors with the MSI-X → INTx fallback,
    /// virtqueue memory, set-up and teardown. A device driver (virtio-net, virtio-rng) owns one and keeps only
    /// what is specific to its device.
    /// <para>
    /// Start-up order (virtio 1.x "Device Initialization"): <see cref="BeginInit"/> (reset, ACKNOWLEDGE, DRIVER,
    /// features, FEATURES_OK) → read configuration (<see cref="BeginConfigRead"/>/<see cref="ConfigReadDone"/>)
    /// → <see cref="AttachInterrupts"/> → <see cref="AllocateQueue"/> + <see cref="SetupQueue"/> per queue →
    /// <see cref="FinishInit"/> (DRIVER_OK). On a refused queue vector call <see cref="FallBackToIntx"/> and
    /// start again. <see cref="Teardown"/> resets the device and releases the interrupts.
    /// </para>
    /// </summary>
    public sealed class VirtioDevice
    {
        /// <summary>Most passes of a configuration read before it is taken as it is (a device that keeps changing).</summary>
        public const int MaxConfigReadTries = 100;

        private readonly IVirtioTransport _transport;
        private readonly IDmaMemory _dma;
        private readonly ITextOutput _log;
        private byte _status;
        private bool _interruptsAttached;

        public VirtioDevice(IVirtioTransport transport, IDmaMemory dma, ITextOutput log)
        {
            _transport = transport;
            _dma = dma;
            _log = log;
        }

        public IVirtioTransport Transport => _transport;

        /// <summary>Features the device offered at the last <see cref="BeginInit"/>.</summary>
        public ulong OfferedFeatures { get; private set; }

        /// <summary>Features both sides agreed on.</summary>
        public ulong NegotiatedFeatures { get; private set; }

        /// <summary>True when the last start failed because the device cleared FEATURES_OK.</summary>
        public bool FeaturesRefused { get; private set; }

        /// <summary>Set once the device refused a queue's MSI-X vector: interrupts go over INTx from then on.</summary>
        public bool MsixRefused { get; private set; }

        /// <summary>Status bits written so far in the current initialisation.</summary>
        public byte Status => _status;

        /// <summary>Configuration reads that saw config_generation change and were repeated.</summary>
        public long ConfigRetries { get; private set; }

        public bool Has(ulong feature) => (NegotiatedFeatures & feature) != 0;

        /// <summary>
        /// rcore begin_init: reset, ACKNOWLEDGE, DRIVER, read the offered features, write
        /// <paramref name="wanted"/> ∩ offered, set FEATURES_OK and read it back (modern). A modern device must
        /// accept VERSION_1. With <paramref name="mustMatch"/> (recovery after a reset) the result must equal
        /// <paramref name="previous"/>. False on any failure, with FAILED written.
        /// </summary>
        public bool BeginInit(ulong wanted, bool mustMatch, ulong previous, string name)
        {
            FeaturesRefused = false;
            if (!_transport.Reset())
            {
                return Fail(name, ": device does not reset");
            }
            _status = VirtioStatus.Acknowledge;
            _transport.WriteStatus(_status);
            _status |= VirtioStatus.Driver;
            _transport.WriteStatus(_status);
            ulong offered = _transport.ReadDeviceFeatures();
            OfferedFeatures = offered;
            ulong features = wanted & offered;
            if (_transport.IsLegacy)
            {
                features &= 0xFFFFFFFFUL;
            }
            else if ((features & VirtioFeatures.Version1) == 0)
            {
                return Fail(name, ": modern device without VERSION_1");
            }
            _transport.WriteDriverFeatures(features);
            if (!_transport.IsLegacy)
            {
                _status |= VirtioStatus.FeaturesOk;
                _transport.WriteStatus(_status);
                if ((_transport.ReadStatus() & VirtioStatus.FeaturesOk) == 0)
                {
                    FeaturesRefused = true;
                    return Fail(name, ": device refused FEATURES_OK");
                }
            }
            if (mustMatch && features != previous)
            {
                return Fail(name, ": features changed across reset");
            }
            NegotiatedFeatures = features;
            return true;
        }

        /// <summary>
        /// Starts one pass of a consistent configuration read (rcore read_consistent): returns the generation to
        /// give <see cref="ConfigReadDone"/> after reading the fields.
        /// <code>
        /// int tries = 0; uint generation;
        /// do { generation = core.BeginConfigRead(); /* read fields */ } while (!core.ConfigReadDone(generation, ref tries));
        /// </code>
        /// </summary>
        public uint BeginConfigRead() => _transport.ConfigGeneration;

        /// <summary>True when the fields read since <see cref="BeginConfigRead"/> are consistent (or the tries ran out).</summary>
        public bool ConfigReadDone(uint generation, ref int tries)
        {
            tries++;
            if (_transport.ConfigGeneration == generation || tries >= MaxConfigReadTries)
            {
                return true;
            }
            ConfigRetries++;
            return false;
        }

        /// <summary>
        /// Routes the configuration-change handler and one handler per queue (MSI-X vector 0 and 1 + q, or INTx
        /// through the ISR). Does nothing when already attached. False when no interrupt could be routed.
        /// </summary>
        public bool AttachInterrupts(IInterruptHandler configChanged, IInterruptHandler[] queues, string name)
        {
            if (_interruptsAttached)
            {
                return true;
            }
            if (!_transport.AttachInterrupts(configChanged, queues, !MsixRefused))
            {
                return Fail(name, ": no interrupt");
            }
            _interruptsAttached = true;
            return true;
        }

        /// <summary>Largest usable size for <paramref name="queue"/> given <paramref name="requested"/> (0 = the device's maximum); 0 when the queue is missing.</summary>
        public int ChooseQueueSize(int queue, int requested)
        {
            int max = _transport.QueueMaxSize(queue);
            bool packed = Has(VirtioFeatures.RingPacked);
            if (packed ? !PackedVirtqueue.IsValidSize(max) : !SplitVirtqueue.IsValidSize(max))
            {
                return 0;
            }
            if (_transport.IsLegacy || requested <= 0 || requested >= max)
            {
                return max;
            }
            if (packed ? !PackedVirtqueue.IsValidSize(requested) : !SplitVirtqueue.IsValidSize(requested))
            {
                return max;
            }
            return requested;
        }

        /// <summary>
        /// Allocates ring memory for queue <paramref name="index"/> of <paramref name="size"/> entries in the
        /// negotiated format (packed with VIRTIO_F_RING_PACKED, else split) with the negotiated EVENT_IDX.
        /// Null when memory ran out.
        /// </summary>
        public Virtqueue AllocateQueue(int index, int size)
        {
            bool packed = Has(VirtioFeatures.RingPacked);
            int pages = packed ? PackedVirtqueue.RingPages(size) : SplitVirtqueue.RingPages(size);
            DmaRegion memory;
            if (!_dma.TryAllocateContiguous(pages, out memory))
            {
                return null;
            }
            return new Virtqueue(index, size, memory, Has(VirtioFeatures.EventIndex), packed);
        }

        /// <summary>Gives a queue's ring memory back (after <see cref="Teardown"/>).</summary>
        public void FreeQueue(Virtqueue queue)
        {
            if (queue != null)
            {
                _dma.FreeContiguous(queue.Memory);
            }
        }

        /// <summary>Programs and enables <paramref name="queue"/>. False when the device refuses (see <see cref="CanFallBackToIntx"/>).</summary>
        public bool SetupQueue(Virtqueue queue)
        {
            return _transport.SetupQueue(queue.QueueIndex, queue.Size, queue.DescriptorPhysical, queue.DriverAreaPhysical, queue.DeviceAreaPhysical);
        }

        /// <summary>True when a refused queue set-up may be a refused MSI-X vector worth retrying with INTx (Linux vp_find_vqs).</summary>
        public bool CanFallBackToIntx => _transport.UsesMsix && !MsixRefused;

        /// <summary>Resets the device and releases the MSI-X vectors; the caller starts again from <see cref="BeginInit"/>.</summary>
        public void FallBackToIntx()
        {
            MsixRefused = true;
            _transport.Reset();
            DetachInterrupts();
        }

        /// <summary>rcore finish_init: DRIVER_OK. The device may use the queues from now on.</summary>
        public void FinishInit()
        {
            _status |= VirtioStatus.DriverOk;
            _transport.WriteStatus(_status);
        }

        /// <summary>True when the device set DEVICE_NEEDS_RESET (it must be reset and initialised again).</summary>
        public bool NeedsReset => (_transport.ReadStatus() & VirtioStatus.DeviceNeedsReset) != 0;

        /// <summary>Resets the device: it stops touching memory; buffers in the rings may then be taken back.</summary>
        public void Reset()
        {
            _transport.Reset();
            _status = 0;
        }

        /// <summary>Shutdown: reset, then release the interrupts.</summary>
        public void Teardown()
        {
            Reset();
            DetachInterrupts();
        }

        private void DetachInterrupts()
        {
            if (_interruptsAttached)
            {
                _transport.DetachInterrupts();
                _interruptsAttached = false;
            }
        }

        /// <summary>Writes FAILED, logs "<paramref name="name"/><paramref name="reason"/>", returns false.</summary>
        public bool Fail(string name, string reason)
        {
            _status |= VirtioStatus.Failed;
            _transport.WriteStatus(_status);
            if (_log != null)
            {
                _log.Write(name);
                _log.Write(reason);
                _log.WriteLine();
            }
            return false;
        }
    }
}
