using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Ethernet;
using Keel.Net.Internal;

namespace Keel.Net.Ip
{
    /// <summary>
    /// IPv4 (RFC 791, RFC 1122): header checks and delivery to ICMP, UDP and TCP; fragments go through the
    /// reassembler (<see cref="Ipv4Reassembler"/>). Output routes (on-link or the gateway), writes the header,
    /// fragments datagrams larger than the MTU, and hands them to ARP for the next hop.
    /// </summary>
    internal sealed unsafe class Ipv4Layer
    {
        internal const int HeaderLength = 20;

        /// <summary>Largest IPv4 packet (total length field).</summary>
        internal const int MaxLength = 65535;
        internal const int Version = 4;
        internal const int DefaultTtl = 64;
        internal const int FlagDontFragment = 0x4000;
        internal const int FlagMoreFragments = 0x2000;
        internal const int FragmentOffsetMask = 0x1FFF;
        internal const int ProtocolIcmp = 1;
        internal const int ProtocolTcp = 6;
        internal const int ProtocolUdp = 17;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;
        private readonly Ipv4Reassembler _reassembler;
        private uint _address;
        private uint _netmask;
        private uint _gateway;
        private int _mtu;
        private ushort _ipId;

        public Ipv4Layer(NetStack stack, NetConfig config, int mtu, ushort firstId)
        {
            Stack = stack;
            Counters = stack.Counters;
            _mtu = mtu;
            _ipId = firstId;
            _address = config.Address.Value;
            _netmask = config.PrefixLength <= 0 ? 0 : config.PrefixLength >= 32 ? 0xFFFFFFFF : ~(0xFFFFFFFFu >> config.PrefixLength);
            _gateway = config.Gateway.Value;
            _reassembler = new Ipv4Reassembler(stack, config.IpReassemblySlots, config.IpReassemblyTimeout);
        }

        /// <summary>This host's address.</summary>
        internal uint Address => _address;

        /// <summary>New address, prefix and gateway (DHCP; address 0 = unconfigured).</summary>
        internal void Configure(uint address, int prefixLength, uint gateway)
        {
            _address = address;
            _netmask = prefixLength <= 0 ? 0 : prefixLength >= 32 ? 0xFFFFFFFF : ~(0xFFFFFFFFu >> prefixLength);
            _gateway = gateway;
        }

        internal void SetMtu(int mtu) => _mtu = mtu;

        // ---------------------------------------------------------------- input

        /// <summary>One received IPv4 packet (data at the IP header); the layer frees it.</summary>
        internal void Input(Packet packet)
        {
            Counters[NetStatistics.IpRx]++;
            int headerLength = 0;
            if (!IpReceive.HeaderPresent(packet, HeaderLength, Version) ||
                (headerLength = (packet.Data[0] & 0xF) * 4) < HeaderLength || !packet.EnsureLinear(headerLength))
            {
                Counters[NetStatistics.IpBadHeader]++;
                packet.Free();
                return;
            }
            byte* ip = packet.Data;
            if (!Checksum.IsValid(Checksum.Sum(ip, headerLength)))
            {
                Counters[NetStatistics.IpBadChecksum]++;
                packet.Free();
                return;
            }
            if (!IpReceive.TrimToDatagram(packet, NetBytes.Read16(ip + 2), headerLength))
            {
                Counters[NetStatistics.IpBadLength]++;
                packet.Free();
                return;
            }
            uint source = NetBytes.Read32(ip + 12);
            uint destination = NetBytes.Read32(ip + 16);
            bool broadcast = IsBroadcast(destination);
            if (destination != _address && !broadcast && !(_address == 0 && ip[9] == ProtocolUdp))
            {
                // (Unconfigured, UDP is taken whatever its address: a DHCP server may unicast to the offered address.)
                Counters[NetStatistics.IpNotForUs]++;
                packet.Free();
                return;
            }
            if (ip[8] == 0)
            {
                Counters[NetStatistics.IpTtlZero]++;
                packet.Free();
                return;
            }
            int protocol = ip[9];
            int fragment = NetBytes.Read16(ip + 6);
            if ((fragment & (FlagMoreFragments | FragmentOffsetMask)) != 0)
            {
                Counters[NetStatistics.IpFragRx]++;
                _reassembler.Input(packet, headerLength, source, destination, Stack.Now);
                return;
            }
            Deliver(packet, headerLength, source, destination, protocol, broadcast);
        }

        /// <summary>Hands a whole datagram (data starting at its IPv4 header) to its protocol.</summary>
        internal void Deliver(Packet packet, int headerLength, uint source, uint destination, int protocol, bool broadcast)
        {
            if (protocol == ProtocolTcp)
            {
                if (broadcast)
                {
                    Counters[NetStatistics.IpNotForUs]++;
                    packet.Free();
                    return;
                }
                Stack.Tcp.Input(packet, headerLength, new IPv4Address(source), new IPv4Address(destination), Stack.Now);
            }
            else if (protocol == ProtocolUdp)
            {
                Stack.Udp.Input(packet, headerLength, new IPv4Address(source), new IPv4Address(destination), broadcast);
            }
            else if (protocol == ProtocolIcmp)
            {
                Stack.Icmp.Input(packet, headerLength, source, broadcast);
            }
            else
            {
                Counters[NetStatistics.IpUnknownProtocol]++;
                packet.Free();
            }
        }

        internal bool IsBroadcast(uint address) =>
            address == 0xFFFFFFFF || (_netmask != 0xFFFFFFFF && address == (_address | ~_netmask));

        /// <summary>Expires partial datagrams.</summary>
        internal void Poll(Instant now)
        {
            _reassembler.Poll(now);
        }

        /// <summary>Frees every partial datagram (shutdown).</summary>
        internal void Clear()
        {
            _reassembler.Clear();
        }

        // ---------------------------------------------------------------- output

        internal bool Routable(uint destination) =>
            IsBroadcast(destination) || ((destination ^ _address) & _netmask) == 0 || _gateway != 0;

        /// <summary>
        /// Sends a transport packet (data starts at the transport header) to <paramref name="destination"/>.
        /// Takes ownership. Fragments it when it exceeds the MTU and <paramref name="dontFragment"/> is false.
        /// </summary>
        internal bool Output(Packet packet, uint destination, int protocol, bool dontFragment)
        {
            bool broadcast = IsBroadcast(destination);
            uint nextHop = destination;
            if (!broadcast && ((destination ^ _address) & _netmask) != 0)
            {
                if (_gateway == 0)
                {
                    Counters[NetStatistics.IpNoRoute]++;
                    packet.Free();
                    return false;
                }
                nextHop = _gateway;
            }
            int length = packet.Length;
            if (length + HeaderLength > _mtu && (packet.Flags & Packet.FlagTcpSegmentation) == 0)
            {
                if (dontFragment)
                {
                    Counters[NetStatistics.TxDropped]++;
                    packet.Free();
                    return false;
                }
                return Fragment(packet, destination, protocol, nextHop, broadcast);
            }
            byte* ip = packet.Push(HeaderLength);
            WriteHeader(ip, length + HeaderLength, _ipId++, dontFragment ? FlagDontFragment : 0, protocol, destination);
            Counters[NetStatistics.IpTx]++;
            Transmit(packet, nextHop, broadcast);
            return true;
        }

        private void WriteHeader(byte* ip, int totalLength, int id, int fragmentField, int protocol, uint destination)
        {
            ip[0] = (Version << 4) | (HeaderLength / 4);
            ip[1] = 0;
            NetBytes.Write16(ip + 2, totalLength);
            NetBytes.Write16(ip + 4, id);
            NetBytes.Write16(ip + 6, fragmentField);
            ip[8] = DefaultTtl;
            ip[9] = (byte)protocol;
            *(ushort*)(ip + 10) = 0;
            NetBytes.Write32(ip + 12, _address);
            NetBytes.Write32(ip + 16, destination);
            *(ushort*)(ip + 10) = Checksum.Finish(Checksum.Sum(ip, HeaderLength));
        }

        private bool Fragment(Packet packet, uint destination, int protocol, uint nextHop, bool broadcast)
        {
            int total = packet.Length;
            int maxData = (_mtu - HeaderLength) & ~7;
            int id = _ipId++;
            bool ok = true;
            for (int offset = 0; offset < total; offset += maxData)
            {
                int take = total - offset < maxData ? total - offset : maxData;
                Packet piece = Stack.Ethernet.AllocateTransmit();
                if (piece == null)
                {
                    ok = false;
                    break;
                }
                if (!CopyRange(piece, packet, offset, take))
                {
                    piece.Free();
                    ok = false;
                    break;
                }
                bool more = offset + take < total;
                byte* ip = piece.Push(HeaderLength);
                WriteHeader(ip, take + HeaderLength, id, (offset >> 3) | (more ? FlagMoreFragments : 0), protocol, destination);
                Counters[NetStatistics.IpTx]++;
                Counters[NetStatistics.IpFragTx]++;
                Transmit(piece, nextHop, broadcast);
            }
            packet.Free();
            return ok;
        }

        private void Transmit(Packet packet, uint nextHop, bool broadcast)
        {
            if (broadcast)
            {
                Stack.Ethernet.Output(packet, EthernetLayer.BroadcastMac, EthernetLayer.EtherTypeIPv4);
                return;
            }
            Stack.Arp.Transmit(packet, nextHop);
        }

        // ---------------------------------------------------------------- packet copies

        /// <summary>
        /// Appends bytes [offset, offset+count) of <paramref name="source"/> to <paramref name="target"/>: linear
        /// bytes are copied, page fragments are shared (one more reference each).
        /// </summary>
        internal static bool CopyRange(Packet target, Packet source, int offset, int count)
        {
            int segments = source.SegmentCount;
            for (int i = 0; i < segments && count > 0; i++)
            {
                int length;
                byte* p = source.Segment(i, out length);
                if (offset >= length)
                {
                    offset -= length;
                    continue;
                }
                int take = length - offset < count ? length - offset : count;
                if (i == 0)
                {
                    byte* d = target.Put(take);
                    if (d == null)
                    {
                        return false;
                    }
                    NetBytes.Copy(p + offset, d, take);
                }
                else
                {
                    ref PageFragment fragment = ref source.Fragment(i - 1);
                    fragment.Pool.AddRef(fragment.Page, 1);
                    if (!target.AppendFragment(fragment.Pool, fragment.Page, fragment.Offset + offset, take, 0))
                    {
                        fragment.Pool.Release(fragment.Page);
                        return false;
                    }
                }
                count -= take;
                offset = 0;
            }
            return count == 0;
        }

        /// <summary>Copies <paramref name="count"/> bytes of <paramref name="source"/> into new transmit pages attached to <paramref name="target"/>.</summary>
        internal bool CopyIntoPages(Packet target, Packet source, int offset, int count)
        {
            PagePool pages = Stack.TransmitPages;
            while (count > 0)
            {
                int page;
                if (!pages.TryAllocate(out page))
                {
                    Counters[NetStatistics.TxPageAllocFailures]++;
                    return false;
                }
                int take = count < DmaPage.Size ? count : DmaPage.Size;
                source.CopyTo(offset, pages.Address(page), take);
                if (!target.AppendFragment(pages, page, 0, take, DmaPage.Size))
                {
                    pages.Release(page);
                    return false;
                }
                offset += take;
                count -= take;
            }
            return true;
        }
    }
}
