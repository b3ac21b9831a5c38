namespace Keel.Net.Tcp
{
    /// <summary>Parsed fields of one received TCP segment (the packet itself holds only the payload).</summary>
    internal unsafe struct TcpSegment
    {
        /// <summary>Most SACK blocks a segment can carry (40 option bytes: 2 + 4 × 8).</summary>
        public const int MaxSackBlocks = 4;

        public IPAddress Source;
        public IPAddress Destination;
        public int SourcePort;
        public int DestinationPort;
        public uint Sequence;
        public uint Acknowledgment;
        public int Flags;
        public int Window;

        /// <summary>MSS option value; 0 when absent.</summary>
        public int Mss;

        /// <summary>Window-scale option shift; -1 when absent.</summary>
        public int WindowScale;

        public bool SackPermitted;

        /// <summary>Timestamps option (RFC 7323) present: <see cref="TsVal"/> and <see cref="TsEcr"/> are valid.</summary>
        public bool HasTimestamp;

        public uint TsVal;
        public uint TsEcr;

        /// <summary>SACK blocks (RFC 2018) in <see cref="Sack"/>: left edge at 2i, right edge at 2i + 1.</summary>
        public int SackCount;

        public fixed uint Sack[2 * MaxSackBlocks];

        /// <summary>Payload bytes.</summary>
        public int DataLength;

        public bool Has(int flag) => (Flags & flag) != 0;

        /// <summary>Where the segment went: our end of its connection.</summary>
        public IPEndPoint LocalEndPoint => new IPEndPoint(Destination, DestinationPort);

        /// <summary>Where it came from: the peer's end.</summary>
        public IPEndPoint RemoteEndPoint => new IPEndPoint(Source, SourcePort);
    }
}
