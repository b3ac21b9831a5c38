using Keel.Buffers;
using Keel.Net.Internal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// ICMPv6 (RFC 4443): checks the checksum over the IPv6 pseudo-header, answers echo requests, hands
    /// Neighbor Discovery to <see cref="NeighborDiscovery"/> and MLD to <see cref="MulticastListener"/>, counts
    /// errors, and sends errors rate-limited (<see cref="Icmpv6RateLimiter"/>) and never where section 2.4 (e)
    /// forbids them: in reply to an error, to a packet from the unspecified or a multicast address, or to a
    /// packet sent to a multicast group (link or IPv6) unless it is one of the allowed exceptions. Errors about
    /// our own TCP and UDP packets go to their sockets: Packet Too Big to TCP's path-MTU discovery (RFC 8201),
    /// port unreachable to a connected UDP socket.
    /// </summary>
    internal sealed unsafe class Icmpv6Layer
    {
        internal const int HeaderLength = 8;
        internal const int TypeDestinationUnreachable = 1;
        internal const int TypePacketTooBig = 2;
        internal const int TypeTimeExceeded = 3;
        internal const int TypeParameterProblem = 4;
        internal const int TypeEchoRequest = 128;
        internal const int TypeEchoReply = 129;
        internal const int TypeMldQuery = 130;
        internal const int TypeMldReport = 131;
        internal const int TypeMldDone = 132;
        internal const int TypeRouterSolicitation = 133;
        internal const int TypeRouterAdvertisement = 134;
        internal const int TypeNeighborSolicitation = 135;
        internal const int TypeNeighborAdvertisement = 136;
        internal const int TypeRedirect = 137;
        internal const int TypeMldv2Report = 143;

        internal const int CodeErroneousHeader = 0;
        internal const int CodeUnknownNextHeader = 1;
        internal const int CodeUnknownOption = 2;
        internal const int CodeIncompleteChain = 3;
        internal const int CodeReassemblyTimeExceeded = 1;
        internal const int CodePortUnreachable = 4;

        /// <summary>An error carries as much of the offending packet as fits the minimum MTU (RFC 4443 section 2.4 (c)).</summary>
        internal const int MaxQuote = Ipv6Layer.MinimumMtu - Ipv6Layer.HeaderLength - HeaderLength;

        private readonly Ipv6Layer _ip;
        private readonly long[] _counters;
        private readonly Icmpv6RateLimiter _limiter = new Icmpv6RateLimiter(10, Keel.Hal.Duration.FromMilliseconds(100));

        /// <summary>Told of each echo reply (to our own requests); null for none.</summary>
        internal IEchoReplyHandler EchoHandler;

        public Icmpv6Layer(Ipv6Layer ip)
        {
            _ip = ip;
            _counters = ip.Counters;
        }

        /// <summary>One ICMPv6 message at <paramref name="offset"/> of a packet whose data starts at the IPv6 header; frees it.</summary>
        internal void Input(Packet packet, int offset, in Ipv6Inbound info)
        {
            _counters[Ipv6Statistics.IcmpRx]++;
            int length = packet.Length - offset;
            if (length < 4 || !packet.EnsureLinear(offset + 4))
            {
                Drop(packet, Ipv6Statistics.IcmpBad);
                return;
            }
            ulong sum = Checksum.SumPacket(packet, offset, length) + Checksum.PseudoHeader(info.Source, info.Destination, Ipv6Layer.NextIcmp, length);
            if (!Checksum.IsValid(sum))
            {
                Drop(packet, Ipv6Statistics.IcmpBadChecksum);
                return;
            }
            int type = packet.Data[offset];
            if (info.ToTentative && type != TypeNeighborSolicitation && type != TypeNeighborAdvertisement)
            {
                // RFC 4862 section 5.4: a tentative address takes nothing but Neighbor Discovery.
                Drop(packet, Ipv6Statistics.NotForUs);
                return;
            }
            switch (type)
            {
                case TypeEchoRequest:
                    _counters[Ipv6Statistics.IcmpEchoRequests]++;
                    if (length >= HeaderLength)
                    {
                        SendEchoReply(packet, offset, length, in info);
                    }
                    packet.Free();
                    return;
                case TypeEchoReply:
                    _counters[Ipv6Statistics.IcmpOtherRx]++;
                    if (length >= HeaderLength && EchoHandler != null && packet.EnsureLinear(offset + HeaderLength))
                    {
                        byte* reply = packet.Data + offset;
                        EchoHandler.OnEchoReply(info.Source, NetBytes.Read16(reply + 4), NetBytes.Read16(reply + 6), length - HeaderLength);
                    }
                    packet.Free();
                    return;
                case TypeRouterSolicitation:
                case TypeRouterAdvertisement:
                case TypeNeighborSolicitation:
                case TypeNeighborAdvertisement:
                case TypeRedirect:
                    _ip.Nd.Input(packet, offset, length, type, in info);
                    return;
                case TypeMldQuery:
                case TypeMldReport:
                case TypeMldDone:
                case TypeMldv2Report:
                    _ip.Mld.Input(packet, offset, length, type, in info);
                    return;
            }
            _counters[type < 128 ? Ipv6Statistics.IcmpErrorsRx : Ipv6Statistics.IcmpOtherRx]++;
            if (type == TypePacketTooBig || type == TypeDestinationUnreachable)
            {
                ErrorInput(packet, offset, length, type);
            }
            packet.Free();
        }

        /// <summary>
        /// Packet Too Big or Destination Unreachable quoting one of our packets: the quoted IPv6 header (sent from one
        /// of our addresses, with TCP or UDP right behind it, as this stack sends them) and the first 8 bytes of the
        /// transport header say which socket sent it. Packet Too Big quoting a TCP segment lowers that connection's
        /// path MTU (RFC 8201; the connection checks the quoted sequence number is in flight, RFC 5927, and never
        /// goes below 1280); one that the connection took, or that quotes a UDP datagram from a port we hold, lowers
        /// the destination's path MTU for everything sent there (<see cref="PathMtuCache"/>); port unreachable for
        /// UDP makes a socket connected to that peer see ConnectionRefused.
        /// A Packet Too Big that cannot be used is counted as ignored. The caller frees the packet.
        /// </summary>
        private void ErrorInput(Packet packet, int offset, int length, int type)
        {
            const int Quote = HeaderLength;
            if (type == TypePacketTooBig)
            {
                _counters[Ipv6Statistics.PacketTooBigRx]++;
            }
            bool taken = false;
            if (length >= Quote + Ipv6Layer.HeaderLength + 8 && packet.EnsureLinear(offset + Quote + Ipv6Layer.HeaderLength + 8))
            {
                byte* icmp = packet.Data + offset;
                byte* inner = icmp + Quote;
                IPv6Address local = NetBytes.ReadIPv6(inner + 8);
                IPv6Address remote = NetBytes.ReadIPv6(inner + 24);
                byte* ports = inner + Ipv6Layer.HeaderLength;
                if ((inner[0] >> 4) == Ipv6Layer.Version && _ip.Addresses.StateOf(local) != Ipv6AddressTable.StateFree)
                {
                    IPEndPoint from = new IPEndPoint(local, NetBytes.Read16(ports));
                    IPEndPoint to = new IPEndPoint(remote, NetBytes.Read16(ports + 2));
                    if (type == TypePacketTooBig)
                    {
                        uint reported = NetBytes.Read32(icmp + 4);
                        int mtu = reported < 0xFFFF ? (int)reported : 0xFFFF;
                        if (inner[6] == Ipv6Layer.NextTcp)
                        {
                            // The connection first (it compares with the path MTU it had), then the destination's.
                            taken = _ip.Stack.Tcp.FragmentationNeeded(from, to, NetBytes.Read32(ports + 4), mtu, 0, _ip.Stack.Now);
                        }
                        else if (inner[6] == Ipv6Layer.NextUdp)
                        {
                            taken = _ip.Stack.Udp.HoldsPort(from.Port);
                        }
                        if (taken)
                        {
                            _ip.PathMtu.Lower(remote, mtu, _ip.Mtu, _ip.Stack.Now);
                        }
                    }
                    else if (type == TypeDestinationUnreachable && icmp[1] == CodePortUnreachable && inner[6] == Ipv6Layer.NextUdp)
                    {
                        _ip.Stack.Udp.NoteRefused(from.Port, to);
                    }
                }
            }
            if (type == TypePacketTooBig && !taken)
            {
                _counters[Ipv6Statistics.PacketTooBigIgnored]++;
            }
        }

        private void Drop(Packet packet, int counter)
        {
            _counters[counter]++;
            packet.Free();
        }

        /// <summary>RFC 4443 section 4.2: the reply carries the request's identifier, sequence and data; a request to a
        /// multicast group is answered from one of our unicast addresses.</summary>
        private void SendEchoReply(Packet request, int offset, int length, in Ipv6Inbound info)
        {
            if (info.Source.IsAny)
            {
                return;
            }
            IPv6Address source = info.DestinationMulticast ? _ip.Addresses.SelectSource(info.Source) : info.Destination;
            if (source.IsAny)
            {
                return;
            }
            Packet reply = Copy(request, offset, length);
            if (reply == null)
            {
                return;
            }
            byte* icmp = reply.Data;
            icmp[0] = TypeEchoReply;
            icmp[1] = 0;
            _counters[Ipv6Statistics.IcmpEchoReplies]++;
            Send(reply, source, info.Source, _ip.HopLimit);
        }

        /// <summary>
        /// Sends an echo request (RFC 4443 section 4.1) with <paramref name="dataLength"/> bytes of data (cut to what
        /// one packet holds) from the source address that suits <paramref name="destination"/>. False when there is no
        /// such address yet or no buffer.
        /// </summary>
        internal bool SendEchoRequest(IPv6Address destination, int identifier, int sequence, int dataLength)
        {
            IPv6Address source = _ip.Addresses.SelectSource(destination);
            if (source.IsAny || destination.IsAny)
            {
                return false;
            }
            Packet request = _ip.Stack.AllocateTransmit();
            if (request == null)
            {
                return false;
            }
            int room = (request.Tailroom < _ip.Mtu - Ipv6Layer.HeaderLength ? request.Tailroom : _ip.Mtu - Ipv6Layer.HeaderLength) - HeaderLength;
            dataLength = dataLength < 0 ? 0 : dataLength > room ? room : dataLength;
            byte* icmp = request.Put(HeaderLength + dataLength);
            icmp[0] = TypeEchoRequest;
            icmp[1] = 0;
            NetBytes.Write16(icmp + 4, identifier);
            NetBytes.Write16(icmp + 6, sequence);
            for (int i = 0; i < dataLength; i++)
            {
                icmp[HeaderLength + i] = (byte)i;
            }
            return Send(request, source, destination, _ip.HopLimit);
        }

        /// <summary>A transmit packet holding <paramref name="count"/> bytes of <paramref name="source"/> from
        /// <paramref name="offset"/>: the first bytes linear, the rest in transmit pages. Null (counted) when out of buffers.</summary>
        private Packet Copy(Packet source, int offset, int count)
        {
            Packet copy = _ip.Stack.AllocateTransmit();
            if (copy == null)
            {
                return null;
            }
            int linear = count <= copy.Tailroom ? count : HeaderLength;
            source.CopyTo(offset, copy.Put(linear), linear);
            if (linear < count && !_ip.Stack.CopyIntoPages(copy, source, offset + linear, count - linear))
            {
                copy.Free();
                return null;
            }
            return copy;
        }

        /// <summary>Fills in the checksum of the message in <paramref name="packet"/> (data at the ICMPv6 header) and sends it.</summary>
        internal bool Send(Packet packet, IPv6Address source, IPv6Address destination, int hopLimit, bool routerAlert = false, ulong directMac = 0)
        {
            byte* icmp = packet.Data;
            *(ushort*)(icmp + 2) = 0;
            ulong sum = Checksum.SumPacket(packet, 0, packet.Length) + Checksum.PseudoHeader(source, destination, Ipv6Layer.NextIcmp, packet.Length);
            *(ushort*)(icmp + 2) = Checksum.Finish(sum);
            _counters[Ipv6Statistics.IcmpTx]++;
            return _ip.Output(packet, source, destination, Ipv6Layer.NextIcmp, hopLimit, routerAlert, directMac);
        }

        /// <summary>
        /// Sends an error about <paramref name="offending"/> (data at its IPv6 header) to its source, unless RFC 4443
        /// section 2.4 (e) forbids it or the rate limit is reached (both counted). <paramref name="multicastAllowed"/>:
        /// the error is one of the exceptions that may answer a packet sent to a multicast group (Packet Too Big,
        /// Parameter Problem code 2 for an option whose type's high bits are 10).
        /// </summary>
        internal void SendError(Packet offending, int type, int code, uint parameter, in Ipv6Inbound info, bool multicastAllowed)
        {
            if (info.Source.IsAny || info.Source.IsMulticast || ((info.DestinationMulticast || info.LinkMulticast) && !multicastAllowed) ||
                IsError(offending))
            {
                _counters[Ipv6Statistics.IcmpErrorsSuppressed]++;
                return;
            }
            if (!_limiter.TryTake(_ip.Stack.Now))
            {
                _counters[Ipv6Statistics.IcmpErrorsRateLimited]++;
                return;
            }
            IPv6Address source = info.DestinationMulticast || info.ToTentative ? _ip.Addresses.SelectSource(info.Source) : info.Destination;
            if (source.IsAny)
            {
                _counters[Ipv6Statistics.IcmpErrorsSuppressed]++;
                return;
            }
            int quote = offending.Length < MaxQuote ? offending.Length : MaxQuote;
            Packet packet = _ip.Stack.AllocateTransmit();
            if (packet == null)
            {
                return;
            }
            byte* icmp = packet.Put(HeaderLength);
            icmp[0] = (byte)type;
            icmp[1] = (byte)code;
            NetBytes.Write32(icmp + 4, parameter);
            int linear = quote <= packet.Tailroom ? quote : 0;
            if (linear > 0)
            {
                offending.CopyTo(0, packet.Put(linear), linear);
            }
            if (linear < quote && !_ip.Stack.CopyIntoPages(packet, offending, 0, quote))
            {
                packet.Free();
                return;
            }
            _counters[Ipv6Statistics.IcmpErrorsSent]++;
            Send(packet, source, info.Source, _ip.HopLimit);
        }

        /// <summary>
        /// True when the packet (data at its IPv6 header) carries an ICMPv6 error or a Redirect, behind whatever
        /// options and routing headers come first.
        /// </summary>
        private static bool IsError(Packet packet)
        {
            int at = Ipv6Layer.HeaderLength;
            if (!packet.EnsureLinear(at))
            {
                return false;
            }
            int next = packet.Data[6];
            for (int headers = 0; headers <= Ipv6Layer.MaxExtensionHeaders; headers++)
            {
                if (next == Ipv6Layer.NextIcmp)
                {
                    if (!packet.EnsureLinear(at + 1))
                    {
                        return false;
                    }
                    int type = packet.Data[at];
                    return type < 128 || type == TypeRedirect;
                }
                if ((next != Ipv6Layer.NextHopByHop && next != Ipv6Layer.NextDestinationOptions && next != Ipv6Layer.NextRouting) ||
                    !packet.EnsureLinear(at + 2))
                {
                    return false;
                }
                byte* h = packet.Data + at;
                next = h[0];
                at += (h[1] + 1) * 8;
            }
            return false;
        }
    }
}
