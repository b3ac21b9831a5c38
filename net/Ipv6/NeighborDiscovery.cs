using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// Neighbor Discovery for a host (RFC 4861): Neighbor Solicitations and Advertisements (address resolution,
    /// unreachability detection through <see cref="NeighborCache"/>, Duplicate Address Detection for
    /// <see cref="Ipv6AddressTable"/>), Router Solicitations at start-up, Router Advertisements (default routers,
    /// prefixes and on-link determination, MTU, reachable time and retransmission timer, SLAAC prefixes and RDNSS
    /// servers, RFC 8106), and Redirects accepted only from the current first-hop router. Every message needs hop
    /// limit 255 and code 0 and well-formed options; the lists are bounded.
    /// </summary>
    internal sealed unsafe class NeighborDiscovery
    {
        internal const int OptionSourceLinkAddress = 1;
        internal const int OptionTargetLinkAddress = 2;
        internal const int OptionPrefixInformation = 3;
        internal const int OptionRedirectedHeader = 4;
        internal const int OptionMtu = 5;
        internal const int OptionRdnss = 25;

        internal const int FlagRouter = 0x80;
        internal const int FlagSolicited = 0x40;
        internal const int FlagOverride = 0x20;
        internal const int PrefixFlagOnLink = 0x80;
        internal const int PrefixFlagAutonomous = 0x40;

        /// <summary>RFC 4861 section 10 host constants.</summary>
        internal const int MaxRtrSolicitations = 3;
        internal static Duration RtrSolicitationInterval => Duration.FromSeconds(4);
        internal static Duration MaxRtrSolicitationDelay => Duration.FromSeconds(1);
        internal static Duration DefaultReachableTime => Duration.FromSeconds(30);
        internal static Duration DefaultRetransTimer => Duration.FromSeconds(1);

        /// <summary>Longest Neighbor Discovery message looked at (it is copied whole): one Ethernet MTU.</summary>
        internal const int MaxMessage = 1500;

        /// <summary>How long a Redirect's next hop is used without a new Redirect.</summary>
        private static Duration RedirectLifetime => Duration.FromSeconds(600);

        internal static readonly IPv6Address AllNodes = new IPv6Address(0xFF02000000000000UL, 1);
        internal static readonly IPv6Address AllRouters = new IPv6Address(0xFF02000000000000UL, 2);

        private readonly Ipv6Layer _ip;
        private readonly long[] _counters;
        private readonly NeighborCache _neighbors;
        private readonly LifetimeList _routers;
        private readonly LifetimeList _prefixes;
        private readonly LifetimeList _dnsServers;
        private readonly IPv6Address[] _redirectDestination;
        private readonly IPv6Address[] _redirectTarget;
        private readonly Instant[] _redirectExpires;
        private readonly byte[] _message = new byte[MaxMessage];
        private Duration _baseReachableTime;
        private int _solicitationsSent;
        private Instant _nextSolicitation;
        private bool _soliciting;

        public NeighborDiscovery(Ipv6Layer ip, NetConfig config)
        {
            _ip = ip;
            _counters = ip.Counters;
            _neighbors = new NeighborCache(this, _counters, config.Ipv6NeighborCacheSize, config.ArpPendingPackets);
            _routers = new LifetimeList(config.Ipv6MaxRouters);
            _prefixes = new LifetimeList(config.Ipv6MaxPrefixes);
            _dnsServers = new LifetimeList(config.Ipv6MaxDnsServers);
            _redirectDestination = new IPv6Address[config.Ipv6MaxRedirects];
            _redirectTarget = new IPv6Address[config.Ipv6MaxRedirects];
            _redirectExpires = new Instant[config.Ipv6MaxRedirects];
            _baseReachableTime = DefaultReachableTime;
            ReachableTime = DefaultReachableTime;
            RetransTimer = DefaultRetransTimer;
        }

        /// <summary>How long a confirmed neighbor stays REACHABLE (RFC 4861 section 6.3.2: the base time times 0.5 to 1.5).</summary>
        internal Duration ReachableTime { get; private set; }

        /// <summary>Time between solicitations.</summary>
        internal Duration RetransTimer { get; private set; }

        internal NeighborCache Neighbors => _neighbors;

        internal LifetimeList Routers => _routers;

        internal LifetimeList Prefixes => _prefixes;

        internal LifetimeList DnsServers => _dnsServers;

        /// <summary>A static default router (<c>gw6=</c>), never expiring.</summary>
        internal void AddStaticRouter(IPv6Address router)
        {
            _routers.Update(router, 128, Instant.MaxValue);
        }

        /// <summary>A static on-link prefix (the prefix of <c>ip6=ADDR/LEN</c>), never expiring.</summary>
        internal void AddStaticPrefix(IPv6Address prefix, int prefixLength)
        {
            _prefixes.Update(LifetimeList.Prefix(prefix, prefixLength), prefixLength, Instant.MaxValue);
        }

        // ---------------------------------------------------------------- next hop

        /// <summary>
        /// The next hop for <paramref name="destination"/> (RFC 4861 section 5.2): a Redirect's target, the
        /// destination itself when on-link (link-local, or in an on-link prefix), else a default router (one
        /// believed reachable first). False when there is none.
        /// </summary>
        internal bool NextHop(IPv6Address destination, out IPv6Address nextHop)
        {
            nextHop = destination;
            Instant now = _ip.Stack.Now;
            for (int i = 0; i < _redirectDestination.Length; i++)
            {
                if (_redirectExpires[i].IsSet && now < _redirectExpires[i] && _redirectDestination[i] == destination)
                {
                    nextHop = _redirectTarget[i];
                    return true;
                }
            }
            if (destination.IsLinkLocal || _prefixes.Covers(destination))
            {
                return true;
            }
            int chosen = -1;
            for (int i = 0; i < _routers.Capacity; i++)
            {
                if (!_routers.InUse(i) || now >= _routers.Expires(i))
                {
                    continue;
                }
                int state = _neighbors.StateOf(_routers.Address(i));
                if (state != NeighborCache.StateIncomplete && state != NeighborCache.StateFree)
                {
                    chosen = i;
                    break;
                }
                if (chosen < 0)
                {
                    chosen = i;
                }
            }
            if (chosen < 0)
            {
                return false;
            }
            nextHop = _routers.Address(chosen);
            return true;
        }

        /// <summary>Sends an IPv6 packet (header in place) to a neighbor, resolving it first when needed.</summary>
        internal void Transmit(Packet packet, IPv6Address nextHop) => _neighbors.Transmit(packet, nextHop, _ip.Stack.Now);

        internal void TransmitFrame(Packet packet, ulong mac) => _ip.Stack.Ethernet.Output(packet, mac, Ipv6Layer.EtherType);

        /// <summary>A router's neighbor entry failed: it stops being a default router (RFC 4861 section 6.3.6).</summary>
        internal void RouterUnreachable(IPv6Address router)
        {
            int i = _routers.Find(router, 128);
            if (i >= 0 && _routers.Expires(i) != Instant.MaxValue)
            {
                _routers.Remove(i);
            }
        }

        // ---------------------------------------------------------------- input

        /// <summary>One ND message (ICMPv6 type <paramref name="type"/> at <paramref name="offset"/>, checksum verified); frees the packet.</summary>
        internal void Input(Packet packet, int offset, int length, int type, in Ipv6Inbound info)
        {
            if (info.HopLimit != 255)
            {
                // RFC 4861: a message that crossed a router is not from this link.
                _counters[Ipv6Statistics.NdBadHopLimit]++;
                packet.Free();
                return;
            }
            if (length > MaxMessage)
            {
                _counters[Ipv6Statistics.NdBad]++;
                packet.Free();
                return;
            }
            fixed (byte* m = _message)
            {
                packet.CopyTo(offset, m, length);
                packet.Free();
                if (m[1] != 0)
                {
                    _counters[Ipv6Statistics.NdBad]++;
                    return;
                }
                switch (type)
                {
                    case Icmpv6Layer.TypeNeighborSolicitation:
                        _counters[Ipv6Statistics.NsRx]++;
                        SolicitationInput(m, length, in info);
                        break;
                    case Icmpv6Layer.TypeNeighborAdvertisement:
                        _counters[Ipv6Statistics.NaRx]++;
                        AdvertisementInput(m, length, in info);
                        break;
                    case Icmpv6Layer.TypeRouterAdvertisement:
                        _counters[Ipv6Statistics.RaRx]++;
                        RouterAdvertisementInput(m, length, in info);
                        break;
                    case Icmpv6Layer.TypeRedirect:
                        _counters[Ipv6Statistics.RedirectRx]++;
                        RedirectInput(m, length, in info);
                        break;
                    default:
                        // Router Solicitations are for routers; a host ignores them (section 6.2.6).
                        _counters[Ipv6Statistics.IcmpOtherRx]++;
                        break;
                }
            }
        }

        /// <summary>True when every option from <paramref name="start"/> has a non-zero length and lies inside the message.</summary>
        internal static bool OptionsValid(byte* m, int start, int length)
        {
            int at = start;
            while (at < length)
            {
                if (at + 2 > length || m[at + 1] == 0 || at + m[at + 1] * 8 > length)
                {
                    return false;
                }
                at += m[at + 1] * 8;
            }
            return true;
        }

        /// <summary>The link-layer address in the first option of <paramref name="type"/> (1 or 2); 0 when there is none.</summary>
        private static ulong LinkAddressOption(byte* m, int start, int length, int type)
        {
            for (int at = start; at < length; at += m[at + 1] * 8)
            {
                if (m[at] == type && m[at + 1] == 1)
                {
                    return NetBytes.ReadMac(m + at + 2);
                }
            }
            return 0;
        }

        private bool Bad(int counter)
        {
            _counters[counter]++;
            return false;
        }

        /// <summary>RFC 4861 sections 7.1.1 and 7.2.3, and DAD (RFC 4862 section 5.4.3).</summary>
        private bool SolicitationInput(byte* m, int length, in Ipv6Inbound info)
        {
            if (length < 24 || !OptionsValid(m, 24, length))
            {
                return Bad(Ipv6Statistics.NdBadOptions);
            }
            IPv6Address target = NetBytes.ReadIPv6(m + 8);
            ulong mac = LinkAddressOption(m, 24, length, OptionSourceLinkAddress);
            bool fromUnspecified = info.Source.IsAny;
            if (target.IsMulticast || (fromUnspecified && (!IsSolicitedNode(info.Destination) || mac != 0)))
            {
                return Bad(Ipv6Statistics.NdBad);
            }
            int state = _ip.Addresses.StateOf(target);
            if (state == Ipv6AddressTable.StateFree || state == Ipv6AddressTable.StateDuplicate)
            {
                return false;
            }
            if (state == Ipv6AddressTable.StateTentative)
            {
                if (fromUnspecified)
                {
                    _ip.Addresses.DuplicateDetected(target, _ip.Stack.Now); // another node is probing the same address
                }
                return false;
            }
            if (fromUnspecified)
            {
                SendAdvertisement(target, AllNodes, false, 0);
                return true;
            }
            if (mac != 0)
            {
                _neighbors.Learn(info.Source, mac, false, false, _ip.Stack.Now);
            }
            // Answer to the address the solicitation gave, so a full cache cannot stop the answer.
            SendAdvertisement(target, info.Source, true, mac);
            return true;
        }

        /// <summary>RFC 4861 sections 7.1.2 and 7.2.5, and DAD (RFC 4862 section 5.4.4).</summary>
        private bool AdvertisementInput(byte* m, int length, in Ipv6Inbound info)
        {
            if (length < 24 || !OptionsValid(m, 24, length))
            {
                return Bad(Ipv6Statistics.NdBadOptions);
            }
            int flags = m[4];
            IPv6Address target = NetBytes.ReadIPv6(m + 8);
            if (target.IsMulticast || (info.DestinationMulticast && (flags & FlagSolicited) != 0))
            {
                return Bad(Ipv6Statistics.NdBad);
            }
            int state = _ip.Addresses.StateOf(target);
            if (state == Ipv6AddressTable.StateTentative)
            {
                _ip.Addresses.DuplicateDetected(target, _ip.Stack.Now);
                return false;
            }
            if (state != Ipv6AddressTable.StateFree)
            {
                _counters[Ipv6Statistics.AddressConflicts]++; // someone else claims an address we use
                return false;
            }
            ulong mac = LinkAddressOption(m, 24, length, OptionTargetLinkAddress);
            bool isRouter = (flags & FlagRouter) != 0;
            if (!_neighbors.Advertised(target, mac, (flags & FlagSolicited) != 0, (flags & FlagOverride) != 0, isRouter, _ip.Stack.Now))
            {
                RouterUnreachable(target);
            }
            return true;
        }

        /// <summary>RFC 4861 sections 6.1.2 and 6.3.4, RFC 4862 section 5.5.3, RFC 8106 section 5.1.</summary>
        private bool RouterAdvertisementInput(byte* m, int length, in Ipv6Inbound info)
        {
            if (!info.Source.IsLinkLocal || length < 16 || !OptionsValid(m, 16, length))
            {
                return Bad(Ipv6Statistics.NdBadOptions);
            }
            Instant now = _ip.Stack.Now;
            _soliciting = false;
            if (m[4] != 0)
            {
                _ip.HopLimit = m[4];
            }
            uint reachable = NetBytes.Read32(m + 8);
            uint retrans = NetBytes.Read32(m + 12);
            if (reachable != 0 && reachable <= 3600000 && Duration.FromMilliseconds(reachable) != _baseReachableTime)
            {
                _baseReachableTime = Duration.FromMilliseconds(reachable);
                ReachableTime = RandomReachableTime();
            }
            if (retrans != 0)
            {
                // Kept between 100 ms and 60 s: a router cannot make us flood or stall the link.
                RetransTimer = Duration.FromMilliseconds(retrans < 100 ? 100 : retrans > 60000 ? 60000 : retrans);
            }
            int routerLifetime = NetBytes.Read16(m + 6);
            if (!_routers.Update(info.Source, 128, routerLifetime == 0 ? Instant.None : now + Duration.FromSeconds(routerLifetime)))
            {
                _counters[Ipv6Statistics.RoutersDropped]++;
            }
            ulong mac = LinkAddressOption(m, 16, length, OptionSourceLinkAddress);
            if (mac != 0)
            {
                _neighbors.Learn(info.Source, mac, true, true, now);
            }
            for (int at = 16; at < length; at += m[at + 1] * 8)
            {
                int type = m[at];
                int size = m[at + 1] * 8;
                if (type == OptionPrefixInformation && size == 32)
                {
                    PrefixInput(m + at, now);
                }
                else if (type == OptionMtu && size == 8)
                {
                    uint mtu = NetBytes.Read32(m + at + 4);
                    _ip.SetMtu(mtu > int.MaxValue ? 0 : (int)mtu);
                }
                else if (type == OptionRdnss && size >= 24)
                {
                    uint lifetime = NetBytes.Read32(m + at + 4);
                    for (int a = at + 8; a + 16 <= at + size; a += 16)
                    {
                        IPv6Address server = NetBytes.ReadIPv6(m + a);
                        if (!server.IsMulticast && !server.IsAny &&
                            !_dnsServers.Update(server, 128, lifetime == 0 ? Instant.None : LifetimeList.Until(now, lifetime)))
                        {
                            _counters[Ipv6Statistics.DnsServersDropped]++;
                        }
                    }
                }
            }
            return true;
        }

        /// <summary>One Prefix Information option (32 bytes): on-link determination and SLAAC.</summary>
        private void PrefixInput(byte* o, Instant now)
        {
            int prefixLength = o[2];
            int flags = o[3];
            uint valid = NetBytes.Read32(o + 4);
            uint preferred = NetBytes.Read32(o + 8);
            IPv6Address prefix = NetBytes.ReadIPv6(o + 16);
            if (prefix.IsLinkLocal || prefix.IsMulticast || prefixLength > 128)
            {
                return;
            }
            if ((flags & PrefixFlagOnLink) != 0 &&
                !_prefixes.Update(prefix, prefixLength, valid == 0 ? Instant.None : LifetimeList.Until(now, valid)))
            {
                _counters[Ipv6Statistics.PrefixesDropped]++;
            }
            if ((flags & PrefixFlagAutonomous) != 0 && preferred <= valid)
            {
                _ip.Addresses.Autoconfigure(prefix, prefixLength, valid, preferred, now);
            }
        }

        /// <summary>RFC 4861 sections 8.1 and 8.3: only from the router we use for that destination now.</summary>
        private bool RedirectInput(byte* m, int length, in Ipv6Inbound info)
        {
            if (!info.Source.IsLinkLocal || length < 40 || !OptionsValid(m, 40, length))
            {
                return Bad(Ipv6Statistics.NdBadOptions);
            }
            IPv6Address target = NetBytes.ReadIPv6(m + 8);
            IPv6Address destination = NetBytes.ReadIPv6(m + 24);
            IPv6Address current;
            if (destination.IsMulticast || !(target.IsLinkLocal || target == destination) ||
                !NextHop(destination, out current) || current != info.Source || destination.IsLinkLocal)
            {
                return Bad(Ipv6Statistics.RedirectRejected);
            }
            Instant now = _ip.Stack.Now;
            int slot = 0;
            for (int i = 0; i < _redirectDestination.Length; i++)
            {
                if (_redirectDestination[i] == destination || !_redirectExpires[i].IsSet || now >= _redirectExpires[i])
                {
                    slot = i;
                    break;
                }
                if (_redirectExpires[i] < _redirectExpires[slot])
                {
                    slot = i;
                }
            }
            _redirectDestination[slot] = destination;
            _redirectTarget[slot] = target;
            _redirectExpires[slot] = now + RedirectLifetime;
            ulong mac = LinkAddressOption(m, 40, length, OptionTargetLinkAddress);
            if (mac != 0)
            {
                _neighbors.Learn(target, mac, target != destination, true, now);
            }
            return true;
        }

        internal static bool IsSolicitedNode(IPv6Address address) =>
            address.High == 0xFF02000000000000UL && (address.Low >> 24) == 0x1FF;

        /// <summary>ff02::1:ffXX:XXXX for the last 24 bits of <paramref name="address"/> (RFC 4291 section 2.7.1).</summary>
        internal static IPv6Address SolicitedNode(IPv6Address address) =>
            new IPv6Address(0xFF02000000000000UL, 0x1FF000000UL | (address.Low & 0xFFFFFF));

        private Duration RandomReachableTime()
        {
            // Uniformly between MIN_RANDOM_FACTOR 0.5 and MAX_RANDOM_FACTOR 1.5 of the base.
            long permille = 500 + (long)(_ip.Stack.Random.NextUInt() % 1001);
            return Duration.FromNanoseconds(_baseReachableTime.Nanoseconds / 1000 * permille);
        }

        // ---------------------------------------------------------------- output

        private Packet NewMessage(int length)
        {
            Packet packet = _ip.Stack.AllocateTransmit();
            if (packet == null)
            {
                return null;
            }
            byte* m = packet.Put(length);
            new System.Span<byte>(m, length).Clear();
            return packet;
        }

        private void WriteLinkAddress(byte* o, int type)
        {
            o[0] = (byte)type;
            o[1] = 1;
            NetBytes.WriteMac(o + 2, _ip.Mac);
        }

        /// <summary>
        /// A Neighbor Solicitation for <paramref name="target"/>: to its solicited-node group, or (<paramref name="mac"/>
        /// non-zero, an unreachability probe) to it directly.
        /// </summary>
        internal void SendSolicitation(IPv6Address target, ulong mac)
        {
            IPv6Address source = _ip.Addresses.SelectSource(target);
            if (source.IsAny)
            {
                return; // no usable address yet: nothing may be solicited but for DAD
            }
            SendSolicitation(target, source, mac);
        }

        /// <summary>A Duplicate Address Detection probe for our tentative <paramref name="target"/> (RFC 4862 section 5.4.2).</summary>
        internal void SendDadProbe(IPv6Address target) => SendSolicitation(target, IPv6Address.Any, 0);

        private void SendSolicitation(IPv6Address target, IPv6Address source, ulong mac)
        {
            bool withOption = !source.IsAny;
            Packet packet = NewMessage(withOption ? 32 : 24);
            if (packet == null)
            {
                return;
            }
            byte* m = packet.Data;
            m[0] = Icmpv6Layer.TypeNeighborSolicitation;
            NetBytes.WriteIPv6(m + 8, target);
            if (withOption)
            {
                WriteLinkAddress(m + 24, OptionSourceLinkAddress);
            }
            _counters[Ipv6Statistics.NsSent]++;
            _ip.Icmp.Send(packet, source, mac != 0 ? target : SolicitedNode(target), 255, false, mac);
        }

        /// <summary>
        /// A Neighbor Advertisement for our <paramref name="target"/> with its link-layer address and the override flag
        /// (RFC 4861 section 7.2.4); unsolicited ones (address change, section 7.2.6) go to all nodes.
        /// </summary>
        internal void SendAdvertisement(IPv6Address target, IPv6Address destination, bool solicited, ulong mac)
        {
            Packet packet = NewMessage(32);
            if (packet == null)
            {
                return;
            }
            byte* m = packet.Data;
            m[0] = Icmpv6Layer.TypeNeighborAdvertisement;
            m[4] = (byte)(FlagOverride | (solicited ? FlagSolicited : 0));
            NetBytes.WriteIPv6(m + 8, target);
            WriteLinkAddress(m + 24, OptionTargetLinkAddress);
            _counters[Ipv6Statistics.NaSent]++;
            _ip.Icmp.Send(packet, target, destination, 255, false, mac);
        }

        /// <summary>Starts soliciting routers (RFC 4861 section 6.3.7): up to three, four seconds apart, the first soon.</summary>
        internal void StartRouterSolicitation(Instant now)
        {
            _soliciting = true;
            _solicitationsSent = 0;
            long delay = (long)(_ip.Stack.Random.NextUInt() % (uint)MaxRtrSolicitationDelay.Milliseconds);
            _nextSolicitation = now + Duration.FromMilliseconds(delay);
        }

        private void SendRouterSolicitation()
        {
            IPv6Address source = _ip.Addresses.LinkLocal;
            bool withOption = !source.IsAny;
            Packet packet = NewMessage(withOption ? 16 : 8);
            if (packet == null)
            {
                return;
            }
            byte* m = packet.Data;
            m[0] = Icmpv6Layer.TypeRouterSolicitation;
            if (withOption)
            {
                WriteLinkAddress(m + 8, OptionSourceLinkAddress);
            }
            _counters[Ipv6Statistics.RsSent]++;
            _ip.Icmp.Send(packet, source, AllRouters, 255);
        }

        // ---------------------------------------------------------------- timers

        internal void Poll(Instant now)
        {
            if (_soliciting && now >= _nextSolicitation)
            {
                if (_solicitationsSent >= MaxRtrSolicitations)
                {
                    _soliciting = false;
                }
                else
                {
                    _solicitationsSent++;
                    _nextSolicitation = now + RtrSolicitationInterval;
                    SendRouterSolicitation();
                }
            }
            _neighbors.Poll(now);
            _routers.Expire(now);
            _prefixes.Expire(now);
            _dnsServers.Expire(now);
        }

        internal void Clear() => _neighbors.Clear();

        internal void Print(ITextOutput output, Instant now)
        {
            output.Write("ipv6 routers:");
            output.WriteLine();
            _routers.Print(output, now, false);
            output.Write("ipv6 prefixes (on-link):");
            output.WriteLine();
            _prefixes.Print(output, now, true);
            output.Write("ipv6 dns servers (rdnss):");
            output.WriteLine();
            _dnsServers.Print(output, now, false);
            _neighbors.Print(output, now);
        }
    }
}
