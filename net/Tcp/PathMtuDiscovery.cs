namespace Keel.Net.Tcp
{
    /// <summary>
    /// A connection's path MTU (RFC 1191 for IPv4, RFC 8201 for IPv6) with the checks of RFC 5927: every segment goes out with DF set until a
    /// router's ICMP "fragmentation needed" lowers the path MTU; a router that reports no next-hop MTU gets the
    /// plateau below the quoted datagram (RFC 1191 section 7); a reported MTU below <see cref="MinPathMtu"/> is
    /// clamped there and the connection sends without DF from then on (<see cref="DontFragment"/>). The path MTU is
    /// never raised again (RFC 1191 section 6.3's periodic increase is not done: a connection keeps the lower MSS
    /// until it closes). The connection checks that the message quotes one of its segments in flight and resends.
    /// Over IPv6 an ICMPv6 Packet Too Big always gives the MTU, routers never fragment (so there is no DF), and the
    /// path MTU never goes below IPv6's minimum link MTU, 1280 (RFC 8201 section 4): a smaller report is taken as 1280.
    /// </summary>
    internal struct PathMtuDiscovery
    {
        /// <summary>
        /// The smallest path MTU accepted from an ICMP message (Linux's <c>min_pmtu</c>, 512 + 20 + 20). A forged
        /// message quoting a guessed in-window sequence number could otherwise shrink a connection's segments to a
        /// few bytes each (RFC 5927 section 7: 68, the IPv4 minimum, gives 28-byte payloads behind 40 bytes of
        /// headers). 552 keeps at least 512 payload bytes; every IPv4 host takes 576-byte datagrams (RFC 791), so
        /// the rare link below it fragments: a connection clamped here sends without DF, as Linux does for a route
        /// whose MTU it locked.
        /// </summary>
        internal const int MinPathMtu = 552;

        /// <summary>IPv6's minimum link MTU (RFC 8200 section 5), the lowest path MTU over IPv6.</summary>
        internal const int MinPathMtuIPv6 = 1280;

        private int _mtu;      // IPv4 datagram bytes; 0: the device's MTU
        private bool _locked;  // clamped to MinPathMtu: no DF any more

        /// <summary>A fresh connection: the device's MTU, DF set.</summary>
        internal void Reset()
        {
            _mtu = 0;
            _locked = false;
        }

        /// <summary>Whether segments go with DF set (false once the path MTU was clamped to <see cref="MinPathMtu"/>).</summary>
        internal bool DontFragment => !_locked;

        /// <summary>The path MTU in use: the device's (<paramref name="deviceMtu"/>) until ICMP lowered it.</summary>
        internal int Current(int deviceMtu) => _mtu != 0 ? _mtu : deviceMtu;

        /// <summary>
        /// A "fragmentation needed" message for this connection: <paramref name="nextHopMtu"/> from its header (0 from
        /// a router older than RFC 1191), <paramref name="quotedLength"/> the quoted datagram's total length. True
        /// when the path MTU went down, to <paramref name="mtu"/>; false when the message changes nothing (the MTU
        /// it gives is not below the current one). <paramref name="ipv6"/>: an ICMPv6 Packet Too Big (its MTU field
        /// in <paramref name="nextHopMtu"/>).
        /// </summary>
        internal bool Reduce(int nextHopMtu, int quotedLength, int deviceMtu, out int mtu, bool ipv6 = false)
        {
            if (ipv6)
            {
                mtu = nextHopMtu < MinPathMtuIPv6 ? MinPathMtuIPv6 : nextHopMtu;
            }
            else
            {
                mtu = nextHopMtu != 0 ? nextHopMtu : PlateauBelow(quotedLength);
            }
            if (!ipv6 && mtu < MinPathMtu)
            {
                mtu = MinPathMtu;
                _locked = true;
            }
            if (mtu >= Current(deviceMtu))
            {
                mtu = Current(deviceMtu);
                return false;
            }
            _mtu = mtu;
            return true;
        }

        /// <summary>
        /// RFC 1191 section 7: the largest MTU plateau below <paramref name="length"/> (the quoted datagram's total
        /// length), for a router that reports no next-hop MTU.
        /// </summary>
        internal static int PlateauBelow(int length)
        {
            if (length > 32000)
            {
                return 32000;
            }
            if (length > 17914)
            {
                return 17914;
            }
            if (length > 8166)
            {
                return 8166;
            }
            if (length > 4352)
            {
                return 4352;
            }
            if (length > 2002)
            {
                return 2002;
            }
            if (length > 1492)
            {
                return 1492;
            }
            if (length > 1006)
            {
                return 1006;
            }
            if (length > 508)
            {
                return 508;
            }
            return length > 296 ? 296 : 68;
        }
    }
}
