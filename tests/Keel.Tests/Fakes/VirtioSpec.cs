namespace Keel.Tests.Fakes
{
    /// <summary>
    /// Values written out from the virtio 1.1/1.2 specification (not taken from the driver), for the simulated
    /// devices: a wrong constant in the driver then fails the tests instead of agreeing with itself.
    /// </summary>
    public static class VirtioSpec
    {
        // 2.7.5 / 2.7.6 / 2.7.8 split virtqueue
        public const ushort VIRTQ_DESC_F_NEXT = 1;
        public const ushort VIRTQ_DESC_F_WRITE = 2;
        public const ushort VIRTQ_DESC_F_INDIRECT = 4;
        public const ushort VIRTQ_AVAIL_F_NO_INTERRUPT = 1;
        public const ushort VIRTQ_USED_F_NO_NOTIFY = 1;
        public const int SplitDescriptorSize = 16;   // le64 addr; le32 len; le16 flags; le16 next
        public const int SplitUsedElementSize = 8;   // le32 id; le32 len
        public const int SplitAvailHeader = 4;       // le16 flags; le16 idx; then ring[], then used_event
        public const int SplitUsedHeader = 4;        // le16 flags; le16 idx; then ring[], then avail_event

        // 2.8.1 / 2.8.10 packed virtqueue
        public const ushort VIRTQ_DESC_F_AVAIL = 1 << 7;
        public const ushort VIRTQ_DESC_F_USED = 1 << 15;
        public const ushort RING_EVENT_FLAGS_ENABLE = 0;
        public const ushort RING_EVENT_FLAGS_DISABLE = 1;
        public const ushort RING_EVENT_FLAGS_DESC = 2;
        public const int PackedDescriptorSize = 16;  // le64 addr; le32 len; le16 id; le16 flags

        // 6 reserved feature bits
        public const int VIRTIO_F_INDIRECT_DESC = 28;
        public const int VIRTIO_F_EVENT_IDX = 29;
        public const int VIRTIO_F_VERSION_1 = 32;
        public const int VIRTIO_F_RING_PACKED = 34;

        // 2.1 device status
        public const byte ACKNOWLEDGE = 1;
        public const byte DRIVER = 2;
        public const byte DRIVER_OK = 4;
        public const byte FEATURES_OK = 8;
        public const byte DEVICE_NEEDS_RESET = 64;
        public const byte FAILED = 128;

        // 5.1.3 network device feature bits, 5.1.4 config, 5.1.6.5 control virtqueue
        public const int VIRTIO_NET_F_CTRL_VQ = 17;
        public const int VIRTIO_NET_F_CTRL_RX = 18;
        public const int VIRTIO_NET_F_GUEST_ANNOUNCE = 21;
        public const int VIRTIO_NET_F_MTU = 3;
        public const ushort VIRTIO_NET_S_LINK_UP = 1;
        public const ushort VIRTIO_NET_S_ANNOUNCE = 2;
        public const byte VIRTIO_NET_OK = 0;
        public const byte VIRTIO_NET_ERR = 1;
        public const byte VIRTIO_NET_CTRL_RX = 0;
        public const byte VIRTIO_NET_CTRL_RX_PROMISC = 0;
        public const byte VIRTIO_NET_CTRL_RX_ALLMULTI = 1;
        public const byte VIRTIO_NET_CTRL_MAC = 1;
        public const byte VIRTIO_NET_CTRL_MAC_TABLE_SET = 0;
        public const byte VIRTIO_NET_CTRL_ANNOUNCE = 3;
        public const byte VIRTIO_NET_CTRL_ANNOUNCE_ACK = 0;

        // 5.4 entropy device: device id 4, one queue (requestq), no feature bits, no configuration.
        public const int VirtioEntropyDeviceId = 4;
        public const int VirtioNetDeviceId = 1;

        // 5.1.3 more network feature bits
        public const int VIRTIO_NET_F_CSUM = 0;
        public const int VIRTIO_NET_F_GUEST_CSUM = 1;
        public const int VIRTIO_NET_F_MAC = 5;
        public const int VIRTIO_NET_F_GUEST_TSO4 = 7;
        public const int VIRTIO_NET_F_GUEST_TSO6 = 8;
        public const int VIRTIO_NET_F_HOST_TSO4 = 11;
        public const int VIRTIO_NET_F_MRG_RXBUF = 15;
        public const int VIRTIO_NET_F_STATUS = 16;

        // 5.1.6 struct virtio_net_hdr: offsets and values
        public const int HDR_FLAGS = 0;
        public const int HDR_GSO_TYPE = 1;
        public const int HDR_HDR_LEN = 2;
        public const int HDR_GSO_SIZE = 4;
        public const int HDR_CSUM_START = 6;
        public const int HDR_CSUM_OFFSET = 8;
        public const int HDR_NUM_BUFFERS = 10;
        public const byte VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
        public const byte VIRTIO_NET_HDR_F_DATA_VALID = 2;
        public const byte VIRTIO_NET_HDR_GSO_NONE = 0;
        public const byte VIRTIO_NET_HDR_GSO_TCPV4 = 1;
        public const byte VIRTIO_NET_HDR_GSO_TCPV6 = 4;

        // 4.1.4 virtio PCI capabilities
        public const ushort PCI_VENDOR_ID_REDHAT_QUMRANET = 0x1AF4;
        public const byte PCI_CAP_ID_VNDR = 0x09;
        public const byte VIRTIO_PCI_CAP_COMMON_CFG = 1;
        public const byte VIRTIO_PCI_CAP_NOTIFY_CFG = 2;
        public const byte VIRTIO_PCI_CAP_ISR_CFG = 3;
        public const byte VIRTIO_PCI_CAP_DEVICE_CFG = 4;
        public const byte VIRTIO_PCI_CAP_PCI_CFG = 5;
        public const ushort VIRTIO_MSI_NO_VECTOR = 0xFFFF;

        public static ulong Bit(int n) => 1UL << n;

        /// <summary>2.7.10 vring_need_event, written out from the specification.</summary>
        public static bool vring_need_event(ushort event_idx, ushort new_idx, ushort old)
        {
            return (ushort)(new_idx - event_idx - 1) < (ushort)(new_idx - old);
        }
    }
}
