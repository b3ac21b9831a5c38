using Keel.Buffers;
using Keel.Net.Internal;
using Keel.Net.Ip;

namespace Keel.Net.Icmp
{
    /// <summary>
    /// ICMP (RFC 792): answers echo requests (ping) with the same data, counts destination-unreachable and
    /// other messages, and sends port-unreachable for UDP datagrams no socket takes.
    /// </summary>
    internal sealed unsafe class IcmpLayer
    {
        internal const int HeaderLength = 8;
        internal const int TypeEchoReply = 0;
        internal const int TypeDestinationUnreachable = 3;
        internal const int TypeEchoRequest = 8;
        internal const int CodePortUnreachable = 3;
        internal const int CodeFragmentationNeeded = 4;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;

        public IcmpLayer(NetStack stack)
        {
            Stack = stack;
            Counters = stack.Counters;
        }

        /// <summary>One received ICMP message (data at its IPv4 header of <paramref name="headerLength"/> bytes); frees it.</summary>
        internal void Input(Packet packet, int headerLength, uint source, bool broadcast)
        {
            Counters[NetStatistics.IcmpRx]++;
            int length = packet.Length - headerLength;
            if (length < HeaderLength || !packet.EnsureLinear(headerLength + HeaderLength) ||
                !Checksum.IsValid(Checksum.SumPacket(packet, headerLength, length)))
            {
                Counters[NetStatistics.IcmpBad]++;
                packet.Free();
                return;
            }
            int type = packet.Data[headerLength];
            if (type == TypeEchoRequest)
            {
                Counters[NetStatistics.IcmpEchoRequests]++;
                if (!broadcast)
                {
                    SendEchoReply(packet, headerLength, length, source);
                }
            }
            else if (type == TypeDestinationUnreachable)
            {
                Counters[NetStatistics.IcmpUnreachableRx]++;
                UnreachableInput(packet, headerLength, length);
            }
            else
            {
                Counters[NetStatistics.IcmpOtherRx]++;
            }
            packet.Free();
        }

        /// <summary>
        /// Destination unreachable (RFC 792): the quoted IPv4 header and first 8 bytes of our datagram say which
        /// socket sent it. Port unreachable for UDP: a socket connected to that peer sees ConnectionRefused (once,
        /// like Linux's ECONNREFUSED on a connected UDP socket). Fragmentation needed (code 4) quoting a TCP
        /// segment: path-MTU discovery (RFC 1191, see <c>TcpLayer.PathMtu.cs</c>); one that cannot be used (quote
        /// too short, not TCP) is counted as ignored. Other codes are only counted.
        /// </summary>
        private void UnreachableInput(Packet packet, int headerLength, int length)
        {
            const int QuoteStart = 8;
            int code = packet.Data[headerLength + 1];
            if (code == CodeFragmentationNeeded)
            {
                Counters[NetStatistics.IcmpFragNeededRx]++;
            }
            if (length < QuoteStart + 20 + 8 || !packet.EnsureLinear(headerLength + QuoteStart + 20))
            {
                CountIgnored(code);
                return;
            }
            byte* inner = packet.Data + headerLength + QuoteStart;
            int innerHeader = (inner[0] & 15) * 4;
            if ((inner[0] >> 4) != 4 || innerHeader < 20 || length < QuoteStart + innerHeader + 8 ||
                !packet.EnsureLinear(headerLength + QuoteStart + innerHeader + 8))
            {
                CountIgnored(code);
                return;
            }
            byte* icmp = packet.Data + headerLength;
            inner = icmp + QuoteStart;
            int protocol = inner[9];
            uint destination = NetBytes.Read32(inner + 16);
            byte* ports = inner + innerHeader;
            if (protocol == Ipv4Layer.ProtocolUdp && code == CodePortUnreachable)
            {
                Stack.Udp.NoteRefused(NetBytes.Read16(ports), new IPEndPoint(new IPv4Address(destination), NetBytes.Read16(ports + 2)));
            }
            else if (code == CodeFragmentationNeeded)
            {
                // Bytes 6-7 of the ICMP header: the next-hop MTU (RFC 1191 section 4; 0 from older routers).
                if (protocol != Ipv4Layer.ProtocolTcp ||
                    !Stack.Tcp.FragmentationNeeded(new IPEndPoint(new IPv4Address(NetBytes.Read32(inner + 12)), NetBytes.Read16(ports)),
                        new IPEndPoint(new IPv4Address(destination), NetBytes.Read16(ports + 2)), NetBytes.Read32(ports + 4), NetBytes.Read16(icmp + 6),
                        NetBytes.Read16(inner + 2), Stack.Now))
                {
                    Counters[NetStatistics.IcmpFragNeededIgnored]++;
                }
            }
        }

        private void CountIgnored(int code)
        {
            if (code == CodeFragmentationNeeded)
            {
                Counters[NetStatistics.IcmpFragNeededIgnored]++;
            }
        }

        private void SendEchoReply(Packet request, int headerLength, int length, uint destination)
        {
            Packet reply = Stack.Ethernet.AllocateTransmit();
            if (reply == null)
            {
                return;
            }
            if (length <= reply.Tailroom)
            {
                request.CopyTo(headerLength, reply.Put(length), length);
            }
            else
            {
                request.CopyTo(headerLength, reply.Put(HeaderLength), HeaderLength);
                if (!Stack.Ipv4.CopyIntoPages(reply, request, headerLength + HeaderLength, length - HeaderLength))
                {
                    reply.Free();
                    return;
                }
            }
            byte* icmp = reply.Data;
            icmp[0] = TypeEchoReply;
            icmp[1] = 0;
            *(ushort*)(icmp + 2) = 0;
            *(ushort*)(icmp + 2) = Checksum.Finish(Checksum.SumPacket(reply, 0, reply.Length));
            Counters[NetStatistics.IcmpEchoRepliesSent]++;
            Stack.Ipv4.Output(reply, destination, Ipv4Layer.ProtocolIcmp, false);
        }

        /// <summary>Port unreachable to <paramref name="destination"/>, quoting the offending datagram's IP header and 8 bytes.</summary>
        internal void SendPortUnreachable(Packet offending, int headerLength, uint destination)
        {
            Packet packet = Stack.Ethernet.AllocateTransmit();
            if (packet == null)
            {
                return;
            }
            int quoted = headerLength + 8;
            if (quoted > offending.Length)
            {
                quoted = offending.Length;
            }
            byte* icmp = packet.Put(HeaderLength + quoted);
            if (icmp == null)
            {
                packet.Free();
                return;
            }
            icmp[0] = TypeDestinationUnreachable;
            icmp[1] = CodePortUnreachable;
            *(ushort*)(icmp + 2) = 0;
            *(uint*)(icmp + 4) = 0;
            offending.CopyTo(0, icmp + HeaderLength, quoted);
            *(ushort*)(icmp + 2) = Checksum.Finish(Checksum.Sum(icmp, HeaderLength + quoted));
            Counters[NetStatistics.IcmpUnreachableSent]++;
            Stack.Ipv4.Output(packet, destination, Ipv4Layer.ProtocolIcmp, false);
        }
    }
}
