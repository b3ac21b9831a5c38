using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>Path-MTU discovery (RFC 1191, RFC 8201): an ICMP "fragmentation needed" or an ICMPv6 Packet Too Big quoting one of our segments.</summary>
    internal sealed unsafe partial class TcpLayer
    {
        /// <summary>
        /// ICMP destination unreachable, code 4, quoting a TCP segment from <paramref name="local"/> to
        /// <paramref name="remote"/> with sequence number <paramref name="sequence"/>;
        /// <paramref name="nextHopMtu"/> from the ICMP header (0 from a router older than RFC 1191) and
        /// <paramref name="quotedLength"/> the quoted IPv4 header's total length. Over IPv6 (the endpoints' family)
        /// <paramref name="nextHopMtu"/> is the Packet Too Big's MTU field. False when no connection takes it
        /// (unknown, not synchronized, or the sequence number is not one we have in flight): the caller counts it.
        /// </summary>
        internal bool FragmentationNeeded(IPEndPoint local, IPEndPoint remote, uint sequence, int nextHopMtu, int quotedLength, Instant now)
        {
            TcpConnection c = Lookup(local, remote);
            return c != null && c.FragmentationNeeded(sequence, nextHopMtu, quotedLength, now);
        }
    }
}
