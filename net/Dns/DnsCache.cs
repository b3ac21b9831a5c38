using Keel.Hal;

namespace Keel.Net.Dns
{
    /// <summary>
    /// Answers of a <see cref="DnsResolver"/>: name (wire form) and family → address until the TTL runs out (at most
    /// <see cref="DnsResolver.MaxCacheSeconds"/>); TTL 0 is not cached. Fixed size; when full the entry closest
    /// to expiry is replaced.
    /// </summary>
    public sealed unsafe class DnsCache
    {
        private readonly byte[][] _names;
        private readonly int[] _nameLength;
        private readonly IPAddress[] _address;
        private readonly Instant[] _expiry;

        public DnsCache(int entries)
        {
            // One small array per entry (the kernel heap's size classes), not one large block.
            _names = new byte[entries][];
            for (int i = 0; i < entries; i++)
            {
                _names[i] = new byte[DnsMessage.MaxNameLength];
            }
            _nameLength = new int[entries];
            _address = new IPAddress[entries];
            _expiry = new Instant[entries];
        }

        public int Capacity => _expiry.Length;

        /// <summary>Entries still valid at <paramref name="now"/>.</summary>
        public int Count(Instant now)
        {
            int n = 0;
            for (int i = 0; i < _expiry.Length; i++)
            {
                if (_expiry[i] > now)
                {
                    n++;
                }
            }
            return n;
        }

        public void Flush()
        {
            for (int i = 0; i < _expiry.Length; i++)
            {
                _expiry[i] = Instant.None;
            }
        }

        /// <summary>The cached address of <paramref name="family"/> for the name, if one is still valid.</summary>
        public bool Lookup(byte[] name, int length, AddressFamily family, Instant now, out IPAddress address, out Instant expiry)
        {
            address = default;
            expiry = Instant.None;
            fixed (byte* n = name)
            {
                for (int i = 0; i < _expiry.Length; i++)
                {
                    if (_expiry[i] <= now || _address[i].Family != family)
                    {
                        continue;
                    }
                    fixed (byte* entry = _names[i])
                    {
                        if (DnsMessage.NameEquals(entry, _nameLength[i], n, length))
                        {
                            address = _address[i];
                            expiry = _expiry[i];
                            return true;
                        }
                    }
                }
            }
            return false;
        }

        /// <summary>Caches <paramref name="address"/> for the name; it is looked up by the address's family.</summary>
        public void Store(byte[] name, int length, IPAddress address, uint ttl, Instant now)
        {
            if (ttl == 0 || _expiry.Length == 0)
            {
                return;
            }
            if (ttl > DnsResolver.MaxCacheSeconds)
            {
                ttl = DnsResolver.MaxCacheSeconds;
            }
            int slot = 0;
            for (int i = 0; i < _expiry.Length; i++)
            {
                if (_expiry[i] <= now)
                {
                    slot = i;
                    break;
                }
                if (_expiry[i] < _expiry[slot])
                {
                    slot = i;
                }
            }
            for (int i = 0; i < length; i++)
            {
                _names[slot][i] = name[i];
            }
            _nameLength[slot] = length;
            _address[slot] = address;
            _expiry[slot] = now + Duration.FromSeconds(ttl);
        }
    }
}
