namespace Keel.Net.Ipv6
{
    /// <summary>
    /// Counter indices and names of the IPv6 layers (values in <c>Ipv6Layer.Counters</c>; <see cref="NetStack"/>
    /// exports them after its own). Every frame dropped for a reason is counted under that reason.
    /// </summary>
    public static class Ipv6Statistics
    {
        public const int Rx = 0;
        public const int Tx = 1;
        public const int BadHeader = 2;
        public const int BadLength = 3;
        public const int NotForUs = 4;
        public const int BadSource = 5;
        public const int UnknownNextHeader = 6;
        public const int ExtensionChainTooLong = 7;
        public const int HopByHopNotFirst = 8;
        public const int BadOption = 9;
        public const int UnknownOptionDropped = 10;
        public const int RoutingHeaderRefused = 11;
        public const int NoRoute = 12;
        public const int FragRx = 13;
        public const int AtomicFragments = 14;
        public const int Reassembled = 15;
        public const int ReasmDropped = 16;
        public const int ReasmOverlaps = 17;
        public const int ReasmTimeouts = 18;
        public const int ReasmIncompleteChain = 19;
        public const int IcmpRx = 20;
        public const int IcmpTx = 21;
        public const int IcmpBad = 22;
        public const int IcmpBadChecksum = 23;
        public const int IcmpEchoRequests = 24;
        public const int IcmpEchoReplies = 25;
        public const int IcmpErrorsRx = 26;
        public const int IcmpErrorsSent = 27;
        public const int IcmpErrorsRateLimited = 28;
        public const int IcmpErrorsSuppressed = 29;
        public const int IcmpOtherRx = 30;
        public const int NdBad = 31;
        public const int NdBadHopLimit = 32;
        public const int NdBadOptions = 33;
        public const int NsRx = 34;
        public const int NaRx = 35;
        public const int RaRx = 36;
        public const int RedirectRx = 37;
        public const int RedirectRejected = 38;
        public const int NsSent = 39;
        public const int NaSent = 40;
        public const int RsSent = 41;
        public const int NeighborPendingDropped = 42;
        public const int NeighborResolveFailed = 43;
        public const int NeighborCacheFull = 44;
        public const int RoutersDropped = 45;
        public const int PrefixesDropped = 46;
        public const int DadStarted = 47;
        public const int DadFailed = 48;
        public const int AddressesDropped = 49;
        public const int MldRx = 50;
        public const int MldBad = 51;
        public const int MldReportsSent = 52;
        public const int FragTx = 53;
        public const int AddressConflicts = 54;
        public const int DnsServersDropped = 55;
        public const int PacketTooBigRx = 56;
        public const int PacketTooBigIgnored = 57;
        public const int MappedAddress = 58;
        public const int PathMtuLowered = 59;
        public const int PathMtuExpired = 60;
        public const int PathMtuEvicted = 61;
        public const int Count = 62;

        /// <summary>Name of counter <paramref name="index"/> (empty when out of range).</summary>
        public static string Name(int index)
        {
            switch (index)
            {
                case Rx: return "ip6_rx";
                case Tx: return "ip6_tx";
                case BadHeader: return "ip6_bad_header";
                case BadLength: return "ip6_bad_length";
                case NotForUs: return "ip6_rx_other_host";
                case BadSource: return "ip6_bad_source";
                case UnknownNextHeader: return "ip6_unknown_next_header";
                case ExtensionChainTooLong: return "ip6_ext_chain_too_long";
                case HopByHopNotFirst: return "ip6_hop_by_hop_not_first";
                case BadOption: return "ip6_bad_option";
                case UnknownOptionDropped: return "ip6_unknown_option_dropped";
                case RoutingHeaderRefused: return "ip6_routing_header_refused";
                case NoRoute: return "ip6_no_route";
                case FragRx: return "ip6_frag_rx";
                case AtomicFragments: return "ip6_atomic_fragments";
                case Reassembled: return "ip6_reassembled";
                case ReasmDropped: return "ip6_reasm_dropped";
                case ReasmOverlaps: return "ip6_reasm_overlaps";
                case ReasmTimeouts: return "ip6_reasm_timeouts";
                case ReasmIncompleteChain: return "ip6_reasm_incomplete_chain";
                case IcmpRx: return "icmp6_rx";
                case IcmpTx: return "icmp6_tx";
                case IcmpBad: return "icmp6_bad";
                case IcmpBadChecksum: return "icmp6_bad_checksum";
                case IcmpEchoRequests: return "icmp6_echo_requests";
                case IcmpEchoReplies: return "icmp6_echo_replies_sent";
                case IcmpErrorsRx: return "icmp6_errors_rx";
                case IcmpErrorsSent: return "icmp6_errors_sent";
                case IcmpErrorsRateLimited: return "icmp6_errors_rate_limited";
                case IcmpErrorsSuppressed: return "icmp6_errors_suppressed";
                case IcmpOtherRx: return "icmp6_other_rx";
                case NdBad: return "nd_bad";
                case NdBadHopLimit: return "nd_bad_hop_limit";
                case NdBadOptions: return "nd_bad_options";
                case NsRx: return "nd_solicitations_rx";
                case NaRx: return "nd_na_rx";
                case RaRx: return "nd_ra_rx";
                case RedirectRx: return "nd_redirect_rx";
                case RedirectRejected: return "nd_redirect_rejected";
                case NsSent: return "nd_solicitations_sent";
                case NaSent: return "nd_na_sent";
                case RsSent: return "nd_rs_sent";
                case NeighborPendingDropped: return "nd_pending_dropped";
                case NeighborResolveFailed: return "nd_resolve_failed";
                case NeighborCacheFull: return "nd_cache_full";
                case RoutersDropped: return "nd_routers_dropped";
                case PrefixesDropped: return "nd_prefixes_dropped";
                case DadStarted: return "dad_started";
                case DadFailed: return "dad_failed";
                case AddressesDropped: return "slaac_addresses_dropped";
                case MldRx: return "mld_rx";
                case MldBad: return "mld_bad";
                case MldReportsSent: return "mld_reports_sent";
                case FragTx: return "ip6_frag_tx";
                case AddressConflicts: return "nd_address_conflicts";
                case DnsServersDropped: return "nd_rdnss_dropped";
                case PacketTooBigRx: return "icmp6_packet_too_big_rx";
                case PacketTooBigIgnored: return "icmp6_packet_too_big_ignored";
                case MappedAddress: return "ip6_mapped_address";
                case PathMtuLowered: return "ip6_pmtu_lowered";
                case PathMtuExpired: return "ip6_pmtu_expired";
                case PathMtuEvicted: return "ip6_pmtu_evicted";
                default: return "";
            }
        }
    }
}
