namespace Keel.Net.Ipv6
{
    /// <summary>What the IPv6 header (and the link) said about a received packet, handed up the layers.</summary>
    internal readonly struct Ipv6Inbound
    {
        public Ipv6Inbound(IPv6Address source, IPv6Address destination, int hopLimit, bool linkMulticast, bool toTentative)
        {
            Source = source;
            Destination = destination;
            HopLimit = hopLimit;
            LinkMulticast = linkMulticast;
            ToTentative = toTentative;
        }

        public readonly IPv6Address Source;

        public readonly IPv6Address Destination;

        /// <summary>The hop limit as received (Neighbor Discovery requires 255, MLD 1).</summary>
        public readonly int HopLimit;

        /// <summary>The frame was sent to an Ethernet multicast or broadcast address.</summary>
        public readonly bool LinkMulticast;

        /// <summary>The destination is one of our addresses still under Duplicate Address Detection.</summary>
        public readonly bool ToTentative;

        public bool DestinationMulticast => Destination.IsMulticast;
    }
}
