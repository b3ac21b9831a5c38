namespace Keel.Drivers.VirtioNet
{
    /// <summary>virtio-net feature bits ("Feature bits" of "Network Device").</summary>
    public static class VirtioNetFeatures
    {
        public const ulong Csum = 1UL << 0;
        public const ulong GuestCsum = 1UL << 1;
        public const ulong Mtu = 1UL << 3;
        public const ulong Mac = 1UL << 5;
        public const ulong GuestTso4 = 1UL << 7;
        public const ulong GuestTso6 = 1UL << 8;
        public const ulong GuestEcn = 1UL << 9;
        public const ulong GuestUfo = 1UL << 10;
        public const ulong HostTso4 = 1UL << 11;
        public const ulong HostTso6 = 1UL << 12;
        public const ulong MergeableRxBuffers = 1UL << 15;
        public const ulong Status = 1UL << 16;
        public const ulong ControlQueue = 1UL << 17;
        public const ulong ControlRx = 1UL << 18;
        public const ulong GuestAnnounce = 1UL << 21;
        public const ulong MultiQueue = 1UL << 22;
    }

    /// <summary>Layout of struct virtio_net_hdr (12 bytes with num_buffers, 10 without).</summary>
    public static class VirtioNetHeader
    {
        public const int Flags = 0;
        public const int GsoType = 1;
        public const int HeaderLength = 2;
        public const int GsoSize = 4;
        public const int CsumStart = 6;
        public const int CsumOffset = 8;
        public const int NumBuffers = 10;

        /// <summary>Header size with VERSION_1 or MRG_RXBUF.</summary>
        public const int SizeWithNumBuffers = 12;

        /// <summary>Header size of a legacy device without MRG_RXBUF.</summary>
        public const int SizeLegacy = 10;

        public const byte FlagNeedsCsum = 1;
        public const byte FlagDataValid = 2;

        public const byte GsoNone = 0;
        public const byte GsoTcpV4 = 1;
        public const byte GsoUdp = 3;
        public const byte GsoTcpV6 = 4;
        public const byte GsoEcn = 0x80;
    }

    /// <summary>Device configuration space offsets (struct virtio_net_config).</summary>
    public static class VirtioNetConfig
    {
        public const int Mac = 0;
        public const int Status = 6;
        public const int MaxVirtqueuePairs = 8;
        public const int Mtu = 10;
        public const ushort StatusLinkUp = 1;
        public const ushort StatusAnnounce = 2;
    }

    /// <summary>Control virtqueue commands ("Control Virtqueue": struct virtio_net_ctrl classes and commands).</summary>
    public static class VirtioNetControl
    {
        public const byte ClassRx = 0;
        public const byte RxPromiscuous = 0;
        public const byte RxAllMulticast = 1;
        public const byte ClassMac = 1;
        public const byte MacTableSet = 0;
        public const byte ClassAnnounce = 3;
        public const byte AnnounceAck = 0;
        public const byte Ok = 0;
        public const byte Error = 1;
    }

    /// <summary>How receive buffers are shaped (Linux: mergeable_rx_bufs / big_packets / small).</summary>
    public enum ReceiveMode
    {
        /// <summary>One 1526-ish byte buffer per packet (no MRG_RXBUF, no GUEST_TSO, MTU ≤ 1500).</summary>
        Small,

        /// <summary>A chain of whole pages per packet, up to 64 KiB (GUEST_TSO or a big MTU without MRG_RXBUF).</summary>
        Big,

        /// <summary>Page fragments sized by the EWMA; the device merges several for a large packet (MRG_RXBUF).</summary>
        Mergeable,
    }

    /// <summary>Driver life cycle.</summary>
    public enum VirtioNetState
    {
        Created,
        Running,
        Failed,
        Stopped,
    }
}
