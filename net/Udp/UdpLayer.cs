using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Ip;
using Keel.Net.Sockets;

namespace Keel.Net.Udp
{
    /// <summary>
    /// UDP (RFC 768): the pool of <see cref="UdpEndpoint"/>s, demultiplexing of datagrams to bound endpoints (a
    /// connected one's exact match first, else the first bound one), length and checksum checks, and outgoing
    /// datagrams (checksum left to the device when it offers offload).
    /// </summary>
    internal sealed unsafe class UdpLayer : IPoolMaker<UdpEndpoint>
    {
        internal const int HeaderLength = 8;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;

        /// <summary>Endpoints, one per socket at most, made like the sockets: some at start-up, the rest when first needed.</summary>
        private readonly LazyPool<UdpEndpoint> _endpoints;

        /// <summary>Bound endpoints, linked through <see cref="UdpEndpoint.BoundNext"/>.</summary>
        private UdpEndpoint _bound;

        public UdpLayer(NetStack stack, NetConfig config)
        {
            Stack = stack;
            Counters = stack.Counters;
            _endpoints = new LazyPool<UdpEndpoint>(config.MaxSockets, config.PreallocatedSockets, this);
        }

        UdpEndpoint IPoolMaker<UdpEndpoint>.Make(int index) => new UdpEndpoint();

        /// <summary>An endpoint for <paramref name="socket"/>, fresh; null when all are in use.</summary>
        internal UdpEndpoint Open(Socket socket)
        {
            UdpEndpoint endpoint = _endpoints.Take();
            if (endpoint == null)
            {
                return null;
            }
            endpoint.Open(socket, Stack.Config);
            return endpoint;
        }

        /// <summary>Gives an endpoint back: unbound, its queued datagrams freed.</summary>
        internal void Release(UdpEndpoint endpoint)
        {
            Unbind(endpoint);
            endpoint.DropQueued();
            _endpoints.Give(endpoint);
        }

        /// <summary>Binds <paramref name="endpoint"/> to <paramref name="local"/> (port checked free by the caller): datagrams to it are delivered.</summary>
        internal void Bind(UdpEndpoint endpoint, IPEndPoint local)
        {
            endpoint.Local = local;
            if (!endpoint.OnBoundList)
            {
                endpoint.BoundNext = _bound;
                _bound = endpoint;
                endpoint.OnBoundList = true;
            }
        }

        private void Unbind(UdpEndpoint endpoint)
        {
            UdpEndpoint previous = null;
            for (UdpEndpoint e = _bound; e != null; e = e.BoundNext)
            {
                if (e == endpoint)
                {
                    if (previous == null)
                    {
                        _bound = e.BoundNext;
                    }
                    else
                    {
                        previous.BoundNext = e.BoundNext;
                    }
                    break;
                }
                previous = e;
            }
            endpoint.BoundNext = null;
            endpoint.OnBoundList = false;
        }

        /// <summary>ARP gave up on <paramref name="address"/>: endpoints that last sent there see HostUnreachable.</summary>
        internal void NoteUnreachable(IPAddress address)
        {
            for (UdpEndpoint e = _bound; e != null; e = e.BoundNext)
            {
                if (e.LastDestination == address)
                {
                    e.Error = SocketError.HostUnreachable;
                }
            }
        }

        /// <summary>True when an endpoint is bound to <paramref name="localPort"/> (an ICMP error quoting a datagram from
        /// that port can be about one we sent).</summary>
        internal bool HoldsPort(int localPort)
        {
            for (UdpEndpoint e = _bound; e != null; e = e.BoundNext)
            {
                if (e.Local.Port == localPort)
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>ICMP port unreachable for a datagram from <paramref name="localPort"/> to <paramref name="remote"/>: an endpoint connected there sees ConnectionRefused.</summary>
        internal void NoteRefused(int localPort, IPEndPoint remote)
        {
            for (UdpEndpoint e = _bound; e != null; e = e.BoundNext)
            {
                if (e.Connected && e.Local.Port == localPort && e.Remote == remote)
                {
                    e.Error = SocketError.ConnectionRefused;
                    Counters[NetStatistics.UdpRefused]++;
                }
            }
        }

        /// <summary>
        /// One received datagram (data at its IP header; the UDP header <paramref name="headerLength"/> bytes in,
        /// behind any IPv6 extension headers); takes ownership. <paramref name="broadcast"/>: sent to a broadcast or
        /// multicast address (no port unreachable then).
        /// </summary>
        internal void Input(Packet packet, int headerLength, IPAddress source, IPAddress destination, bool broadcast)
        {
            Counters[NetStatistics.UdpRx]++;
            if (!packet.EnsureLinear(headerLength + HeaderLength))
            {
                Counters[NetStatistics.UdpBadLength]++;
                packet.Free();
                return;
            }
            byte* udp = packet.Data + headerLength;
            int sourcePort = NetBytes.Read16(udp);
            int destinationPort = NetBytes.Read16(udp + 2);
            int length = NetBytes.Read16(udp + 4);
            if (length < HeaderLength || length > packet.Length - headerLength || destinationPort == 0)
            {
                Counters[NetStatistics.UdpBadLength]++;
                packet.Free();
                return;
            }
            if (length < packet.Length - headerLength)
            {
                packet.TrimTo(headerLength + length);
            }
            if (*(ushort*)(udp + 6) == 0 && source.IsIPv6)
            {
                // RFC 8200 section 8.1: the checksum is mandatory over IPv6; a zero one is discarded.
                Counters[NetStatistics.UdpBadChecksum]++;
                packet.Free();
                return;
            }
            if (*(ushort*)(udp + 6) != 0 && (packet.Flags & Packet.FlagChecksumValid) == 0)
            {
                ulong sum = Checksum.PseudoHeader(source, destination, Ipv4Layer.ProtocolUdp, length) + Checksum.SumPacket(packet, headerLength, length);
                if (!Checksum.IsValid(sum))
                {
                    Counters[NetStatistics.UdpBadChecksum]++;
                    packet.Free();
                    return;
                }
            }
            IPEndPoint to = new IPEndPoint(destination, destinationPort);
            IPEndPoint from = new IPEndPoint(source, sourcePort);
            UdpEndpoint match = null;
            for (UdpEndpoint e = _bound; e != null; e = e.BoundNext)
            {
                if (!e.IsBoundTo(to))
                {
                    continue;
                }
                if (e.Connected)
                {
                    if (e.Remote == from)
                    {
                        match = e;
                        break;
                    }
                }
                else if (match == null)
                {
                    match = e;
                }
            }
            if (match == null)
            {
                Counters[NetStatistics.UdpNoPort]++;
                Stack.SendPortUnreachable(packet, headerLength, source, destination, broadcast);
                packet.Free();
                return;
            }
            packet.Pull(headerLength + HeaderLength);
            // An IPv6 sender's address lies 8 bytes into the IPv6 header, which starts headerLength + 8 bytes before the payload.
            if (!match.Enqueue(packet, from, source.IsIPv6 ? headerLength : 0))
            {
                Counters[NetStatistics.UdpRcvbufErrors]++;
                packet.Free();
                return;
            }
            Stack.Notify(match.Socket, SocketEvents.Readable);
        }

        /// <summary>Largest datagram payload: the IPv4 total length limit less both headers (65,507 bytes).</summary>
        internal const int MaxDatagram = 65535 - Ipv4Layer.HeaderLength - HeaderLength;

        /// <summary>Builds and sends one UDP datagram from <paramref name="endpoint"/>. Returns Success or the reason it was not sent.</summary>
        internal SocketError Output(UdpEndpoint endpoint, byte* data, int length, IPEndPoint destination)
        {
            if (length > MaxDatagram || length < 0)
            {
                return SocketError.MessageSize;
            }
            if (!Stack.Routable(destination.Address))
            {
                Counters[NetStatistics.IpNoRoute]++;
                return SocketError.NetworkUnreachable;
            }
            Packet packet = Stack.Ethernet.AllocateTransmit();
            if (packet == null)
            {
                Counters[NetStatistics.UdpTxErrors]++;
                return SocketError.NoBufferSpaceAvailable;
            }
            if (length <= packet.Tailroom)
            {
                NetBytes.Copy(data, packet.Put(length), length);
            }
            else
            {
                // Page by page (a datagram above the MTU is fragmented by IPv4 output, sharing these pages).
                PagePool pages = Stack.TransmitPages;
                for (int offset = 0; offset < length; offset += DmaPage.Size)
                {
                    int take = length - offset < DmaPage.Size ? length - offset : DmaPage.Size;
                    int page;
                    if (!pages.TryAllocate(out page))
                    {
                        Counters[NetStatistics.TxPageAllocFailures]++;
                        Counters[NetStatistics.UdpTxErrors]++;
                        packet.Free();
                        return SocketError.NoBufferSpaceAvailable;
                    }
                    NetBytes.Copy(data + offset, pages.Address(page), take);
                    if (!packet.AppendFragment(pages, page, 0, take, DmaPage.Size))
                    {
                        pages.Release(page);
                        Counters[NetStatistics.UdpTxErrors]++;
                        packet.Free();
                        return SocketError.NoBufferSpaceAvailable;
                    }
                }
            }
            byte* udp = packet.Push(HeaderLength);
            int total = length + HeaderLength;
            NetBytes.Write16(udp, endpoint.Local.Port);
            NetBytes.Write16(udp + 2, destination.Port);
            NetBytes.Write16(udp + 4, total);
            *(ushort*)(udp + 6) = 0;
            IPAddress source = endpoint.Local.Address.IsAny || endpoint.Local.Address.Family != destination.Address.Family
                ? Stack.SourceFor(destination.Address) : endpoint.Local.Address;
            if (Stack.ChecksumOffload && total + NetStack.IpHeaderLength(destination.Address) <= Stack.MtuFor(destination.Address))
            {
                // The device sums the datagram (one frame; fragments need the sum computed here); the field holds the (uncomplemented) pseudo-header sum.
                *(ushort*)(udp + 6) = (ushort)Checksum.Fold(Checksum.PseudoHeader(source, destination.Address, Ipv4Layer.ProtocolUdp, total));
                packet.SetChecksumPartial(0, 6);
            }
            else
            {
                ushort checksum = Checksum.Finish(Checksum.PseudoHeader(source, destination.Address, Ipv4Layer.ProtocolUdp, total) + Checksum.SumPacket(packet, 0, total));
                *(ushort*)(udp + 6) = checksum == 0 ? (ushort)0xFFFF : checksum;
            }
            Counters[NetStatistics.UdpTx]++;
            endpoint.LastDestination = destination.Address;
            endpoint.DatagramsSent++;
            Stack.OutputIP(packet, source, destination.Address, Ipv4Layer.ProtocolUdp, false);
            return SocketError.Success;
        }
    }
}
