namespace Keel.Net
{
    /// <summary>
    /// An IPv4 or IPv6 address and a port (System.Net.IPEndPoint, as a struct so it never allocates). An
    /// <see cref="IPv4Address"/> converts to the address implicitly: <c>new IPEndPoint(new IPv4Address(198, 18, 0, 1), 80)</c>.
    /// </summary>
    public readonly struct IPEndPoint
    {
        public readonly IPAddress Address;

        /// <summary>Port in host byte order (0 = any / not set).</summary>
        public readonly int Port;

        public IPEndPoint(IPAddress address, int port)
        {
            Address = address;
            Port = port;
        }

        public AddressFamily AddressFamily => Address.Family;

        public static bool operator ==(IPEndPoint left, IPEndPoint right) => left.Port == right.Port && left.Address == right.Address;

        public static bool operator !=(IPEndPoint left, IPEndPoint right) => !(left == right);

        public bool Equals(IPEndPoint other) => this == other;

        public override bool Equals(object obj) => obj is IPEndPoint other && this == other;

        public override int GetHashCode() => Address.GetHashCode() ^ Port;

        /// <summary>Writes "a.b.c.d:port", or "[v6 address]:port" (RFC 5952 section 6), without allocating.</summary>
        public void WriteTo(Keel.Hal.ITextOutput output)
        {
            if (Address.IsIPv6)
            {
                output.Write('[');
                Address.WriteTo(output);
                output.Write(']');
            }
            else
            {
                Address.WriteTo(output);
            }
            output.Write(':');
            output.Write((long)Port);
        }
    }
}
