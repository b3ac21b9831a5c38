namespace Keel.Net.Dns
{
    /// <summary>Counter indices and names of a <see cref="DnsResolver"/> (values in <c>DnsResolver.Counters</c>).</summary>
    public static class DnsStatistics
    {
        public const int Queries = 0;
        public const int CacheHits = 1;
        public const int UdpSent = 2;
        public const int TcpSent = 3;
        public const int Answers = 4;
        public const int Failures = 5;
        public const int Retransmissions = 6;
        public const int Timeouts = 7;
        public const int Truncated = 8;
        public const int TcpFailures = 9;
        public const int WrongSource = 10;
        public const int WrongId = 11;
        public const int WrongQuestion = 12;
        public const int Malformed = 13;
        public const int Oversized = 14;
        public const int ServerErrors = 15;
        public const int CnameRequeries = 16;
        public const int SendFailures = 17;
        public const int NoQuerySlot = 18;
        /// <summary>Address records no host can be reached at (0.0.0.0/8, 255.255.255.255, ::, IPv6 multicast): skipped.</summary>
        public const int UnusableAddress = 19;
        public const int Count = 20;

        public static string Name(int index)
        {
            switch (index)
            {
                case Queries: return "queries";
                case CacheHits: return "cache_hits";
                case UdpSent: return "udp_sent";
                case TcpSent: return "tcp_sent";
                case Answers: return "answers";
                case Failures: return "failures";
                case Retransmissions: return "retransmissions";
                case Timeouts: return "timeouts";
                case Truncated: return "truncated";
                case TcpFailures: return "tcp_failures";
                case WrongSource: return "rx_wrong_source";
                case WrongId: return "rx_wrong_id";
                case WrongQuestion: return "rx_wrong_question";
                case Malformed: return "rx_malformed";
                case Oversized: return "rx_oversized";
                case ServerErrors: return "server_errors";
                case CnameRequeries: return "cname_requeries";
                case SendFailures: return "send_failures";
                case NoQuerySlot: return "no_query_slot";
                case UnusableAddress: return "rx_unusable_address";
                default: return "unknown";
            }
        }

        /// <summary>What counter <paramref name="index"/> counts (one line); every one counts events.</summary>
        public static string Help(int index)
        {
            switch (index)
            {
                case Queries: return "DNS lookups asked for";
                case CacheHits: return "DNS lookups answered from the cache";
                case UdpSent: return "DNS queries sent over UDP";
                case TcpSent: return "DNS queries sent over TCP";
                case Answers: return "DNS lookups answered";
                case Failures: return "DNS lookups that failed";
                case Retransmissions: return "DNS queries sent again";
                case Timeouts: return "DNS queries timed out";
                case Truncated: return "DNS answers truncated (retried over TCP)";
                case TcpFailures: return "DNS queries over TCP that failed";
                case WrongSource: return "DNS answers from an unexpected address";
                case WrongId: return "DNS answers with an unknown id";
                case WrongQuestion: return "DNS answers to another question";
                case Malformed: return "Malformed DNS answers";
                case Oversized: return "DNS answers too large to take";
                case ServerErrors: return "DNS answers reporting a server error";
                case CnameRequeries: return "DNS queries sent again for a CNAME target";
                case SendFailures: return "DNS queries that could not be sent";
                case NoQuerySlot: return "DNS lookups refused with every query slot busy";
                case UnusableAddress: return "DNS address records no host can be reached at";
                default: return "";
            }
        }
    }
}
