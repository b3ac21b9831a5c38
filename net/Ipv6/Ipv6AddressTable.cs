using Keel.Hal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// This host's IPv6 addresses (RFC 4862): the link-local address made at start-up, a static one from the
    /// configuration, and SLAAC addresses from router-advertised /64 prefixes with their preferred and valid
    /// lifetimes (section 5.5.3, the two-hour rule included). Every address is tentative until Duplicate Address
    /// Detection passes (section 5.4); a duplicate gets a new identifier (RFC 7217 section 6, up to three times),
    /// then is kept as duplicate and never used. Interface identifiers are <see cref="StableInterfaceId"/>s under a
    /// secret drawn from the entropy pool. Source address selection is the simple part of RFC 6724: same scope,
    /// preferred before deprecated.
    /// </summary>
    internal sealed class Ipv6AddressTable
    {
        internal const int StateFree = 0;
        internal const int StateTentative = 1;
        internal const int StatePreferred = 2;
        internal const int StateDeprecated = 3;
        internal const int StateDuplicate = 4;

        internal const int OriginLinkLocal = 1;
        internal const int OriginStatic = 2;
        internal const int OriginSlaac = 3;

        /// <summary>RFC 7217 IDGEN_RETRIES.</summary>
        internal const int MaxIdentifierRetries = 3;

        /// <summary>Prefix length SLAAC accepts: the 64-bit identifiers need a /64 (RFC 4862 section 5.5.3 (d)).</summary>
        internal const int SlaacPrefixLength = 64;

        private static Duration TwoHours => Duration.FromSeconds(7200);

        private readonly Ipv6Layer _ip;
        private readonly long[] _counters;
        private readonly ulong _key0;
        private readonly ulong _key1;
        private readonly int _dadTransmits;
        private readonly IPv6Address _staticAddress;
        private readonly int _staticPrefixLength;
        private readonly IPv6Address _staticGateway;
        private readonly IPv6Address[] _address;
        private readonly int[] _prefixLength;
        private readonly int[] _state;
        private readonly int[] _origin;
        private readonly Instant[] _validUntil;
        private readonly Instant[] _preferredUntil;
        private readonly int[] _dadCounter;
        private readonly int[] _dadSent;
        private readonly Instant[] _dadNext;

        public Ipv6AddressTable(Ipv6Layer ip, NetConfig config, ulong key0, ulong key1)
        {
            _ip = ip;
            _counters = ip.Counters;
            _key0 = key0;
            _key1 = key1;
            _dadTransmits = config.Ipv6DadTransmits;
            _staticAddress = config.Ipv6Address;
            _staticPrefixLength = config.Ipv6PrefixLength;
            _staticGateway = config.Ipv6Gateway;
            int size = config.Ipv6MaxAddresses < 2 ? 2 : config.Ipv6MaxAddresses;
            _address = new IPv6Address[size];
            _prefixLength = new int[size];
            _state = new int[size];
            _origin = new int[size];
            _validUntil = new Instant[size];
            _preferredUntil = new Instant[size];
            _dadCounter = new int[size];
            _dadSent = new int[size];
            _dadNext = new Instant[size];
        }

        public int Capacity => _address.Length;

        public IPv6Address Address(int index) => _address[index];

        public int State(int index) => _state[index];

        public int Origin(int index) => _origin[index];

        /// <summary>The link-local address once DAD passed (:: before).</summary>
        public IPv6Address LinkLocal
        {
            get
            {
                for (int i = 0; i < _address.Length; i++)
                {
                    if (_origin[i] == OriginLinkLocal && _state[i] == StatePreferred)
                    {
                        return _address[i];
                    }
                }
                return IPv6Address.Any;
            }
        }

        /// <summary>State of <paramref name="address"/> in the table (<see cref="StateFree"/> when it is not ours).</summary>
        public int StateOf(IPv6Address address)
        {
            int i = Find(address);
            return i < 0 ? StateFree : _state[i];
        }

        private int Find(IPv6Address address)
        {
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] != StateFree && _address[i] == address)
                {
                    return i;
                }
            }
            return -1;
        }

        /// <summary>The link-local address (and the static one) at start-up, both tentative.</summary>
        public void Start(Instant now)
        {
            IPv6Address linkLocalPrefix = new IPv6Address(0xFE80000000000000UL, 0);
            Add(Identify(linkLocalPrefix, 0), 64, OriginLinkLocal, Instant.MaxValue, Instant.MaxValue, now);
            if (!_staticAddress.IsAny)
            {
                Add(_staticAddress, _staticPrefixLength, OriginStatic, Instant.MaxValue, Instant.MaxValue, now);
                if (_staticPrefixLength > 0 && _staticPrefixLength <= 128)
                {
                    _ip.Nd.AddStaticPrefix(_staticAddress, _staticPrefixLength);
                }
            }
            if (!_staticGateway.IsAny)
            {
                _ip.Nd.AddStaticRouter(_staticGateway);
            }
        }

        private IPv6Address Identify(IPv6Address prefix, int dadCounter) =>
            new IPv6Address(prefix.High, StableInterfaceId.Generate(_key0, _key1, prefix.High, _ip.Mac, dadCounter));

        private int Add(IPv6Address address, int prefixLength, int origin, Instant validUntil, Instant preferredUntil, Instant now)
        {
            int i = -1;
            for (int k = 0; k < _address.Length && i < 0; k++)
            {
                if (_state[k] == StateFree)
                {
                    i = k;
                }
            }
            if (i < 0)
            {
                _counters[Ipv6Statistics.AddressesDropped]++;
                return -1;
            }
            _address[i] = address;
            _prefixLength[i] = prefixLength;
            _origin[i] = origin;
            _validUntil[i] = validUntil;
            _preferredUntil[i] = preferredUntil;
            _dadCounter[i] = 0;
            StartDad(i, now);
            return i;
        }

        private void StartDad(int i, Instant now)
        {
            _state[i] = StateTentative;
            _dadSent[i] = 0;
            // RFC 4862 section 5.4.2: a random delay before the first probe (up to MAX_RTR_SOLICITATION_DELAY).
            long delay = (long)(_ip.Stack.Random.NextUInt() % (uint)NeighborDiscovery.MaxRtrSolicitationDelay.Milliseconds);
            _dadNext[i] = now + Duration.FromMilliseconds(delay);
            _counters[Ipv6Statistics.DadStarted]++;
            _ip.Mld.Join(NeighborDiscovery.SolicitedNode(_address[i]), now);
        }

        /// <summary>
        /// Another node uses (or is probing) our tentative <paramref name="address"/> (RFC 4862 section 5.4.5): a new
        /// identifier is tried (RFC 7217 section 6) unless the address was configured by hand or the retries are used up.
        /// </summary>
        public void DuplicateDetected(IPv6Address address, Instant now)
        {
            int i = Find(address);
            if (i < 0 || _state[i] != StateTentative)
            {
                return;
            }
            _counters[Ipv6Statistics.DadFailed]++;
            _ip.Mld.Leave(NeighborDiscovery.SolicitedNode(address), now);
            if (_origin[i] == OriginStatic || _dadCounter[i] >= MaxIdentifierRetries)
            {
                _state[i] = StateDuplicate;
                return;
            }
            int counter = _dadCounter[i] + 1;
            _address[i] = Identify(address, counter);
            _dadCounter[i] = counter;
            StartDad(i, now);
        }

        /// <summary>
        /// A Prefix Information option with the autonomous flag (RFC 4862 section 5.5.3): a new address for a new
        /// /64 prefix, or the lifetimes of the existing one updated (the valid lifetime is not cut below two hours by
        /// an unauthenticated advertisement).
        /// </summary>
        public void Autoconfigure(IPv6Address prefix, int prefixLength, uint valid, uint preferred, Instant now)
        {
            if (prefixLength != SlaacPrefixLength)
            {
                return;
            }
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] == StateFree || _origin[i] != OriginSlaac || _address[i].High != prefix.High)
                {
                    continue;
                }
                _preferredUntil[i] = LifetimeList.Until(now, preferred);
                Instant validUntil = LifetimeList.Until(now, valid);
                if (validUntil > now + TwoHours || validUntil > _validUntil[i])
                {
                    _validUntil[i] = validUntil;
                }
                else if (_validUntil[i] > now + TwoHours)
                {
                    _validUntil[i] = now + TwoHours;
                }
                if (_state[i] == StateDeprecated && now < _preferredUntil[i])
                {
                    _state[i] = StatePreferred;
                }
                return;
            }
            if (valid == 0)
            {
                return;
            }
            Add(Identify(prefix, 0), prefixLength, OriginSlaac, LifetimeList.Until(now, valid), LifetimeList.Until(now, preferred), now);
        }

        /// <summary>
        /// The source for a packet to <paramref name="destination"/>: link-local for link-local and link-scope multicast
        /// destinations, else a preferred global address, else a deprecated one, else link-local; :: when none is usable.
        /// </summary>
        public IPv6Address SelectSource(IPv6Address destination)
        {
            bool linkScope = destination.IsLinkLocal || (destination.IsMulticast && ((destination.High >> 48) & 0xF) <= 2);
            if (!linkScope)
            {
                int deprecated = -1;
                for (int i = 0; i < _address.Length; i++)
                {
                    if (_origin[i] == OriginLinkLocal)
                    {
                        continue;
                    }
                    if (_state[i] == StatePreferred)
                    {
                        return _address[i];
                    }
                    if (_state[i] == StateDeprecated && deprecated < 0)
                    {
                        deprecated = i;
                    }
                }
                if (deprecated >= 0)
                {
                    return _address[deprecated];
                }
            }
            return LinkLocal;
        }

        /// <summary>DAD probes and their end (the address becomes usable and is announced), deprecation, expiry.</summary>
        public void Poll(Instant now)
        {
            for (int i = 0; i < _address.Length; i++)
            {
                int state = _state[i];
                if (state == StateFree)
                {
                    continue;
                }
                if (now >= _validUntil[i])
                {
                    _state[i] = StateFree;
                    if (state != StateDuplicate)
                    {
                        _ip.Mld.Leave(NeighborDiscovery.SolicitedNode(_address[i]), now);
                    }
                    continue;
                }
                if (state == StateTentative && now >= _dadNext[i])
                {
                    if (_dadSent[i] < _dadTransmits)
                    {
                        _dadSent[i]++;
                        _dadNext[i] = now + _ip.Nd.RetransTimer;
                        _ip.Nd.SendDadProbe(_address[i]);
                    }
                    else
                    {
                        _state[i] = now >= _preferredUntil[i] ? StateDeprecated : StatePreferred;
                        Usable(i, now);
                    }
                }
                else if (state == StatePreferred && now >= _preferredUntil[i])
                {
                    _state[i] = StateDeprecated;
                }
            }
        }

        /// <summary>DAD passed: all nodes learn the address (RFC 4861 section 7.2.6); the link-local one starts router solicitation.</summary>
        private void Usable(int i, Instant now)
        {
            _ip.Nd.SendAdvertisement(_address[i], NeighborDiscovery.AllNodes, false, 0);
            if (_origin[i] == OriginLinkLocal)
            {
                _ip.Mld.LinkLocalReady(now);
                _ip.Nd.StartRouterSolicitation(now);
            }
        }

        internal static string StateName(int state)
        {
            switch (state)
            {
                case StateTentative: return "tentative";
                case StatePreferred: return "preferred";
                case StateDeprecated: return "deprecated";
                case StateDuplicate: return "duplicate";
                default: return "free";
            }
        }

        private static string OriginName(int origin) =>
            origin == OriginLinkLocal ? "link-local" : origin == OriginStatic ? "static" : "slaac";

        public void Print(ITextOutput output, Instant now)
        {
            output.Write("ipv6 addresses:");
            output.WriteLine();
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] == StateFree)
                {
                    continue;
                }
                output.Write("  ");
                _address[i].WriteTo(output);
                output.Write('/');
                output.Write((long)_prefixLength[i]);
                output.Write("  ");
                output.Write(OriginName(_origin[i]));
                output.Write(' ');
                output.Write(StateName(_state[i]));
                LifetimeList.WriteLifetime(output, "  preferred ", _preferredUntil[i], now);
                LifetimeList.WriteLifetime(output, "  valid ", _validUntil[i], now);
                output.WriteLine();
            }
        }
    }
}
