using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// What a virtio device driver needs from the bus the device sits on (virtio-pci modern, virtio-pci legacy,
    /// or the simulated device of the host tests). All methods except <see cref="NotifyQueue"/> and
    /// <see cref="ReadIsr"/> are for start-up, configuration changes and shutdown.
    /// Feature bits are the 64-bit virtio numbering; a legacy transport only carries bits 0..31.
    /// </summary>
    public interface IVirtioTransport
    {
        /// <summary>
        /// True for a legacy (virtio 0.9.5) interface: no FEATURES_OK step, 32 feature bits, queue size fixed by
        /// the device, ring memory one contiguous block with the used ring at the next 4096 boundary.
        /// </summary>
        bool IsLegacy { get; }

        /// <summary>Writes 0 to the status and waits (bounded) until the device reads back 0. False when it never does.</summary>
        bool Reset();

        byte ReadStatus();

        /// <summary>Writes the whole status byte (callers OR in new bits themselves).</summary>
        void WriteStatus(byte status);

        ulong ReadDeviceFeatures();

        void WriteDriverFeatures(ulong features);

        /// <summary>Modern config_generation; legacy devices have none and return 0.</summary>
        uint ConfigGeneration { get; }

        /// <summary>Device-specific configuration space (virtio-net: mac, status, max pairs, mtu).</summary>
        byte ReadConfig8(int offset);
        ushort ReadConfig16(int offset);
        uint ReadConfig32(int offset);

        /// <summary>Largest size the device allows for queue <paramref name="queue"/>; 0 when the queue does not exist.</summary>
        int QueueMaxSize(int queue);

        /// <summary>
        /// Programs queue <paramref name="queue"/> with <paramref name="size"/> entries at the given device
        /// addresses, routes its interrupt (see <see cref="AttachInterrupts"/>) and enables it. False when the
        /// device refuses (size not allowed, legacy layout not contiguous, MSI-X vector refused).
        /// </summary>
        bool SetupQueue(int queue, int size, ulong descriptors, ulong driverArea, ulong deviceArea);

        /// <summary>Tells the device queue <paramref name="queue"/> has new available buffers. Hot path.</summary>
        void NotifyQueue(int queue);

        /// <summary>
        /// Routes interrupts before the queues are set up: MSI-X when possible and <paramref name="allowMsix"/>
        /// (vector 0 = configuration change, vector 1 + q = queue q), otherwise the INTx line, demultiplexed
        /// through the ISR register. The handlers run in interrupt context. False when no interrupt could be
        /// routed at all.
        /// </summary>
        bool AttachInterrupts(IInterruptHandler configChanged, IInterruptHandler[] queues, bool allowMsix);

        /// <summary>True when <see cref="AttachInterrupts"/> chose MSI-X.</summary>
        bool UsesMsix { get; }

        /// <summary>Releases the vectors or the INTx line. Call after <see cref="Reset"/> at shutdown.</summary>
        void DetachInterrupts();

        /// <summary>Reads (and so clears) the ISR status: bit 0 queue interrupt, bit 1 configuration change.</summary>
        byte ReadIsr();
    }
}
