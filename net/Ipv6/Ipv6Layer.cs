using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Ethernet;
using Keel.Net.Internal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// IPv6 (RFC 8200) on the Ethernet link: header checks, the extension-header chain walked with limits
    /// (hop-by-hop only first, destination options with the unknown-option action bits, routing headers with
    /// segments left refused, fragments to <see cref="Ipv6Reassembler"/>), delivery to ICMPv6
    /// (<see cref="Icmpv6Layer"/>, which hands Neighbor Discovery and MLD on), and output: header (with a
    /// router-alert hop-by-hop header for MLD), fragmentation above the MTU, next hop from
    /// <see cref="NeighborDiscovery"/>. Owns the IPv6 parts and their counters (<see cref="Ipv6Statistics"/>).
    /// </summary>
    internal sealed unsafe class Ipv6Layer
    {
        internal const int HeaderLength = 40;
        internal const int Version = 6;
        internal const int MinimumMtu = 1280;
        internal const int DefaultHopLimit = 64;
        internal const int EtherType = 0x86DD;

        internal const int NextHopByHop = 0;
        internal const int NextTcp = 6;
        internal const int NextUdp = 17;
        internal const int NextRouting = 43;
        internal const int NextFragment = 44;
        internal const int NextIcmp = 58;
        internal const int NextNone = 59;
        internal const int NextDestinationOptions = 60;

        internal const int FragmentHeaderLength = 8;

        /// <summary>Extension headers walked in one packet; more and the packet is dropped (counted).</summary>
        internal const int MaxExtensionHeaders = 8;

        /// <summary>Options (other than Pad1) in one hop-by-hop or destination options header.</summary>
        internal const int MaxOptions = 8;

        private const int OptionPadN = 1;
        private const int OptionRouterAlert = 5;

        internal readonly NetStack Stack;
        internal readonly long[] Counters = new long[Ipv6Statistics.Count];
        internal readonly ulong Mac;
        internal readonly Icmpv6Layer Icmp;
        internal readonly NeighborDiscovery Nd;
        internal readonly Ipv6AddressTable Addresses;
        internal readonly MulticastListener Mld;
        internal readonly PathMtuCache PathMtu;
        private readonly Ipv6Reassembler _reassembler;
        private readonly int _deviceMtu;
        private uint _fragmentId;
        private bool _started;

        public Ipv6Layer(NetStack stack, NetConfig config, ulong mac, int mtu)
        {
            Stack = stack;
            Mac = mac;
            _deviceMtu = mtu;
            Mtu = mtu;
            HopLimit = DefaultHopLimit;
            _fragmentId = stack.Random.NextUInt();
            Icmp = new Icmpv6Layer(this);
            Mld = new MulticastListener(this, config.Ipv6MaxAddresses + 1);
            Nd = new NeighborDiscovery(this, config);
            Addresses = new Ipv6AddressTable(this, config, stack.Random.Next(), stack.Random.Next());
            PathMtu = new PathMtuCache(config.Ipv6PathMtuEntries, Duration.FromMilliseconds(config.Ipv6PathMtuAgeMilliseconds), Counters);
            _reassembler = new Ipv6Reassembler(this, config.Ipv6ReassemblySlots, config.Ipv6ReassemblyPackets,
                Duration.FromMilliseconds(config.Ipv6ReassemblyTimeoutMilliseconds));
        }

        /// <summary>The link MTU for IPv6 (the device's, or less when a router advertised less).</summary>
        internal int Mtu { get; private set; }

        /// <summary>Hop limit of packets we originate (64, or a router's Cur Hop Limit).</summary>
        internal int HopLimit;

        /// <summary>The path MTU to <paramref name="destination"/>: the link MTU, or less after a Packet Too Big (<see cref="PathMtuCache"/>).</summary>
        internal int MtuFor(IPv6Address destination) => destination.IsMulticast ? Mtu : PathMtu.MtuFor(destination, Mtu, Stack.Now);

        /// <summary>Takes a router-advertised MTU (RFC 4861 section 6.3.4): between 1280 and the device's.</summary>
        internal bool SetMtu(int mtu)
        {
            if (mtu < MinimumMtu || mtu > _deviceMtu)
            {
                return false;
            }
            Mtu = mtu;
            return true;
        }

        /// <summary>True for a multicast MAC (33:33 + the group's last 32 bits, RFC 2464 section 7) of a group we are in.</summary>
        internal bool AcceptsMulticastMac(ulong mac) => (mac >> 32) == 0x3333 && Mld.AcceptsMac((uint)mac);

        /// <summary>The Ethernet address of an IPv6 multicast group (RFC 2464 section 7).</summary>
        internal static ulong MulticastMac(IPv6Address group) => 0x333300000000UL | (group.Low & 0xFFFFFFFFUL);

        // ---------------------------------------------------------------- input

        /// <summary>One received IPv6 packet (data at the IPv6 header); the layer frees it.</summary>
        internal void Input(Packet packet, bool linkMulticast)
        {
            Counters[Ipv6Statistics.Rx]++;
            if (!_started)
            {
                Drop(packet, Ipv6Statistics.NotForUs); // no address yet: the link has not come up
                return;
            }
            if (!IpReceive.HeaderPresent(packet, HeaderLength, Version))
            {
                Drop(packet, Ipv6Statistics.BadHeader);
                return;
            }
            byte* ip = packet.Data;
            // A payload length of 0 announces a jumbogram (RFC 2675), which an Ethernet link cannot carry.
            if (!IpReceive.TrimToDatagram(packet, HeaderLength + NetBytes.Read16(ip + 4), HeaderLength + 1))
            {
                Drop(packet, Ipv6Statistics.BadLength);
                return;
            }
            IPv6Address source = NetBytes.ReadIPv6(ip + 8);
            IPv6Address destination = NetBytes.ReadIPv6(ip + 24);
            if (source.IsMulticast || source == IPv6Address.Loopback || destination == IPv6Address.Loopback)
            {
                Drop(packet, Ipv6Statistics.BadSource);
                return;
            }
            if (source.IsIPv4Mapped || destination.IsIPv4Mapped)
            {
                // An IPv4-mapped address stands for an IPv4 node in the sockets API only; it must not appear in an
                // IPv6 packet (RFC 4291 section 2.5.5.2, RFC 6890 section 2.2.3).
                Drop(packet, Ipv6Statistics.MappedAddress);
                return;
            }
            bool tentative = false;
            if (destination.IsMulticast)
            {
                if (!Mld.IsMember(destination))
                {
                    Drop(packet, Ipv6Statistics.NotForUs);
                    return;
                }
            }
            else
            {
                int state = Addresses.StateOf(destination);
                if (state == Ipv6AddressTable.StateFree || state == Ipv6AddressTable.StateDuplicate)
                {
                    Drop(packet, Ipv6Statistics.NotForUs);
                    return;
                }
                tentative = state == Ipv6AddressTable.StateTentative;
            }
            Ipv6Inbound info = new Ipv6Inbound(source, destination, ip[7], linkMulticast, tentative);
            Walk(packet, ip[6], HeaderLength, 6, in info, false);
        }

        /// <summary>
        /// Walks the header chain of a packet (data at its IPv6 header) from <paramref name="offset"/>, where a
        /// header of type <paramref name="next"/> starts (named by the byte at <paramref name="pointer"/>), and
        /// delivers it to the upper layer. <paramref name="reassembled"/>: the packet was put together from
        /// fragments (a hop-by-hop header can no longer be first).
        /// </summary>
        internal void Walk(Packet packet, int next, int offset, int pointer, in Ipv6Inbound info, bool reassembled)
        {
            int headers = 0;
            while (true)
            {
                if (next == NextIcmp)
                {
                    Icmp.Input(packet, offset, in info);
                    return;
                }
                if (next == NextTcp || next == NextUdp)
                {
                    DeliverTransport(packet, next, offset, in info);
                    return;
                }
                if (next == NextNone)
                {
                    packet.Free();
                    return;
                }
                if (next != NextHopByHop && next != NextDestinationOptions && next != NextRouting && next != NextFragment)
                {
                    // An upper layer not served here: RFC 8200 section 4 asks for a Parameter Problem pointing at
                    // the unrecognized Next Header value.
                    Counters[Ipv6Statistics.UnknownNextHeader]++;
                    Icmp.SendError(packet, Icmpv6Layer.TypeParameterProblem, Icmpv6Layer.CodeUnknownNextHeader, (uint)pointer, in info, false);
                    packet.Free();
                    return;
                }
                if (next == NextHopByHop && (offset != HeaderLength || reassembled))
                {
                    Counters[Ipv6Statistics.HopByHopNotFirst]++;
                    Icmp.SendError(packet, Icmpv6Layer.TypeParameterProblem, Icmpv6Layer.CodeUnknownNextHeader, (uint)pointer, in info, false);
                    packet.Free();
                    return;
                }
                if (++headers > MaxExtensionHeaders || !packet.EnsureLinear(offset + 8))
                {
                    Drop(packet, headers > MaxExtensionHeaders || offset + 8 <= packet.Length ? Ipv6Statistics.ExtensionChainTooLong : Ipv6Statistics.BadLength);
                    return;
                }
                byte* h = packet.Data + offset;
                int length = next == NextFragment ? FragmentHeaderLength : (h[1] + 1) * 8;
                if (offset + length > packet.Length)
                {
                    Drop(packet, Ipv6Statistics.BadLength);
                    return;
                }
                if (!packet.EnsureLinear(offset + length))
                {
                    Drop(packet, Ipv6Statistics.ExtensionChainTooLong);
                    return;
                }
                h = packet.Data + offset;
                if (next == NextHopByHop || next == NextDestinationOptions)
                {
                    if (!Options(packet, offset, length, next == NextHopByHop, in info))
                    {
                        return;
                    }
                }
                else if (next == NextRouting)
                {
                    // RFC 8200 section 4.4: with segments left, a host (which forwards nothing, and refuses type
                    // 0 outright, RFC 5095) answers with a Parameter Problem at the routing type; with none left
                    // the header is skipped.
                    if (h[3] != 0)
                    {
                        Counters[Ipv6Statistics.RoutingHeaderRefused]++;
                        Icmp.SendError(packet, Icmpv6Layer.TypeParameterProblem, Icmpv6Layer.CodeErroneousHeader, (uint)(offset + 2), in info, false);
                        packet.Free();
                        return;
                    }
                }
                else
                {
                    int field = NetBytes.Read16(h + 2);
                    if ((field & 0xFFF9) == 0)
                    {
                        // An atomic fragment (offset 0, no more fragments) is processed in isolation (RFC 6946).
                        Counters[Ipv6Statistics.AtomicFragments]++;
                    }
                    else
                    {
                        Counters[Ipv6Statistics.FragRx]++;
                        _reassembler.Input(packet, offset, in info, Stack.Now);
                        return;
                    }
                }
                pointer = offset;
                next = h[0];
                offset += length;
            }
        }

        /// <summary>
        /// Hands a TCP or UDP packet (data at its IPv6 header, the transport header at <paramref name="offset"/>) to
        /// its layer, which checks it as it does over IPv4. Nothing goes to an address still under Duplicate
        /// Address Detection (RFC 4862 section 5.4), and TCP never to a multicast group.
        /// </summary>
        private void DeliverTransport(Packet packet, int next, int offset, in Ipv6Inbound info)
        {
            if (info.ToTentative || (next == NextTcp && (info.DestinationMulticast || info.LinkMulticast)))
            {
                Drop(packet, Ipv6Statistics.NotForUs);
                return;
            }
            if (next == NextTcp)
            {
                Stack.Tcp.Input(packet, offset, info.Source, info.Destination, Stack.Now);
            }
            else
            {
                Stack.Udp.Input(packet, offset, info.Source, info.Destination, info.DestinationMulticast || info.LinkMulticast);
            }
        }

        /// <summary>
        /// The options of a hop-by-hop or destination options header (RFC 8200 section 4.2). False when the
        /// packet was dropped (and freed): a malformed option, too many, or an unknown one whose action bits say so.
        /// </summary>
        private bool Options(Packet packet, int offset, int length, bool hopByHop, in Ipv6Inbound info)
        {
            byte* h = packet.Data + offset;
            int options = 0;
            int i = 2;
            while (i < length)
            {
                int type = h[i];
                if (type == 0)
                {
                    i++; // Pad1
                    continue;
                }
                if (i + 2 > length || i + 2 + h[i + 1] > length || ++options > MaxOptions)
                {
                    Counters[Ipv6Statistics.BadOption]++;
                    Icmp.SendError(packet, Icmpv6Layer.TypeParameterProblem, Icmpv6Layer.CodeErroneousHeader, (uint)(offset + i), in info, false);
                    packet.Free();
                    return false;
                }
                bool known = type == OptionPadN || (type == OptionRouterAlert && hopByHop && h[i + 1] == 2);
                if (!known)
                {
                    // The two high bits of the type say what to do with an option we do not know.
                    int action = type >> 6;
                    if (action != 0)
                    {
                        Counters[Ipv6Statistics.UnknownOptionDropped]++;
                        if (action == 2 || (action == 3 && !info.DestinationMulticast))
                        {
                            Icmp.SendError(packet, Icmpv6Layer.TypeParameterProblem, Icmpv6Layer.CodeUnknownOption, (uint)(offset + i), in info, action == 2);
                        }
                        packet.Free();
                        return false;
                    }
                }
                i += 2 + h[i + 1];
            }
            return true;
        }

        private void Drop(Packet packet, int counter)
        {
            Counters[counter]++;
            packet.Free();
        }

        // ---------------------------------------------------------------- timers

        /// <summary>Starts the interface (link-local address, static address, router solicitation) on the first
        /// poll with the link up; runs the Neighbor Discovery, address, MLD and reassembly timers.</summary>
        internal void Poll(Instant now, bool linkUp)
        {
            if (!_started)
            {
                if (!linkUp)
                {
                    return;
                }
                _started = true;
                Addresses.Start(now);
            }
            Addresses.Poll(now);
            Nd.Poll(now);
            Mld.Poll(now);
            _reassembler.Poll(now);
        }

        /// <summary>Frees every packet held (shutdown).</summary>
        internal void Clear()
        {
            Nd.Clear();
            _reassembler.Clear();
        }

        // ---------------------------------------------------------------- output

        /// <summary>
        /// Sends an upper-layer message (data starts at its header) from <paramref name="source"/> to
        /// <paramref name="destination"/>. Takes ownership. <paramref name="routerAlert"/> adds a hop-by-hop header
        /// with the router alert option (MLD, RFC 3810 section 5); <paramref name="directMac"/> (non-zero) sends to
        /// that Ethernet address without a neighbor-cache lookup. Fragments above the path MTU (<see cref="MtuFor"/>),
        /// except a TCP segment the device is to cut (<see cref="Packet.FlagTcpSegmentation"/>).
        /// </summary>
        internal bool Output(Packet packet, IPv6Address source, IPv6Address destination, int nextHeader, int hopLimit,
                             bool routerAlert = false, ulong directMac = 0)
        {
            if (!routerAlert && (packet.Flags & Packet.FlagTcpSegmentation) == 0)
            {
                int mtu = PathMtu.Count == 0 ? Mtu : MtuFor(destination);
                if (HeaderLength + packet.Length > mtu)
                {
                    return Fragment(packet, source, destination, nextHeader, hopLimit, directMac, mtu);
                }
            }
            if (routerAlert)
            {
                byte* hbh = packet.Push(8);
                if (hbh == null)
                {
                    return Refused(packet);
                }
                hbh[0] = (byte)nextHeader;
                hbh[1] = 0;
                hbh[2] = OptionRouterAlert;
                hbh[3] = 2;
                hbh[4] = 0; // value 0: a Multicast Listener Discovery message (RFC 2711)
                hbh[5] = 0;
                hbh[6] = OptionPadN;
                hbh[7] = 0;
                nextHeader = NextHopByHop;
            }
            byte* ip = packet.Push(HeaderLength);
            if (ip == null)
            {
                return Refused(packet);
            }
            WriteHeader(ip, packet.Length - HeaderLength, nextHeader, hopLimit, source, destination);
            Counters[Ipv6Statistics.Tx]++;
            return Transmit(packet, destination, directMac);
        }

        private bool Refused(Packet packet)
        {
            Stack.Counters[NetStatistics.TxDropped]++;
            packet.Free();
            return false;
        }

        private static void WriteHeader(byte* ip, int payloadLength, int nextHeader, int hopLimit, IPv6Address source, IPv6Address destination)
        {
            NetBytes.Write32(ip, (uint)Version << 28);
            NetBytes.Write16(ip + 4, payloadLength);
            ip[6] = (byte)nextHeader;
            ip[7] = (byte)hopLimit;
            NetBytes.WriteIPv6(ip + 8, source);
            NetBytes.WriteIPv6(ip + 24, destination);
        }

        private bool Transmit(Packet packet, IPv6Address destination, ulong directMac)
        {
            if (destination.IsMulticast)
            {
                Stack.Ethernet.Output(packet, MulticastMac(destination), EtherType);
                return true;
            }
            if (directMac != 0)
            {
                Stack.Ethernet.Output(packet, directMac, EtherType);
                return true;
            }
            IPv6Address nextHop;
            if (!Nd.NextHop(destination, out nextHop))
            {
                Drop(packet, Ipv6Statistics.NoRoute);
                return false;
            }
            Nd.Transmit(packet, nextHop);
            return true;
        }

        /// <summary>True when a packet to <paramref name="destination"/> has a next hop (on-link, redirected or a router).</summary>
        internal bool Routable(IPv6Address destination)
        {
            IPv6Address nextHop;
            return destination.IsMulticast || Nd.NextHop(destination, out nextHop);
        }

        /// <summary>
        /// Fragments (RFC 8200 section 4.5) a message too big for <paramref name="mtu"/> (the link's or the path's):
        /// the IPv6 header is the unfragmentable part; pieces share the message's page fragments.
        /// </summary>
        private bool Fragment(Packet packet, IPv6Address source, IPv6Address destination, int nextHeader, int hopLimit, ulong directMac, int mtu)
        {
            int total = packet.Length;
            int maxData = (mtu - HeaderLength - FragmentHeaderLength) & ~7;
            uint id = _fragmentId++;
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
                if (!NetStack.CopyRange(piece, packet, offset, take))
                {
                    piece.Free();
                    ok = false;
                    break;
                }
                byte* f = piece.Push(FragmentHeaderLength);
                byte* ip = piece.Push(HeaderLength);
                f[0] = (byte)nextHeader;
                f[1] = 0;
                NetBytes.Write16(f + 2, offset | (offset + take < total ? 1 : 0));
                NetBytes.Write32(f + 4, id);
                WriteHeader(ip, FragmentHeaderLength + take, NextFragment, hopLimit, source, destination);
                Counters[Ipv6Statistics.Tx]++;
                Counters[Ipv6Statistics.FragTx]++;
                Transmit(piece, destination, directMac);
            }
            packet.Free();
            return ok;
        }

        // ---------------------------------------------------------------- status

        /// <summary>Prints the IPv6 part of the shell's <c>net</c>: addresses, routers, prefixes, neighbors, DNS servers.</summary>
        internal void Print(ITextOutput output, Instant now)
        {
            output.Write("ipv6: mtu ");
            output.Write((long)Mtu);
            output.Write("  hop limit ");
            output.Write((long)HopLimit);
            output.WriteLine();
            Addresses.Print(output, now);
            Nd.Print(output, now);
            PathMtu.Print(output, now);
            Mld.Print(output);
        }
    }
}
