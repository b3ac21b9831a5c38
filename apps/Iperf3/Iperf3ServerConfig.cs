namespace Keel.Apps.Iperf3
{
    /// <summary>Settings of an <see cref="Iperf3Server"/>; every buffer is sized from these once, at construction.</summary>
    public sealed class Iperf3ServerConfig
    {
        /// <summary>TCP and UDP port (iperf3 -p; default 5201).</summary>
        public int Port = 5201;

        /// <summary>Most data streams in one test (-P N, or 2N with --bidir). Larger requests get SERVER_ERROR.</summary>
        public int MaxStreams = 16;

        /// <summary>Bytes buffered for one control message in each direction (parameters, results JSON).</summary>
        public int ControlBufferSize = 16384;

        /// <summary>Largest single write on a TCP data stream when the server sends (-R); larger -l is written in pieces.</summary>
        public int MaxWriteSize = 131072;

        /// <summary>Listen backlog of the TCP port.</summary>
        public int Backlog = 16;

        /// <summary>How long any set-up or result step may take before the test is dropped.</summary>
        public int HandshakeTimeoutMilliseconds = 30000;

        /// <summary>Receiving test with no data at all for this long is dropped (iperf3 --rcv-timeout).</summary>
        public int ReceiveIdleTimeoutMilliseconds = 120000;

        /// <summary>Extra time after time + omit before a running test is dropped (stock: 40 s).</summary>
        public int RunningGraceMilliseconds = 40000;

        /// <summary>Receive queue limit of each UDP data stream socket (0: the stack's default).</summary>
        public int UdpStreamReceiveBufferSize = 1024 * 1024;

        /// <summary>UDP datagrams one stream may send per <see cref="Iperf3Server.Poll"/> (keeps the main loop moving).</summary>
        public int UdpSendBurst = 256;

        /// <summary>Seed for the payload bytes.</summary>
        public ulong PayloadSeed = 0x9E3779B97F4A7C15UL;
    }
}
