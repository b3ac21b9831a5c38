namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// Construction-time choices for <see cref="VirtioNetDevice"/>: which features to ask for, ring and pool
    /// sizes, and the ablation switches the benchmarks use. The defaults are the production configuration.
    /// </summary>
    public sealed class VirtioNetOptions
    {
        /// <summary>Ask for VIRTIO_NET_F_MRG_RXBUF (mergeable receive buffers).</summary>
        public bool MergeableRxBuffers = true;

        /// <summary>Ask for VIRTIO_F_EVENT_IDX (index-based notification and interrupt suppression).</summary>
        public bool EventIndex = true;

        /// <summary>
        /// Ask for GUEST_TSO4/GUEST_TSO6 (the device may deliver up to 64 KiB TCP segments, like GRO/LRO; needs
        /// GUEST_CSUM, which is then asked for too). With mergeable buffers a large frame spans several buffers
        /// (adjacent ones in a page are merged into one fragment); without, big page chains are posted.
        /// </summary>
        public bool GuestTso = true;

        /// <summary>
        /// Ask for GUEST_CSUM (receive checksum offload). Frames the device vouches for (DATA_VALID) and frames
        /// with a partial checksum from the host's stack (NEEDS_CSUM) reach the stack with
        /// <c>Packet.FlagChecksumValid</c>, so it does not verify TCP/UDP checksums.
        /// </summary>
        public bool GuestChecksum = true;

        /// <summary>
        /// Ask for VIRTIO_F_INDIRECT_DESC: a multi-segment transmit frame takes one ring slot, its segments listed
        /// in an indirect table (one preallocated per descriptor id).
        /// </summary>
        public bool IndirectDescriptors = true;

        /// <summary>
        /// Put the virtio-net header in the packet's headroom, in front of the frame, so header and linear part
        /// are one descriptor (Linux can_push; needs VERSION_1 or ANY_LAYOUT, which is then asked for on legacy).
        /// </summary>
        public bool TxHeaderPush = true;

        /// <summary>
        /// Ask for VIRTIO_NET_F_CSUM (transmit checksum offload): frames marked <c>Packet.FlagNeedsChecksum</c> go out
        /// with NEEDS_CSUM and the device completes the checksum (<c>SupportsChecksumOffload</c>).
        /// </summary>
        public bool TxChecksum = true;

        /// <summary>
        /// Ask for VIRTIO_NET_F_HOST_TSO4 (needs CSUM): the stack may hand up to 64 KiB TCP/IPv4 segments that the
        /// device cuts into MSS-sized frames (<c>MaxTsoBytes</c>).
        /// </summary>
        public bool HostTso = true;

        /// <summary>
        /// Accept VIRTIO_F_RING_PACKED when the device offers it (QEMU: <c>packed=on</c>): packed virtqueues
        /// instead of split ones. Split rings are used whenever the device does not offer packed ones.
        /// </summary>
        public bool PackedRing = true;

        /// <summary>
        /// Ask for VIRTIO_NET_F_CTRL_VQ (and CTRL_RX, GUEST_ANNOUNCE with it): receive mode and MAC filter commands,
        /// link announcements.
        /// </summary>
        public bool ControlQueue = true;

        /// <summary>Receive mode set through the control queue at start-up (Linux sets it at open).</summary>
        public bool Promiscuous;

        /// <summary>All-multicast mode set at start-up (no multicast list is kept, so on by default).</summary>
        public bool AllMulticast = true;

        /// <summary>Receive ring size; 0 = the device's maximum. Modern devices only (legacy sizes are fixed).</summary>
        public int RxQueueSize;

        /// <summary>Transmit ring size; 0 = the device's maximum.</summary>
        public int TxQueueSize;

        /// <summary>Most pages the receive page pool may hold; 0 = 4 × ring size (big mode: enough for two full rings).</summary>
        public int RxPoolPages;

        /// <summary>
        /// Mergeable mode with indirect descriptors: when the average received packet is longer than a page (64 KiB
        /// TCP segments with GUEST_TSO), a receive buffer is a chain of up to this many whole pages in one ring slot,
        /// so the device takes one buffer per 16 KiB instead of one per page and a ring holds more data. Capped so the
        /// posted pages stay within half of the receive page pool. 1 = page-sized buffers only (Linux).
        /// </summary>
        public int RxBufferPagesMax = 4;

        /// <summary>Receive packet descriptors; 0 = 2 × ring size.</summary>
        public int RxPackets;

        /// <summary>Transmit packet descriptors offered to the stack (<c>TransmitPackets</c>); 0 = 2 × ring size.</summary>
        public int TxPackets;

        /// <summary>Packets one poll handles at most (NAPI weight).</summary>
        public int Budget = 64;

        /// <summary>Delay before retrying a refill that ran out of memory (Linux refill_work: HZ/2).</summary>
        public long RefillRetryNanoseconds = 500000000;

        /// <summary>
        /// Transmit completions while less than a quarter of the ring is in flight: reclaimed by the next poll or,
        /// at the latest, by a timer this long after the first of them was sent, instead of a completion interrupt
        /// per batch (0 = always ask for the interrupt; also ignored with <see cref="ProcessInInterrupt"/>).
        /// </summary>
        public long TxLazyReclaimNanoseconds = 1000000;

        /// <summary>
        /// Dynamic byte limit on the transmit ring (<see cref="ByteQueueLimit"/>, as Linux BQL): bulk senders see the
        /// queue as busy (<c>CanTransmit</c> false) while the bytes in the ring are at the learned limit; small frames
        /// still go in. Off (default; kernel command line <c>bql=on</c>): the ring takes frames until it is full.
        /// </summary>
        public bool ByteQueueLimits;

        /// <summary>Largest byte limit <see cref="ByteQueueLimits"/> may learn.</summary>
        public long ByteQueueMaxLimit = 1L << 22;

        /// <summary>How long the transmit queue may stay stopped without progress before a timeout is counted.</summary>
        public long TxTimeoutNanoseconds = 5000000000;

        /// <summary>
        /// Ablation (pre-2009 design): take a <c>Packet</c> for every posted receive buffer instead of building
        /// packets only when data arrives.
        /// </summary>
        public bool PreallocatePackets;

        /// <summary>Ablation when false: pages whose last reference is dropped go back to the page allocator.</summary>
        public bool PagePoolRecycling = true;

        /// <summary>
        /// Ablation: handle received packets in the interrupt handler instead of the scheduled poll
        /// (the kernel must then run the stack with interrupts off, as pools are not interrupt-safe).
        /// </summary>
        public bool ProcessInInterrupt;
    }
}
