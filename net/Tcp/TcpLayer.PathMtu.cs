using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>Path-MTU discovery (RFC 1191): an ICMP "fragmentation needed" quoting one of our segments.</summary>
    internal sealed unsafe partial class TcpLayer
    {
        /// <summary>
        /// ICMP destination unreachable, code 4, quoting a TCP segment from <paramref name="localAddress"/>:<paramref name="localPort"/>
        /// to <paramref name="remoteAddress"/>:<paramref name="remotePort"/> with sequence number <paramref name="sequence"/>;
        /// <paramref name="nextHopMtu"/> from the ICMP header (0 from a router older than RFC 1191) and
        /// <paramref name="quotedLength"/> the quoted IPv4 header's total length. False when no connection takes it
        /// (unknown, not synchronized, or the sequence number is not one we have in flight): the caller counts it.
        /// </summary>
        internal bool FragmentationNeeded(uint localAddress, int localPort, uint remoteAddress, int remotePort, uint sequence,
            int nextHopMtu, int quotedLength, Instant now)
        {
            TcpConnection c = Lookup(localAddress, localPort, remoteAddress, remotePort);
            return c != null && c.FragmentationNeeded(sequence, nextHopMtu, quotedLength, now);
        }
    }
}
