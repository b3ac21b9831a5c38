namespace Keel.Net
{
    /// <summary>
    /// Counter indices and names of a <see cref="NetStack"/> (IStatisticsSource). Values live in
    /// NetStack.Counters; names are ethtool/nstat style literals.
    /// </summary>
    public static class NetStatistics
    {
        public const int EthRxFrames = 0;
        public const int EthRxBytes = 1;
        public const int EthTxFrames = 2;
        public const int EthTxBytes = 3;
        public const int EthRxNotForUs = 4;
        public const int EthRxUnknownType = 5;
        public const int EthRxTruncated = 6;
        public const int TxBusyQueued = 7;
        public const int TxDropped = 8;
        public const int TxPacketAllocFailures = 9;
        public const int TxPageAllocFailures = 10;
        public const int ArpRx = 11;
        public const int ArpBad = 12;
        public const int ArpRequestsSent = 13;
        public const int ArpRepliesSent = 14;
        public const int ArpPendingDropped = 15;
        public const int ArpResolveFailed = 16;
        public const int ArpConflicts = 17;
        public const int IpRx = 18;
        public const int IpTx = 19;
        public const int IpBadHeader = 20;
        public const int IpBadChecksum = 21;
        public const int IpBadLength = 22;
        public const int IpNotForUs = 23;
        public const int IpUnknownProtocol = 24;
        public const int IpTtlZero = 25;
        public const int IpNoRoute = 26;
        public const int IpFragRx = 27;
        public const int IpReassembled = 28;
        public const int IpReasmDropped = 29;
        public const int IpReasmTimeouts = 30;
        public const int IpFragTx = 31;
        public const int IcmpRx = 32;
        public const int IcmpBad = 33;
        public const int IcmpEchoRequests = 34;
        public const int IcmpEchoRepliesSent = 35;
        public const int IcmpUnreachableSent = 36;
        public const int IcmpUnreachableRx = 37;
        public const int IcmpOtherRx = 38;
        public const int UdpRx = 39;
        public const int UdpTx = 40;
        public const int UdpBadLength = 41;
        public const int UdpBadChecksum = 42;
        public const int UdpNoPort = 43;
        public const int UdpRcvbufErrors = 44;
        public const int UdpTxErrors = 45;
        public const int TcpRxSegments = 46;
        public const int TcpTxSegments = 47;
        public const int TcpBadHeader = 48;
        public const int TcpBadChecksum = 49;
        public const int TcpBadOptions = 50;
        public const int TcpActiveOpens = 51;
        public const int TcpPassiveOpens = 52;
        public const int TcpEstablished = 53;
        public const int TcpResetsSent = 54;
        public const int TcpResetsReceived = 55;
        public const int TcpRetransmits = 56;
        public const int TcpFastRetransmits = 57;
        public const int TcpTimeouts = 58;
        public const int TcpConnTimeouts = 59;
        public const int TcpOutOfOrder = 60;
        public const int TcpDupAcksRx = 61;
        public const int TcpListenOverflows = 62;
        public const int TcpNoSocket = 63;
        public const int TcpRcvPruned = 64;
        public const int TcpDelayedAcks = 65;
        public const int TcpAcksSent = 66;
        public const int TcpZeroWindowProbes = 67;
        public const int TcpChallengeAcks = 68;
        public const int TcpUnacceptable = 69;
        public const int TcpTimewaitRecycled = 70;
        public const int TcpSocketExhausted = 71;
        public const int TcpRcvMemoryPressure = 72;

        /// <summary>Number of counters.</summary>
        public const int TcpTsoSegments = 73;
        public const int TcpLargeSegmentsRx = 74;
        public const int TcpSynCookiesSent = 75;
        public const int TcpSynCookiesReceived = 76;
        public const int TcpSynCookiesFailed = 77;
        public const int TcpSynAckTimeouts = 78;
        public const int TcpPawsRejected = 79;
        public const int TcpDsacksRx = 80;
        public const int TcpRackLosses = 81;
        public const int TcpSpuriousRtos = 82;
        public const int TcpLossProbes = 83;
        public const int TcpFinWait2Timeouts = 84;
        public const int TcpOrphanTimeouts = 85;
        public const int TcpKeepAliveProbes = 86;
        public const int TcpKeepAliveTimeouts = 87;
        public const int UdpRefused = 88;
        public const int TcpReceiveBufferGrowths = 89;
        public const int TcpRcvCoalesced = 90;
        public const int TcpTlpRepairs = 91;
        public const int Count = 92;

        /// <summary>Name of counter <paramref name="index"/>.</summary>
        public static string Name(int index)
        {
            switch (index)
            {
                case EthRxFrames: return "eth_rx_frames";
                case EthRxBytes: return "eth_rx_bytes";
                case EthTxFrames: return "eth_tx_frames";
                case EthTxBytes: return "eth_tx_bytes";
                case EthRxNotForUs: return "eth_rx_not_for_us";
                case EthRxUnknownType: return "eth_rx_unknown_type";
                case EthRxTruncated: return "eth_rx_truncated";
                case TxBusyQueued: return "tx_busy_queued";
                case TxDropped: return "tx_dropped";
                case TxPacketAllocFailures: return "tx_packet_alloc_failures";
                case TxPageAllocFailures: return "tx_page_alloc_failures";
                case ArpRx: return "arp_rx";
                case ArpBad: return "arp_bad";
                case ArpRequestsSent: return "arp_requests_sent";
                case ArpRepliesSent: return "arp_replies_sent";
                case ArpPendingDropped: return "arp_pending_dropped";
                case ArpResolveFailed: return "arp_resolve_failed";
                case ArpConflicts: return "arp_conflicts";
                case IpRx: return "ip_rx";
                case IpTx: return "ip_tx";
                case IpBadHeader: return "ip_bad_header";
                case IpBadChecksum: return "ip_bad_checksum";
                case IpBadLength: return "ip_bad_length";
                case IpNotForUs: return "ip_not_for_us";
                case IpUnknownProtocol: return "ip_unknown_protocol";
                case IpTtlZero: return "ip_ttl_zero";
                case IpNoRoute: return "ip_no_route";
                case IpFragRx: return "ip_frag_rx";
                case IpReassembled: return "ip_reassembled";
                case IpReasmDropped: return "ip_reasm_dropped";
                case IpReasmTimeouts: return "ip_reasm_timeouts";
                case IpFragTx: return "ip_frag_tx";
                case IcmpRx: return "icmp_rx";
                case IcmpBad: return "icmp_bad";
                case IcmpEchoRequests: return "icmp_echo_requests";
                case IcmpEchoRepliesSent: return "icmp_echo_replies_sent";
                case IcmpUnreachableSent: return "icmp_unreachable_sent";
                case IcmpUnreachableRx: return "icmp_unreachable_rx";
                case IcmpOtherRx: return "icmp_other_rx";
                case UdpRx: return "udp_rx";
                case UdpTx: return "udp_tx";
                case UdpBadLength: return "udp_bad_length";
                case UdpBadChecksum: return "udp_bad_checksum";
                case UdpNoPort: return "udp_no_port";
                case UdpRcvbufErrors: return "udp_rcvbuf_errors";
                case UdpTxErrors: return "udp_tx_errors";
                case TcpRxSegments: return "tcp_rx_segments";
                case TcpTxSegments: return "tcp_tx_segments";
                case TcpBadHeader: return "tcp_bad_header";
                case TcpBadChecksum: return "tcp_bad_checksum";
                case TcpBadOptions: return "tcp_bad_options";
                case TcpActiveOpens: return "tcp_active_opens";
                case TcpPassiveOpens: return "tcp_passive_opens";
                case TcpEstablished: return "tcp_established";
                case TcpResetsSent: return "tcp_resets_sent";
                case TcpResetsReceived: return "tcp_resets_received";
                case TcpRetransmits: return "tcp_retransmits";
                case TcpFastRetransmits: return "tcp_fast_retransmits";
                case TcpTimeouts: return "tcp_timeouts";
                case TcpConnTimeouts: return "tcp_conn_timeouts";
                case TcpOutOfOrder: return "tcp_out_of_order";
                case TcpDupAcksRx: return "tcp_dup_acks_rx";
                case TcpListenOverflows: return "tcp_listen_overflows";
                case TcpNoSocket: return "tcp_no_socket";
                case TcpRcvPruned: return "tcp_rcv_pruned";
                case TcpDelayedAcks: return "tcp_delayed_acks";
                case TcpAcksSent: return "tcp_acks_sent";
                case TcpZeroWindowProbes: return "tcp_zero_window_probes";
                case TcpChallengeAcks: return "tcp_challenge_acks";
                case TcpUnacceptable: return "tcp_unacceptable";
                case TcpTimewaitRecycled: return "tcp_timewait_recycled";
                case TcpSocketExhausted: return "tcp_socket_exhausted";
                case TcpRcvMemoryPressure: return "tcp_rcv_memory_pressure";
                case TcpTsoSegments: return "tcp_tso_segments";
                case TcpLargeSegmentsRx: return "tcp_large_segments_rx";
                case TcpPawsRejected: return "tcp_paws_rejected";
                case TcpDsacksRx: return "tcp_dsacks_rx";
                case TcpRackLosses: return "tcp_rack_losses";
                case TcpSpuriousRtos: return "tcp_spurious_rtos";
                case TcpLossProbes: return "tcp_loss_probes";
                case TcpFinWait2Timeouts: return "tcp_finwait2_timeouts";
                case TcpOrphanTimeouts: return "tcp_orphan_timeouts";
                case TcpKeepAliveProbes: return "tcp_keepalive_probes";
                case TcpKeepAliveTimeouts: return "tcp_keepalive_timeouts";
                case TcpReceiveBufferGrowths: return "tcp_rcvbuf_growths";
                case TcpRcvCoalesced: return "tcp_rcv_coalesced";
                case TcpTlpRepairs: return "tcp_tlp_repairs";
                case UdpRefused: return "udp_refused";
                case TcpSynCookiesSent: return "tcp_syncookies_sent";
                case TcpSynCookiesReceived: return "tcp_syncookies_recv";
                case TcpSynCookiesFailed: return "tcp_syncookies_failed";
                case TcpSynAckTimeouts: return "tcp_synack_timeouts";
                default: return "";
            }
        }
    }
}
