namespace Keel.Apps.Iperf3
{
    /// <summary>Counter indices and names of an <see cref="Iperf3Server"/> (IStatisticsSource).</summary>
    public static class Iperf3Statistics
    {
        public const int ControlAccepted = 0;
        public const int TestsStarted = 1;
        public const int TestsCompleted = 2;
        public const int TestsAborted = 3;
        public const int AccessDenied = 4;
        public const int BadCookies = 5;
        public const int ServerErrors = 6;
        public const int ProtocolErrors = 7;
        public const int Timeouts = 8;
        public const int ClientTerminated = 9;
        public const int StreamsCreated = 10;
        public const int TcpBytesReceived = 11;
        public const int TcpBytesSent = 12;
        public const int UdpDatagramsReceived = 13;
        public const int UdpBytesReceived = 14;
        public const int UdpDatagramsSent = 15;
        public const int UdpBytesSent = 16;
        public const int UdpLost = 17;
        public const int UdpOutOfOrder = 18;
        public const int UdpSendErrors = 19;
        public const int SocketExhausted = 20;
        public const int Count = 21;

        public static string Name(int index)
        {
            switch (index)
            {
                case ControlAccepted: return "iperf3_control_accepted";
                case TestsStarted: return "iperf3_tests_started";
                case TestsCompleted: return "iperf3_tests_completed";
                case TestsAborted: return "iperf3_tests_aborted";
                case AccessDenied: return "iperf3_access_denied";
                case BadCookies: return "iperf3_bad_cookies";
                case ServerErrors: return "iperf3_server_errors";
                case ProtocolErrors: return "iperf3_protocol_errors";
                case Timeouts: return "iperf3_timeouts";
                case ClientTerminated: return "iperf3_client_terminated";
                case StreamsCreated: return "iperf3_streams_created";
                case TcpBytesReceived: return "iperf3_tcp_rx_bytes";
                case TcpBytesSent: return "iperf3_tcp_tx_bytes";
                case UdpDatagramsReceived: return "iperf3_udp_rx_datagrams";
                case UdpBytesReceived: return "iperf3_udp_rx_bytes";
                case UdpDatagramsSent: return "iperf3_udp_tx_datagrams";
                case UdpBytesSent: return "iperf3_udp_tx_bytes";
                case UdpLost: return "iperf3_udp_lost";
                case UdpOutOfOrder: return "iperf3_udp_out_of_order";
                case UdpSendErrors: return "iperf3_udp_tx_errors";
                case SocketExhausted: return "iperf3_socket_exhausted";
                default: return "?";
            }
        }

        /// <summary>What counter <paramref name="index"/> counts (one line); every one counts events.</summary>
        public static string Help(int index)
        {
            switch (index)
            {
                case ControlAccepted: return "iperf3 control connections accepted";
                case TestsStarted: return "iperf3 tests started";
                case TestsCompleted: return "iperf3 tests completed";
                case TestsAborted: return "iperf3 tests aborted";
                case AccessDenied: return "iperf3 clients turned away while a test runs";
                case BadCookies: return "iperf3 connections with an unknown cookie";
                case ServerErrors: return "iperf3 tests ended by a server error";
                case ProtocolErrors: return "iperf3 protocol errors";
                case Timeouts: return "iperf3 tests timed out";
                case ClientTerminated: return "iperf3 tests the client ended";
                case StreamsCreated: return "iperf3 data streams created";
                case TcpBytesReceived: return "iperf3 TCP bytes received";
                case TcpBytesSent: return "iperf3 TCP bytes sent";
                case UdpDatagramsReceived: return "iperf3 UDP datagrams received";
                case UdpBytesReceived: return "iperf3 UDP bytes received";
                case UdpDatagramsSent: return "iperf3 UDP datagrams sent";
                case UdpBytesSent: return "iperf3 UDP bytes sent";
                case UdpLost: return "iperf3 UDP datagrams lost";
                case UdpOutOfOrder: return "iperf3 UDP datagrams out of order";
                case UdpSendErrors: return "iperf3 UDP sends that failed";
                case SocketExhausted: return "iperf3 streams refused with every socket in use";
                default: return "";
            }
        }
    }
}
