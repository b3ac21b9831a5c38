using Keel.Buffers;
using Keel.Hal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// The neighbor cache of RFC 4861 section 7.3 in fixed arrays: entries in the NUD states INCOMPLETE,
    /// REACHABLE, STALE, DELAY and PROBE, the IsRouter flag, and a small shared queue of packets waiting for an
    /// address resolution. When it is full, unsolicited learning (an NS from a stranger) only replaces STALE
    /// entries, so a flood of solicitations cannot push out the neighbors in use.
    /// </summary>
    internal sealed class NeighborCache
    {
        internal const int StateFree = 0;
        internal const int StateIncomplete = 1;
        internal const int StateReachable = 2;
        internal const int StateStale = 3;
        internal const int StateDelay = 4;
        internal const int StateProbe = 5;

        /// <summary>RFC 4861 section 10: MAX_MULTICAST_SOLICIT, MAX_UNICAST_SOLICIT, DELAY_FIRST_PROBE_TIME.</summary>
        internal const int MaxMulticastSolicit = 3;
        internal const int MaxUnicastSolicit = 3;
        internal static Duration DelayFirstProbeTime => Duration.FromSeconds(5);

        private readonly NeighborDiscovery _nd;
        private readonly long[] _counters;
        private readonly IPv6Address[] _address;
        private readonly ulong[] _mac;
        private readonly int[] _state;
        private readonly bool[] _router;
        private readonly Instant[] _deadline;
        private readonly Instant[] _used;
        private readonly int[] _probes;
        private readonly int _pendingLimit;
        private PacketQueue _pending;
        private int _lastHit;

        public NeighborCache(NeighborDiscovery nd, long[] counters, int size, int pendingLimit)
        {
            _nd = nd;
            _counters = counters;
            if (size < 2)
            {
                size = 2;
            }
            _address = new IPv6Address[size];
            _mac = new ulong[size];
            _state = new int[size];
            _router = new bool[size];
            _deadline = new Instant[size];
            _used = new Instant[size];
            _probes = new int[size];
            _pendingLimit = pendingLimit;
        }

        public int Size => _address.Length;

        public int PendingCount => _pending.Count;

        /// <summary>State of the entry for <paramref name="address"/> (<see cref="StateFree"/> when there is none).</summary>
        public int StateOf(IPv6Address address)
        {
            int i = Find(address);
            return i < 0 ? StateFree : _state[i];
        }

        /// <summary>The link-layer address known for <paramref name="address"/> (0 when none).</summary>
        public ulong MacOf(IPv6Address address)
        {
            int i = Find(address);
            return i < 0 || _state[i] == StateIncomplete ? 0 : _mac[i];
        }

        public bool IsRouter(IPv6Address address)
        {
            int i = Find(address);
            return i >= 0 && _router[i];
        }

        private int Find(IPv6Address address)
        {
            int last = _lastHit;
            if (_state[last] != StateFree && _address[last] == address)
            {
                return last;
            }
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] != StateFree && _address[i] == address)
                {
                    _lastHit = i;
                    return i;
                }
            }
            return -1;
        }

        /// <summary>
        /// A free entry, else the least recently used STALE one, else (<paramref name="evictActive"/>) the least
        /// recently used entry that is not a router's; -1 when none may go.
        /// </summary>
        private int Allocate(bool evictActive)
        {
            int victim = -1;
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] == StateFree)
                {
                    return i;
                }
                if (_state[i] == StateStale && (victim < 0 || _used[i] < _used[victim]))
                {
                    victim = i;
                }
            }
            if (victim < 0 && evictActive)
            {
                for (int i = 0; i < _address.Length; i++)
                {
                    if (!_router[i] && (victim < 0 || _used[i] < _used[victim]))
                    {
                        victim = i;
                    }
                }
            }
            if (victim < 0)
            {
                _counters[Ipv6Statistics.NeighborCacheFull]++;
                return -1;
            }
            Remove(victim);
            return victim;
        }

        private int Create(IPv6Address address, int state, ulong mac, bool evictActive, Instant now)
        {
            int i = Allocate(evictActive);
            if (i < 0)
            {
                return -1;
            }
            _address[i] = address;
            _state[i] = state;
            _mac[i] = mac;
            _router[i] = false;
            _probes[i] = 0;
            _used[i] = now;
            _deadline[i] = Instant.MaxValue;
            return i;
        }

        private void Remove(int i)
        {
            if (_state[i] == StateIncomplete)
            {
                DropPending(i);
            }
            _state[i] = StateFree;
            _router[i] = false;
        }

        // ---------------------------------------------------------------- sending

        /// <summary>
        /// Sends an IPv6 packet (header in place) to neighbor <paramref name="nextHop"/>: at once when its link-layer
        /// address is known (a STALE entry goes to DELAY, section 7.3.3), else queued while it is resolved.
        /// </summary>
        public void Transmit(Packet packet, IPv6Address nextHop, Instant now)
        {
            int i = Find(nextHop);
            if (i < 0)
            {
                i = Create(nextHop, StateIncomplete, 0, true, now);
                if (i < 0)
                {
                    _counters[Ipv6Statistics.NeighborPendingDropped]++;
                    packet.Free();
                    return;
                }
                _deadline[i] = now;
            }
            _used[i] = now;
            if (_state[i] == StateIncomplete)
            {
                if (_pending.Count >= _pendingLimit)
                {
                    _counters[Ipv6Statistics.NeighborPendingDropped]++;
                    packet.Free();
                }
                else
                {
                    packet.Tag = (uint)i;
                    _pending.Enqueue(packet);
                }
                if (now >= _deadline[i])
                {
                    Solicit(i, now);
                }
                return;
            }
            if (_state[i] == StateStale)
            {
                _state[i] = StateDelay;
                _deadline[i] = now + DelayFirstProbeTime;
            }
            _nd.TransmitFrame(packet, _mac[i]);
        }

        private void Solicit(int i, Instant now)
        {
            _probes[i]++;
            _deadline[i] = now + _nd.RetransTimer;
            _nd.SendSolicitation(_address[i], _state[i] == StateIncomplete ? 0 : _mac[i]);
        }

        private void FlushPending(int i)
        {
            PacketQueue ready = default;
            _pending.MoveTagged((uint)i, ref ready);
            while (!ready.IsEmpty)
            {
                _nd.TransmitFrame(ready.Dequeue(), _mac[i]);
            }
        }

        private void DropPending(int i)
        {
            PacketQueue failed = default;
            _pending.MoveTagged((uint)i, ref failed);
            _counters[Ipv6Statistics.NeighborResolveFailed] += failed.Count;
            failed.FreeAll();
        }

        // ---------------------------------------------------------------- learning

        /// <summary>
        /// A link-layer address from a Neighbor Solicitation, Router Solicitation/Advertisement or Redirect
        /// (RFC 4861 sections 7.2.3, 6.3.4, 8.3): a new entry is STALE (only if one may be made without pushing
        /// out an entry in use, unless <paramref name="fromRouter"/>); a changed address makes the entry STALE;
        /// an INCOMPLETE entry sends what waited for it.
        /// </summary>
        public void Learn(IPv6Address address, ulong mac, bool isRouter, bool fromRouter, Instant now)
        {
            int i = Find(address);
            if (i < 0)
            {
                i = Create(address, StateStale, mac, fromRouter, now);
                if (i < 0)
                {
                    return;
                }
                _router[i] = isRouter;
                return;
            }
            if (isRouter)
            {
                _router[i] = true;
            }
            if (_state[i] == StateIncomplete)
            {
                _mac[i] = mac;
                _state[i] = StateStale;
                _probes[i] = 0;
                FlushPending(i);
                return;
            }
            if (_mac[i] != mac)
            {
                _mac[i] = mac;
                _state[i] = StateStale;
            }
        }

        /// <summary>
        /// A Neighbor Advertisement for <paramref name="address"/> (RFC 4861 section 7.2.5); <paramref name="mac"/> is
        /// 0 without a target link-layer address option. Returns false when the neighbor stopped being a router.
        /// </summary>
        public bool Advertised(IPv6Address address, ulong mac, bool solicited, bool isOverride, bool isRouter, Instant now)
        {
            int i = Find(address);
            if (i < 0)
            {
                return true; // no entry: nothing to update (section 7.2.5)
            }
            if (_state[i] == StateIncomplete)
            {
                if (mac == 0)
                {
                    return true;
                }
                _mac[i] = mac;
                _router[i] = isRouter;
                _probes[i] = 0;
                SetReachableOrStale(i, solicited, now);
                FlushPending(i);
                return true;
            }
            bool differs = mac != 0 && mac != _mac[i];
            if (!isOverride && differs)
            {
                if (_state[i] == StateReachable)
                {
                    _state[i] = StateStale;
                }
                return true;
            }
            if (mac != 0)
            {
                _mac[i] = mac;
            }
            if (solicited)
            {
                _probes[i] = 0;
                SetReachableOrStale(i, true, now);
            }
            else if (differs)
            {
                _state[i] = StateStale;
            }
            bool wasRouter = _router[i];
            _router[i] = isRouter;
            return !wasRouter || isRouter;
        }

        private void SetReachableOrStale(int i, bool reachable, Instant now)
        {
            _state[i] = reachable ? StateReachable : StateStale;
            _deadline[i] = reachable ? now + _nd.ReachableTime : Instant.MaxValue;
        }

        /// <summary>Runs the NUD timers (RFC 4861 section 7.3.3): REACHABLE ages to STALE, DELAY turns into PROBE,
        /// unanswered solicitations end the entry (and drop what waited for it).</summary>
        public void Poll(Instant now)
        {
            for (int i = 0; i < _address.Length; i++)
            {
                int state = _state[i];
                if (state == StateFree || now < _deadline[i])
                {
                    continue;
                }
                switch (state)
                {
                    case StateReachable:
                        _state[i] = StateStale;
                        _deadline[i] = Instant.MaxValue;
                        break;
                    case StateDelay:
                        _state[i] = StateProbe;
                        _probes[i] = 0;
                        Solicit(i, now);
                        break;
                    case StateProbe:
                    case StateIncomplete:
                        if (_probes[i] >= (state == StateProbe ? MaxUnicastSolicit : MaxMulticastSolicit))
                        {
                            bool router = _router[i];
                            IPv6Address address = _address[i];
                            Remove(i);
                            if (router)
                            {
                                _nd.RouterUnreachable(address);
                            }
                        }
                        else
                        {
                            Solicit(i, now);
                        }
                        break;
                }
            }
        }

        /// <summary>Frees every waiting packet and forgets every entry (shutdown).</summary>
        public void Clear()
        {
            _pending.FreeAll();
            for (int i = 0; i < _address.Length; i++)
            {
                _state[i] = StateFree;
                _router[i] = false;
            }
        }

        internal static string StateName(int state)
        {
            switch (state)
            {
                case StateIncomplete: return "INCOMPLETE";
                case StateReachable: return "REACHABLE";
                case StateStale: return "STALE";
                case StateDelay: return "DELAY";
                case StateProbe: return "PROBE";
                default: return "FREE";
            }
        }

        public void Print(ITextOutput output, Instant now)
        {
            output.Write("ipv6 neighbors:");
            output.WriteLine();
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] == StateFree)
                {
                    continue;
                }
                output.Write("  ");
                _address[i].WriteTo(output);
                output.Write("  ");
                if (_state[i] != StateIncomplete)
                {
                    NetStack.WriteMac(output, _mac[i]);
                    output.Write("  ");
                }
                output.Write(StateName(_state[i]));
                if (_router[i])
                {
                    output.Write(" router");
                }
                output.WriteLine();
            }
        }
    }
}
