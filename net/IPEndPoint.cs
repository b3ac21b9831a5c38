namespace Keel.Net
{
    /// <summary>An IPv4 address and a port (System.Net.IPEndPoint, as a struct so it never allocates).</summary>
    public readonly struct IPEndPoint
    {
        public readonly IPv4Address Address;

        /// <summary>Port in host byte order (0 = any / not set).</summary>
        public readonly int Port;

        public IPEndPoint(IPv4Address address, int port)
        {
            Address = address;
            Port = port;
        }

        public bool Equals(IPEndPoint other) => Address.Value == other.Address.Value && Port == other.Port;

        public override bool Equals(object obj) => obj is IPEndPoint other && Equals(other);

        public override int GetHashCode() => (int)Address.Value ^ Port;

        /// <summary>Writes "a.b.c.d:port" (no allocation).</summary>
        public void WriteTo(Keel.Hal.ITextOutput output)
        {
            Address.WriteTo(output);
            output.Write(':');
            output.Write((long)Port);
        }
    }
}
