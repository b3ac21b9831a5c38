namespace Keel.Buffers
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

        /// <summary>Where received frames go. The receiver owns each packet it is given and must free it.</summary>
        IPacketReceiver Receiver { get; set; }
    }
}
