namespace Keel.Net.Sockets
{
    /// <summary>Per-connection TCP numbers (Linux struct tcp_info, the fields iperf3 and the shell use).</summary>
    public struct TcpInfo
    {
        public TcpState State;

        /// <summary>Segments retransmitted over the connection's life (tcpi_total_retrans; iperf3 "Retr").</summary>
        public long TotalRetransmits;

        /// <summary>Smoothed round-trip time, microseconds (tcpi_rtt).</summary>
        public long RttMicroseconds;

        /// <summary>Round-trip time variation, microseconds (tcpi_rttvar).</summary>
        public long RttVarMicroseconds;

        /// <summary>Current retransmission timeout, microseconds (tcpi_rto).</summary>
        public long RtoMicroseconds;

        /// <summary>Congestion window, bytes.</summary>
        public long CongestionWindow;

        /// <summary>Slow-start threshold, bytes.</summary>
        public long SlowStartThreshold;

        /// <summary>Peer's advertised window, bytes (after scaling).</summary>
        public long SendWindow;

        /// <summary>Maximum segment size used for sending (tcpi_snd_mss).</summary>
        public int SendMss;

        /// <summary>Maximum segment size announced to the peer (tcpi_rcv_mss).</summary>
        public int ReceiveMss;

        /// <summary>Window scale shifts: ours (receive) and the peer's (send); -1 when not negotiated.</summary>
        public int ReceiveWindowScale;
        public int SendWindowScale;

        /// <summary>The peer said SACK-permitted.</summary>
        public bool SackPermitted;

        /// <summary>Bytes sent but not yet acknowledged.</summary>
        public long BytesInFlight;

        /// <summary>Bytes the peer acknowledged (tcpi_bytes_acked).</summary>
        public long BytesAcked;

        /// <summary>Bytes received in order (tcpi_bytes_received).</summary>
        public long BytesReceived;

        public long SegmentsOut;
        public long SegmentsIn;

        /// <summary>Segments that arrived out of order and were queued.</summary>
        public long OutOfOrderSegments;

        /// <summary>Retransmission timeouts that fired.</summary>
        public long Timeouts;

        /// <summary>Fast retransmits (3 duplicate ACKs).</summary>
        public long FastRetransmits;

        /// <summary>Timestamps option (RFC 7323) agreed.</summary>
        public bool Timestamps;

        /// <summary>Bytes waiting in the out-of-order queue.</summary>
        public long OutOfOrderBytes;

        /// <summary>Fast recoveries entered (SACK/RACK or three duplicate ACKs).</summary>
        public long Recoveries;

        /// <summary>Segments RACK (or the DupThresh rule) marked lost.</summary>
        public long RackLosses;

        /// <summary>Tail loss probes sent.</summary>
        public long TlpProbes;

        /// <summary>Probes that repaired a loss (RFC 8985 7.4; each cut cwnd once).</summary>
        public long TlpRepairs;

        /// <summary>Retransmission timeouts F-RTO found spurious and undid.</summary>
        public long SpuriousTimeouts;

        /// <summary>D-SACK blocks received / sent.</summary>
        public long DsacksReceived;
        public long DsacksSent;

        /// <summary>Segments dropped by PAWS.</summary>
        public long PawsRejected;

        /// <summary>Receive buffer now (bytes; auto-tuning grows it) and how many times it grew.</summary>
        public long ReceiveBufferSize;
        public long ReceiveBufferGrowths;

        /// <summary>Congestion control ("cubic", "newreno").</summary>
        public string CongestionControl;
    }
}
