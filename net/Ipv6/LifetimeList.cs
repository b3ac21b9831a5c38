using Keel.Hal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// A bounded list of addresses (with a prefix length) that expire: the default router list, the prefix list
    /// (RFC 4861 section 5.1) and the RDNSS servers (RFC 8106). Full, it refuses new entries (the caller counts
    /// them), so a router advertising hundreds of prefixes costs nothing but the walk.
    /// </summary>
    internal sealed class LifetimeList
    {
        /// <summary>The lifetime that never ends (RFC 4861: all one bits).</summary>
        internal const uint Infinite = 0xFFFFFFFF;

        private readonly IPv6Address[] _address;
        private readonly int[] _prefixLength;
        private readonly Instant[] _expires;
        private readonly bool[] _used;

        public LifetimeList(int capacity)
        {
            if (capacity < 1)
            {
                capacity = 1;
            }
            _address = new IPv6Address[capacity];
            _prefixLength = new int[capacity];
            _expires = new Instant[capacity];
            _used = new bool[capacity];
        }

        public int Capacity => _used.Length;

        public bool InUse(int index) => _used[index];

        public IPv6Address Address(int index) => _address[index];

        public int PrefixLength(int index) => _prefixLength[index];

        public Instant Expires(int index) => _expires[index];

        /// <summary>The moment a lifetime of <paramref name="seconds"/> from <paramref name="now"/> ends.</summary>
        internal static Instant Until(Instant now, uint seconds) =>
            seconds == Infinite ? Instant.MaxValue : now + Duration.FromSeconds(seconds);

        /// <summary>Index of the entry for <paramref name="address"/>/<paramref name="prefixLength"/>, or -1.</summary>
        public int Find(IPv6Address address, int prefixLength)
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i] && _address[i] == address && _prefixLength[i] == prefixLength)
                {
                    return i;
                }
            }
            return -1;
        }

        /// <summary>
        /// Adds or refreshes an entry to end at <paramref name="expires"/>; <see cref="Instant.None"/> removes it.
        /// False when it is new and the list is full.
        /// </summary>
        public bool Update(IPv6Address address, int prefixLength, Instant expires)
        {
            int i = Find(address, prefixLength);
            if (!expires.IsSet)
            {
                if (i >= 0)
                {
                    _used[i] = false;
                }
                return true;
            }
            if (i < 0)
            {
                for (int k = 0; k < _used.Length && i < 0; k++)
                {
                    if (!_used[k])
                    {
                        i = k;
                    }
                }
                if (i < 0)
                {
                    return false;
                }
                _used[i] = true;
                _address[i] = address;
                _prefixLength[i] = prefixLength;
            }
            _expires[i] = expires;
            return true;
        }

        public void Remove(int index) => _used[index] = false;

        /// <summary>Drops the entries whose lifetime is over.</summary>
        public void Expire(Instant now)
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i] && now >= _expires[i])
                {
                    _used[i] = false;
                }
            }
        }

        /// <summary>True when <paramref name="address"/> falls in one of the prefixes.</summary>
        public bool Covers(IPv6Address address)
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i] && Matches(address, _address[i], _prefixLength[i]))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>The first <paramref name="prefixLength"/> bits of <paramref name="address"/>, the rest zero.</summary>
        internal static IPv6Address Prefix(IPv6Address address, int prefixLength)
        {
            if (prefixLength <= 0)
            {
                return IPv6Address.Any;
            }
            if (prefixLength <= 64)
            {
                return new IPv6Address(prefixLength == 64 ? address.High : address.High & ~(ulong.MaxValue >> prefixLength), 0);
            }
            return new IPv6Address(address.High, prefixLength >= 128 ? address.Low : address.Low & ~(ulong.MaxValue >> (prefixLength - 64)));
        }

        /// <summary>True when the first <paramref name="prefixLength"/> bits of both addresses are equal.</summary>
        internal static bool Matches(IPv6Address address, IPv6Address prefix, int prefixLength)
        {
            if (prefixLength <= 0)
            {
                return true;
            }
            if (prefixLength <= 64)
            {
                ulong mask = prefixLength == 64 ? ulong.MaxValue : ~(ulong.MaxValue >> prefixLength);
                return ((address.High ^ prefix.High) & mask) == 0;
            }
            ulong lowMask = prefixLength >= 128 ? ulong.MaxValue : ~(ulong.MaxValue >> (prefixLength - 64));
            return address.High == prefix.High && ((address.Low ^ prefix.Low) & lowMask) == 0;
        }

        /// <summary>One line per entry: the address (with /length when <paramref name="withLength"/>) and the time left.</summary>
        public void Print(ITextOutput output, Instant now, bool withLength)
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (!_used[i])
                {
                    continue;
                }
                output.Write("  ");
                _address[i].WriteTo(output);
                if (withLength)
                {
                    output.Write('/');
                    output.Write((long)_prefixLength[i]);
                }
                WriteLifetime(output, " expires ", _expires[i], now);
                output.WriteLine();
            }
        }

        /// <summary>Writes <paramref name="label"/> and the seconds until <paramref name="until"/> ("forever" when it never comes).</summary>
        internal static void WriteLifetime(ITextOutput output, string label, Instant until, Instant now)
        {
            output.Write(label);
            if (until == Instant.MaxValue)
            {
                output.Write("never");
                return;
            }
            output.Write("in ");
            output.Write((until - now).Seconds);
            output.Write(" s");
        }
    }
}
