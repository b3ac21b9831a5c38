namespace Keel.Drivers.Net
{
    /// <summary>
    /// The frame an <see cref="INetDevice"/> carries: Ethernet II (IEEE 802.3) without the FCS. Its header length
    /// is needed by both sides of the interface, the driver (buffer sizes, offload offsets) and the stack.
    /// </summary>
    public static class EthernetFrame
    {
        /// <summary>Destination MAC, source MAC and EtherType: 6 + 6 + 2 bytes.</summary>
        public const int HeaderLength = 14;
    }
}
