using Keel.Buffers;

namespace Keel.Drivers.Net
{
    /// <summary>
    /// What a network stack sees of a network card driver. Frames are whole Ethernet frames without FCS.
    /// </summary>
    public interface INetDevice
    {
        /// <summary>Hardware address, 6 bytes, written into <paramref name="destination"/>.</summary>
        void GetMacAddress(byte[] destination);

        /// <summary>Largest IP packet the link carries (1500 unless the device says otherwise).</summary>
        int Mtu { get; }

        /// <summary>True while the link is up.</summary>
        bool LinkUp { get; }

        /// <summary>Pool the stack takes transmit packets from.</summary>
        PacketPool TransmitPackets { get; }

        /// <summary>
        /// Queues one frame. On true the driver owns the packet and frees it when the device is done with it;
        /// on false (queue stopped, ring full) the caller still owns it and may retry after <see cref="CanTransmit"/>.
        /// </summary>
        bool Transmit(Packet frame);

        /// <summary>False while the transmit queue is stopped (ring full).</summary>
        bool CanTransmit { get; }

        /// <summary>
        /// True when the device completes TCP/UDP checksums of frames marked <see cref="Packet.FlagNeedsChecksum"/>
        /// (virtio VIRTIO_NET_F_CSUM). False: the stack computes every checksum itself.
        /// </summary>
        bool SupportsChecksumOffload { get; }

        /// <summary>
        /// Largest IPv4 TCP packet (IP header included) the device segments itself for frames marked
        /// <see cref="Packet.FlagTcpSegmentation"/> (virtio HOST_TSO4); 0 when it does not.
        /// </summary>
        int MaxTsoBytes { get; }

        /// <summary>
        /// The same for TCP over IPv6 (virtio HOST_TSO6, negotiated apart from HOST_TSO4): the largest IPv6 TCP
        /// packet, IPv6 header included; 0 when the device does not segment them.
        /// </summary>
        int MaxTso6Bytes { get; }

        /// <summary>Where received frames go. The receiver owns each packet it is given and must free it.</summary>
        IPacketReceiver Receiver { get; set; }
    }
}
