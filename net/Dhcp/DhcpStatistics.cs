namespace Keel.Net.Dhcp
{
    /// <summary>Counter indices and names of a <see cref="DhcpClient"/> (values in <c>DhcpClient.Counters</c>).</summary>
    public static class DhcpStatistics
    {
        public const int DiscoversSent = 0;
        public const int RequestsSent = 1;
        public const int DeclinesSent = 2;
        public const int Retransmissions = 3;
        public const int OffersReceived = 4;
        public const int AcksReceived = 5;
        public const int NaksReceived = 6;
        public const int Short = 7;
        public const int NotReply = 8;
        public const int NotOurs = 9;
        public const int Malformed = 10;
        public const int Hostile = 11;
        public const int Unexpected = 12;
        public const int WrongSource = 13;
        public const int Truncated = 14;
        public const int ProbesSent = 15;
        public const int ProbeConflicts = 16;
        public const int Leases = 17;
        public const int Renewals = 18;
        public const int Rebinds = 19;
        public const int Expiries = 20;
        public const int SendFailures = 21;
        public const int Count = 22;

        public static string Name(int index)
        {
            switch (index)
            {
                case DiscoversSent: return "discovers_sent";
                case RequestsSent: return "requests_sent";
                case DeclinesSent: return "declines_sent";
                case Retransmissions: return "retransmissions";
                case OffersReceived: return "offers";
                case AcksReceived: return "acks";
                case NaksReceived: return "naks";
                case Short: return "rx_short";
                case NotReply: return "rx_not_reply";
                case NotOurs: return "rx_not_ours";
                case Malformed: return "rx_malformed";
                case Hostile: return "rx_hostile";
                case Unexpected: return "rx_unexpected";
                case WrongSource: return "rx_wrong_source";
                case Truncated: return "rx_truncated";
                case ProbesSent: return "arp_probes_sent";
                case ProbeConflicts: return "arp_probe_conflicts";
                case Leases: return "leases";
                case Renewals: return "renewals";
                case Rebinds: return "rebinds";
                case Expiries: return "expiries";
                case SendFailures: return "send_failures";
                default: return "unknown";
            }
        }

        /// <summary>What counter <paramref name="index"/> counts (one line); every one counts events.</summary>
        public static string Help(int index)
        {
            switch (index)
            {
                case DiscoversSent: return "DHCPDISCOVER messages sent";
                case RequestsSent: return "DHCPREQUEST messages sent";
                case DeclinesSent: return "DHCPDECLINE messages sent";
                case Retransmissions: return "DHCP messages sent again after no answer";
                case OffersReceived: return "DHCPOFFER messages received";
                case AcksReceived: return "DHCPACK messages received";
                case NaksReceived: return "DHCPNAK messages received";
                case Short: return "DHCP replies too short to parse";
                case NotReply: return "DHCP messages that are not replies";
                case NotOurs: return "DHCP replies for another client";
                case Malformed: return "Malformed DHCP replies";
                case Hostile: return "DHCP replies with unusable values";
                case Unexpected: return "DHCP replies not expected in the current state";
                case WrongSource: return "DHCP replies from an unexpected server";
                case Truncated: return "DHCP replies cut short by the frame";
                case ProbesSent: return "ARP probes sent for an offered address";
                case ProbeConflicts: return "Offered addresses found in use by ARP";
                case Leases: return "DHCP leases obtained";
                case Renewals: return "DHCP leases renewed";
                case Rebinds: return "DHCP leases rebound";
                case Expiries: return "DHCP leases expired";
                case SendFailures: return "DHCP messages that could not be sent";
                default: return "";
            }
        }
    }
}
