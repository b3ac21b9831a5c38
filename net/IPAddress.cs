namespace Keel.Net
{
    /// <summary>The family of an <see cref="IPAddress"/> (System.Net.Sockets.AddressFamily's values).</summary>
    public enum AddressFamily
    {
        /// <summary>IPv4.</summary>
        InterNetwork = 2,

        /// <summary>IPv6.</summary>
        InterNetworkV6 = 23,
    }

    /// <summary>
    /// An IPv4 or an IPv6 address (System.Net.IPAddress, as a struct so it never allocates): what sockets, the
    /// TCP and UDP lookup tables and the pseudo-header checksum take. An <see cref="IPv4Address"/> converts to it
    /// implicitly. The default value is IPv4's 0.0.0.0.
    /// </summary>
    public readonly struct IPAddress
    {
        private readonly ulong _high;
        private readonly ulong _low;
        private readonly bool _v6;

        public IPAddress(IPv4Address address)
        {
            _high = 0;
            _low = address.Value;
            _v6 = false;
        }

        public IPAddress(IPv6Address address)
        {
            _high = address.High;
            _low = address.Low;
            _v6 = true;
        }

        public static implicit operator IPAddress(IPv4Address address) => new IPAddress(address);

        public static implicit operator IPAddress(IPv6Address address) => new IPAddress(address);

        /// <summary>IPv4's 0.0.0.0.</summary>
        public static IPAddress Any => default;

        /// <summary>IPv6's ::.</summary>
        public static IPAddress IPv6Any => new IPAddress(IPv6Address.Any);

        public AddressFamily Family => _v6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork;

        public bool IsIPv4 => !_v6;

        public bool IsIPv6 => _v6;

        /// <summary>True for 0.0.0.0 and ::.</summary>
        public bool IsAny => _high == 0 && _low == 0;

        /// <summary>True for an IPv4-mapped IPv6 address, ::ffff:a.b.c.d (RFC 4291 section 2.5.5.2).</summary>
        public bool IsIPv4MappedToIPv6 => _v6 && V6.IsIPv4Mapped;

        /// <summary>The IPv4 address an IPv4-mapped one stands for; any other address unchanged.</summary>
        public IPAddress MapToIPv4() => IsIPv4MappedToIPv6 ? new IPAddress(new IPv4Address((uint)_low)) : this;

        /// <summary>An IPv4 address as IPv4-mapped IPv6 (::ffff:a.b.c.d); an IPv6 address unchanged.</summary>
        public IPAddress MapToIPv6() => _v6 ? this : new IPAddress(new IPv6Address(0, 0xFFFF00000000UL | _low));

        /// <summary>The IPv4 address (meaningful when <see cref="IsIPv4"/>).</summary>
        public IPv4Address V4 => new IPv4Address((uint)_low);

        /// <summary>The IPv6 address (meaningful when <see cref="IsIPv6"/>).</summary>
        public IPv6Address V6 => new IPv6Address(_high, _low);

        public static bool operator ==(IPAddress left, IPAddress right) =>
            left._v6 == right._v6 && left._high == right._high && left._low == right._low;

        public static bool operator !=(IPAddress left, IPAddress right) => !(left == right);

        public bool Equals(IPAddress other) => this == other;

        public override bool Equals(object obj) => obj is IPAddress other && this == other;

        public override int GetHashCode() => (int)(_high ^ (_high >> 32) ^ _low ^ (_low >> 32)) ^ (_v6 ? 0x5A5A : 0);

        /// <summary>Writes the dotted IPv4 form or the RFC 5952 IPv6 form (no allocation).</summary>
        public void WriteTo(Keel.Hal.ITextOutput output)
        {
            if (_v6)
            {
                V6.WriteTo(output);
            }
            else
            {
                V4.WriteTo(output);
            }
        }
    }
}
