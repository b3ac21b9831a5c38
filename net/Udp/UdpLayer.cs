using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Ip;
using Keel.Net.Sockets;

namespace Keel.Net.Udp
{
    /// <summary>
    /// UDP (RFC 768): demultiplexes datagrams to bound sockets (a connected socket's exact match first, else
    /// the first bound one), checks lengths and checksums, and builds outgoing datagrams (checksum left to the
    /// device when it offers offload).
    /// </summary>
    internal sealed unsafe class UdpLayer
    {
        internal const int HeaderLength = 8;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;

        /// <summary>Bound UDP sockets, linked through <see cref="Socket.UdpNext"/>.</summary>
        private Socket _sockets;

        public UdpLayer(NetStack stack)
        {
            Stack = stack;
            Counters = stack.Counters;
        }

        internal void Link(Socket socket)
        {
            if (!socket.OnUdpList)
            {
                socket.UdpNext = _sockets;
                _sockets = socket;
                socket.OnUdpList = true;
            }
        }

        internal void Unlink(Socket socket)
        {
            Socket previous = null;
            for (Socket s = _sockets; s != null; s = s.UdpNext)
            {
                if (s == socket)
                {
                    if (previous == null)
                    {
                        _sockets = s.UdpNext;
                    }
                    else
                    {
                        previous.UdpNext = s.UdpNext;
                    }
                    break;
                }
                previous = s;
            }
            socket.UdpNext = null;
            socket.OnUdpList = false;
        }

        /// <summary>ARP gave up on <paramref name="address"/>: sockets that last sent there see HostUnreachable.</summary>
        internal void NoteUnreachable(uint address)
        {
            for (Socket s = _sockets; s != null; s = s.UdpNext)
            {
                if (s.LastDestination == address)
                {
                    s.Error = SocketError.HostUnreachable;
                }
            }
        }

        /// <summary>ICMP port unreachable for a datagram from <paramref name="localPort"/> to the peer: a socket connected there sees ConnectionRefused.</summary>
        internal void NoteRefused(int localPort, uint remoteAddress, int remotePort)
        {
            for (Socket s = _sockets; s != null; s = s.UdpNext)
            {
                if (s.UdpConnected && s.LocalPort == localPort && s.RemoteAddress == remoteAddress && s.RemotePort == remotePort)
                {
                    s.Error = SocketError.ConnectionRefused;
                    Counters[NetStatistics.UdpRefused]++;
                }
            }
        }

        /// <summary>One received datagram (data at its IPv4 header of <paramref name="headerLength"/> bytes); takes ownership.</summary>
        internal void Input(Packet packet, int headerLength, uint source, uint destination, bool broadcast)
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
            Socket match = null;
            for (Socket s = _sockets; s != null; s = s.UdpNext)
            {
                if (s.LocalPort != destinationPort || (s.LocalAddress != 0 && s.LocalAddress != destination))
                {
                    continue;
                }
                if (s.UdpConnected)
                {
                    if (s.RemoteAddress == source && s.RemotePort == sourcePort)
                    {
                        match = s;
                        break;
                    }
                }
                else if (match == null)
                {
                    match = s;
                }
            }
            if (match == null)
            {
                Counters[NetStatistics.UdpNoPort]++;
                if (!broadcast)
                {
                    Stack.Icmp.SendPortUnreachable(packet, headerLength, source);
                }
                packet.Free();
                return;
            }
            if (match.ShutdownReceive || match.UdpQueue.TrueSize + packet.TrueSize > match.ReceiveBufferSize)
            {
                Counters[NetStatistics.UdpRcvbufErrors]++;
                packet.Free();
                return;
            }
            packet.Pull(headerLength + HeaderLength);
            packet.Tag = source;
            packet.Timestamp = sourcePort;
            match.UdpQueue.Enqueue(packet);
            Stack.Notify(match, SocketEvents.Readable);
        }

        /// <summary>Builds and sends one UDP datagram. Returns Success or the reason it was not sent.</summary>
        /// <summary>Largest datagram payload: the IPv4 total length limit less both headers (65,507 bytes).</summary>
        internal const int MaxDatagram = 65535 - Ipv4Layer.HeaderLength - HeaderLength;

        internal SocketError Output(Socket socket, byte* data, int length, uint destination, int destinationPort)
        {
            if (length > MaxDatagram || length < 0)
            {
                return SocketError.MessageSize;
            }
            if (!Stack.Ipv4.Routable(destination))
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
            NetBytes.Write16(udp, socket.LocalPort);
            NetBytes.Write16(udp + 2, destinationPort);
            NetBytes.Write16(udp + 4, total);
            *(ushort*)(udp + 6) = 0;
            uint source = socket.LocalAddress != 0 ? socket.LocalAddress : Stack.Ipv4.Address;
            if (Stack.ChecksumOffload && total + Ipv4Layer.HeaderLength <= Stack.Mtu)
            {
                // The device sums the datagram (one frame; fragments need the sum computed here); the field holds the (uncomplemented) pseudo-header sum.
                *(ushort*)(udp + 6) = (ushort)Checksum.Fold(Checksum.PseudoHeader(source, destination, Ipv4Layer.ProtocolUdp, total));
                packet.SetChecksumPartial(0, 6);
            }
            else
            {
                ushort checksum = Checksum.Finish(Checksum.PseudoHeader(source, destination, Ipv4Layer.ProtocolUdp, total) + Checksum.SumPacket(packet, 0, total));
                *(ushort*)(udp + 6) = checksum == 0 ? (ushort)0xFFFF : checksum;
            }
            Counters[NetStatistics.UdpTx]++;
            socket.LastDestination = destination;
            Stack.Ipv4.Output(packet, destination, Ipv4Layer.ProtocolUdp, false);
            return SocketError.Success;
        }
    }
}
