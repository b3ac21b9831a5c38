using Keel.Hal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// Path MTUs learned from ICMPv6 Packet Too Big (RFC 8201), one per destination, in a small fixed table: a
    /// destination not in it has the link MTU. A report never raises an estimate and never takes it below 1280, IPv6's
    /// minimum link MTU (section 4). An estimate is forgotten <see cref="Age"/> after it was last lowered (10 minutes by
    /// default, the interval section 4 recommends for trying a larger path MTU again; never less than its 5 minutes),
    /// so the next packet goes at the link MTU and a router on a still-narrow path answers with a new Packet Too Big.
    /// When the table is full the entry lowered longest ago gives way. Every packet to a unicast destination asks
    /// for its path MTU (<see cref="MtuFor"/>): an empty table answers at once.
    /// </summary>
    internal sealed class PathMtuCache
    {
        /// <summary>RFC 8201 section 4: no attempt to raise a path MTU less than 5 minutes after it was lowered.</summary>
        internal static readonly Duration MinimumAge = Duration.FromSeconds(5 * 60);

        private readonly IPv6Address[] _destinations;
        private readonly int[] _mtus;
        private readonly Instant[] _learned;
        private readonly long[] _counters;
        private int _count;

        public PathMtuCache(int entries, Duration age, long[] counters)
        {
            if (entries < 1)
            {
                entries = 1;
            }
            _destinations = new IPv6Address[entries];
            _mtus = new int[entries];
            _learned = new Instant[entries];
            Age = age < MinimumAge ? MinimumAge : age;
            _counters = counters;
        }

        /// <summary>How long a lowered path MTU is kept before the link MTU is tried again.</summary>
        internal Duration Age { get; }

        /// <summary>Destinations with a path MTU below the link's.</summary>
        internal int Count => _count;

        /// <summary>
        /// The path MTU to <paramref name="destination"/>: the learned one while it is younger than <see cref="Age"/>
        /// and below <paramref name="linkMtu"/>, else the link MTU (an aged entry is dropped).
        /// </summary>
        internal int MtuFor(IPv6Address destination, int linkMtu, Instant now)
        {
            if (_count == 0)
            {
                return linkMtu;
            }
            int i = IndexOf(destination);
            if (i < 0)
            {
                return linkMtu;
            }
            if (now - _learned[i] >= Age)
            {
                _counters[Ipv6Statistics.PathMtuExpired]++;
                RemoveAt(i);
                return linkMtu;
            }
            return _mtus[i] < linkMtu ? _mtus[i] : linkMtu;
        }

        /// <summary>
        /// A Packet Too Big about a packet to <paramref name="destination"/> reporting <paramref name="mtu"/>: the
        /// estimate goes down to it (1280 at least); true when it went down, false when it was not above the report.
        /// </summary>
        internal bool Lower(IPv6Address destination, int mtu, int linkMtu, Instant now)
        {
            if (mtu < Ipv6Layer.MinimumMtu)
            {
                mtu = Ipv6Layer.MinimumMtu;
            }
            if (mtu >= MtuFor(destination, linkMtu, now))
            {
                return false;
            }
            int i = IndexOf(destination);
            if (i < 0)
            {
                if (_count == _destinations.Length)
                {
                    _counters[Ipv6Statistics.PathMtuEvicted]++;
                    RemoveAt(Oldest());
                }
                i = _count++;
                _destinations[i] = destination;
            }
            _mtus[i] = mtu;
            _learned[i] = now;
            _counters[Ipv6Statistics.PathMtuLowered]++;
            return true;
        }

        /// <summary>Forgets every estimate (the link went down or its MTU changed).</summary>
        internal void Clear() => _count = 0;

        private int IndexOf(IPv6Address destination)
        {
            for (int i = 0; i < _count; i++)
            {
                if (_destinations[i] == destination)
                {
                    return i;
                }
            }
            return -1;
        }

        private int Oldest()
        {
            int oldest = 0;
            for (int i = 1; i < _count; i++)
            {
                if (_learned[i] < _learned[oldest])
                {
                    oldest = i;
                }
            }
            return oldest;
        }

        private void RemoveAt(int i)
        {
            _count--;
            _destinations[i] = _destinations[_count];
            _mtus[i] = _mtus[_count];
            _learned[i] = _learned[_count];
        }

        /// <summary>Prints the entries (the shell's <c>net</c>): destination, path MTU, seconds left.</summary>
        internal void Print(ITextOutput output, Instant now)
        {
            for (int i = 0; i < _count; i++)
            {
                output.Write("  path mtu ");
                _destinations[i].WriteTo(output);
                output.Write(' ');
                output.Write((long)_mtus[i]);
                output.Write(" (");
                long left = (Age - (now - _learned[i])).Seconds;
                output.Write(left > 0 ? left : 0);
                output.Write(" s)");
                output.WriteLine();
            }
        }
    }
}
