namespace Keel.Net.Tcp
{
    /// <summary>Parsed fields of one received TCP segment (the packet itself holds only the payload).</summary>
    internal struct TcpSegment
    {
        public uint Source;
        public uint Destination;
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

        /// <summary>Payload bytes.</summary>
        public int DataLength;

        public bool Has(int flag) => (Flags & flag) != 0;
    }
}
