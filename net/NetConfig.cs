using Keel.Hal;

namespace Keel.Net
{
    /// <summary>
    /// Settings for a <see cref="NetStack"/>. Everything is sized from these numbers once, at construction.
    /// Times are <see cref="Duration"/>s.
    /// </summary>
    public sealed class NetConfig
    {
        /// <summary>This host's address (e.g. 198.18.0.2).</summary>
        public IPv4Address Address;

        /// <summary>
        /// Where TCP initial sequence numbers and ephemeral ports come from (the kernel's entropy pool); null =
        /// the stack's own generator seeded with the constructor's seed.
        /// </summary>
        public Keel.Hal.IEntropySource Entropy;

        /// <summary>Network prefix length (24 for a /24).</summary>
        public int PrefixLength = 24;

        /// <summary>Default gateway; <see cref="IPv4Address.Any"/> for none (only the local subnet is reachable).</summary>
        public IPv4Address Gateway;

        /// <summary>
        /// Sockets (TCP and UDP, including accepted connections and those in TIME_WAIT) that can exist at once. The
        /// kernel sizes it from memory with <see cref="SocketsForMemory"/> (or takes <c>sockets=N</c>).
        /// </summary>
        public int MaxSockets = 64;

        /// <summary>
        /// What one socket costs when it is made at start-up and while its connection is idle: the socket, its TCP
        /// connection and UDP endpoint, its share of the large scoreboard rings and of the hash table, and an
        /// application's slot for it, rounded up (measured in SocketTableSizingTests; docs/network-stack.md).
        /// Receive data and send pages are charged to the page pools only while they are held.
        /// </summary>
        public const int BytesPerSocket = 5184;

        /// <summary>
        /// Sockets (with their TCP connection and UDP endpoint) made at start-up; the rest of <see cref="MaxSockets"/>
        /// are made the first time they are needed, from the memory the sizing set aside, so that a large table does
        /// not lengthen start-up. Up to this many, opening a socket never allocates.
        /// </summary>
        public const int PreallocatedSocketLimit = 256;

        /// <summary>Sockets made at start-up: <see cref="MaxSockets"/>, at most <see cref="PreallocatedSocketLimit"/>.</summary>
        public int PreallocatedSockets => MaxSockets < PreallocatedSocketLimit ? MaxSockets : PreallocatedSocketLimit;

        /// <summary>Fewest sockets <see cref="SocketsForMemory"/> gives.</summary>
        public const int MinSockets = 64;

        /// <summary>Most sockets <see cref="SocketsForMemory"/> gives (and <c>sockets=</c> accepts).</summary>
        public const int SocketLimit = 65536;

        /// <summary>
        /// The socket count for <paramref name="freeBytes"/> of free memory: a quarter of it divided by
        /// <see cref="BytesPerSocket"/>, between <see cref="MinSockets"/> and <see cref="SocketLimit"/> (256 MiB
        /// gives about 13,000; Linux sizes its TCP tables from memory the same way).
        /// </summary>
        public static int SocketsForMemory(long freeBytes)
        {
            long sockets = freeBytes / 4 / BytesPerSocket;
            return sockets < MinSockets ? MinSockets : sockets > SocketLimit ? SocketLimit : (int)sockets;
        }

        /// <summary>
        /// Sockets held back for each listener with fewer connections than this, and for the applications' own
        /// sockets: a listener may not take the last free ones while another listener has not had its share,
        /// so one service's clients cannot starve the others. A client over the limit gets a RST at once. At
        /// most a sixteenth of <see cref="MaxSockets"/> (none in a table of fewer than 16).
        /// </summary>
        public int TcpListenerReserve = 8;

        /// <summary>
        /// Connections in TIME_WAIT at once (Linux tcp_max_tw_buckets); a connection closed past it goes straight
        /// to CLOSED (counted in tcp_timewait_overflows). 0: half of <see cref="MaxSockets"/>.
        /// </summary>
        public int TcpMaxTimeWait;

        /// <summary>Default TCP receive buffer (and largest advertised window) per connection, bytes.</summary>
        public int TcpReceiveBufferSize = 512 * 1024;

        /// <summary>
        /// Largest TCP receive buffer auto-tuning may grow a connection to (the window follows the bandwidth-delay
        /// product, see TcpConnection.Tuning.cs); at or below <see cref="TcpReceiveBufferSize"/>, no tuning. A
        /// socket whose ReceiveBufferSize was set keeps that size.
        /// </summary>
        public int TcpReceiveBufferMax = 4 * 1024 * 1024;

        /// <summary>
        /// Size auto-tuned receive buffers from the rate the application drains times the smallest receiver RTT, with
        /// <see cref="TcpReceiveMarginPercent"/>, shrinking as well as growing (ReceiveBufferTuning; kernel command line
        /// <c>rcvsize=on|off</c>). Off: Linux's dynamic right-sizing, which only grows.
        /// </summary>
        public bool TcpReceiveRightSizing;

        /// <summary>Margin of <see cref="TcpReceiveRightSizing"/> over rate × minimum RTT, percent (200 = Linux's factor of two).</summary>
        public int TcpReceiveMarginPercent = 200;

        /// <summary>Smallest receive buffer <see cref="TcpReceiveRightSizing"/> shrinks a connection to, bytes.</summary>
        public int TcpReceiveBufferMin = 64 * 1024;

        /// <summary>Default TCP send buffer per connection, bytes (data waiting to be sent or acknowledged).</summary>
        public int TcpSendBufferSize = 256 * 1024;

        /// <summary>Default UDP receive buffer per socket, bytes charged by Packet.TrueSize.</summary>
        public int UdpReceiveBufferSize = 256 * 1024;

        /// <summary>
        /// Pages (4 KiB) in the stack's transmit page pool, shared by all TCP send buffers, UDP/ICMP payloads and
        /// IP reassembly. A socket's Send returns WouldBlock when the pool is empty.
        /// </summary>
        public int TransmitPages = 2048;

        /// <summary>ARP cache entries.</summary>
        public int ArpCacheSize = 32;

        /// <summary>How long a resolved ARP entry stays valid.</summary>
        public Duration ArpTimeout = Duration.FromSeconds(60);

        /// <summary>Packets waiting for ARP resolution (all destinations together); more are dropped and counted.</summary>
        public int ArpPendingPackets = 16;

        /// <summary>Lower bound of the TCP retransmission timeout (RFC 6298 says 1 s; Linux uses 200 ms).</summary>
        public Duration TcpMinRto = Duration.FromMilliseconds(200);

        /// <summary>Upper bound of the TCP retransmission timeout.</summary>
        public Duration TcpMaxRto = Duration.FromSeconds(60);

        /// <summary>Retransmission timeout before the first RTT sample (RFC 6298: 1 s).</summary>
        public Duration TcpInitialRto = Duration.FromSeconds(1);

        /// <summary>Longest an ACK is delayed.</summary>
        public Duration TcpDelayedAck = Duration.FromMilliseconds(40);

        /// <summary>Time spent in TIME_WAIT (2 MSL).</summary>
        public Duration TcpTimeWait = Duration.FromSeconds(30);

        /// <summary>Retransmissions of one segment (or SYN) before the connection is dropped with TimedOut.</summary>
        public int TcpMaxRetries = 12;

        /// <summary>Initial congestion window, segments (RFC 6928).</summary>
        public int TcpInitialWindowSegments = 10;

        /// <summary>Offer and accept SACK (RFC 2018) and D-SACK (RFC 2883).</summary>
        public bool TcpSack = true;

        /// <summary>Offer and accept the timestamps option (RFC 7323): RTT from every ACK, PAWS.</summary>
        public bool TcpTimestamps = true;

        /// <summary>Detect spurious retransmission timeouts with F-RTO (RFC 5682) and undo them.</summary>
        public bool TcpFrto = true;

        /// <summary>Congestion control of new connections (kernel command line <c>tcp_cc=cubic|newreno</c>).</summary>
        public TcpCongestionAlgorithm TcpCongestionControl = TcpCongestionAlgorithm.Cubic;

        /// <summary>
        /// Retransmissions (or unanswered zero-window probes) of a connection the application has closed, in
        /// FIN_WAIT_1, CLOSING or LAST_ACK, before it is dropped (Linux: tcp_orphan_retries 0 means 8).
        /// </summary>
        public int TcpOrphanRetries = 8;

        /// <summary>How long a closed connection waits in FIN_WAIT_2 for the peer's FIN (Linux tcp_fin_timeout: 60 s).</summary>
        public Duration TcpFinWait2Timeout = Duration.FromSeconds(60);

        /// <summary>Keepalive (when a socket turns it on): idle time before the first probe (Linux: 7200 s).</summary>
        public Duration TcpKeepAliveIdle = Duration.FromSeconds(7200);

        /// <summary>Keepalive: time between unanswered probes (Linux: 75 s).</summary>
        public Duration TcpKeepAliveInterval = Duration.FromSeconds(75);

        /// <summary>Keepalive: unanswered probes before the connection is reset (Linux: 9).</summary>
        public int TcpKeepAliveProbes = 9;

        /// <summary>Incomplete IPv4 datagrams reassembled at once; 0 drops every fragment (counted).</summary>
        public int IpReassemblySlots = 4;

        /// <summary>
        /// Leave TCP/UDP transmit checksums to the device when it offers that (<c>INetDevice.SupportsChecksumOffload</c>):
        /// the stack stores the pseudo-header sum and marks the packet <c>FlagNeedsChecksum</c>.
        /// </summary>
        public bool TransmitChecksumOffload = true;

        /// <summary>
        /// Let TCP send segments of up to 64 KiB for the device to cut into MSS-sized ones when it offers TSO
        /// (<c>INetDevice.MaxTsoBytes</c>); needs <see cref="TransmitChecksumOffload"/>.
        /// </summary>
        public bool TcpSegmentationOffload = true;

        /// <summary>Time an incomplete datagram waits for its missing fragments.</summary>
        public Duration IpReassemblyTimeout = Duration.FromSeconds(30);

        /// <summary>
        /// Run IPv6 beside IPv4 (Ipv6/*: link-local and SLAAC addresses, Neighbor Discovery, MLD, ICMPv6 echo).
        /// Off by default so that a stack made only for IPv4 sends nothing else; the kernel turns it on.
        /// </summary>
        public bool Ipv6Enabled;

        /// <summary>A static IPv6 address (kernel command line <c>ip6=ADDR/LEN</c>); :: for none (SLAAC only).</summary>
        public IPv6Address Ipv6Address;

        /// <summary>Prefix length of <see cref="Ipv6Address"/>: that prefix is on-link.</summary>
        public int Ipv6PrefixLength = 64;

        /// <summary>A static IPv6 default router (<c>gw6=ADDR</c>); :: for none (routers come from advertisements).</summary>
        public IPv6Address Ipv6Gateway;

        /// <summary>IPv6 addresses at once: link-local, static and SLAAC (RFC 4862).</summary>
        public int Ipv6MaxAddresses = 8;

        /// <summary>Neighbor cache entries (RFC 4861).</summary>
        public int Ipv6NeighborCacheSize = 32;

        /// <summary>Default routers kept from router advertisements; more are ignored (counted).</summary>
        public int Ipv6MaxRouters = 4;

        /// <summary>On-link prefixes kept from router advertisements; more are ignored (counted).</summary>
        public int Ipv6MaxPrefixes = 8;

        /// <summary>DNS servers kept from RDNSS options (RFC 8106 asks for at least 3).</summary>
        public int Ipv6MaxDnsServers = 3;

        /// <summary>Destinations a Redirect may point elsewhere at once.</summary>
        public int Ipv6MaxRedirects = 8;

        /// <summary>Neighbor Solicitations sent for Duplicate Address Detection (RFC 4862 DupAddrDetectTransmits); 0 skips DAD.</summary>
        public int Ipv6DadTransmits = 1;

        /// <summary>Incomplete IPv6 datagrams reassembled at once.</summary>
        public int Ipv6ReassemblySlots = 4;

        /// <summary>Fragments held by all incomplete IPv6 datagrams together (the memory bound under a fragment flood).</summary>
        public int Ipv6ReassemblyPackets = 96;

        /// <summary>Time an incomplete IPv6 datagram waits for its fragments (RFC 8200: 60 s).</summary>
        public int Ipv6ReassemblyTimeoutMilliseconds = 60000;

        /// <summary>Destinations whose IPv6 path MTU (from Packet Too Big, RFC 8201) is remembered at once.</summary>
        public int Ipv6PathMtuEntries = 16;

        /// <summary>How long a lowered IPv6 path MTU is kept before the link MTU is tried again (RFC 8201 section 4:
        /// 10 minutes recommended, 5 at least).</summary>
        public int Ipv6PathMtuAgeMilliseconds = 600000;

        /// <summary>Makes a configuration for <paramref name="address"/>/<paramref name="prefixLength"/> via <paramref name="gateway"/>.</summary>
        public static NetConfig Create(IPv4Address address, int prefixLength, IPv4Address gateway)
        {
            NetConfig config = new NetConfig();
            config.Address = address;
            config.PrefixLength = prefixLength;
            config.Gateway = gateway;
            return config;
        }
    }

    /// <summary>TCP congestion control algorithms (<see cref="NetConfig.TcpCongestionControl"/>).</summary>
    public enum TcpCongestionAlgorithm
    {
        /// <summary>CUBIC (RFC 9438) with HyStart++ (RFC 9406).</summary>
        Cubic,

        /// <summary>NewReno (RFC 5681, RFC 6582).</summary>
        NewReno,
    }
}
