namespace Keel.Net
{
    /// <summary>
    /// An IPv4 address (System.Net.IPAddress for IPv4 only, as a struct so it never allocates).
    /// <see cref="Value"/> holds the address in host byte order: 198.18.0.2 is 0xC6120002.
    /// </summary>
    public readonly struct IPv4Address
    {
        /// <summary>The address in host byte order (first octet in the high byte).</summary>
        public readonly uint Value;

        public IPv4Address(uint value)
        {
            Value = value;
        }

        public IPv4Address(byte a, byte b, byte c, byte d)
        {
            Value = ((uint)a << 24) | ((uint)b << 16) | ((uint)c << 8) | d;
        }

        /// <summary>0.0.0.0 (bind to every local address; System.Net IPAddress.Any).</summary>
        public static IPv4Address Any => new IPv4Address(0);

        /// <summary>255.255.255.255 (limited broadcast).</summary>
        public static IPv4Address Broadcast => new IPv4Address(0xFFFFFFFF);

        /// <summary>True for 0.0.0.0.</summary>
        public bool IsAny => Value == 0;

        /// <summary>Octet <paramref name="index"/> (0 is the first, as written in dotted form).</summary>
        public byte GetOctet(int index) => (byte)(Value >> (24 - 8 * index));

        public static bool operator ==(IPv4Address left, IPv4Address right) => left.Value == right.Value;

        public static bool operator !=(IPv4Address left, IPv4Address right) => left.Value != right.Value;

        public bool Equals(IPv4Address other) => Value == other.Value;

        public override bool Equals(object obj) => obj is IPv4Address other && other.Value == Value;

        public override int GetHashCode() => (int)Value;

        /// <summary>Writes the address in dotted form (no allocation).</summary>
        public void WriteTo(Keel.Hal.ITextOutput output)
        {
            output.Write((long)GetOctet(0));
            output.Write('.');
            output.Write((long)GetOctet(1));
            output.Write('.');
            output.Write((long)GetOctet(2));
            output.Write('.');
            output.Write((long)GetOctet(3));
        }
    }
}
