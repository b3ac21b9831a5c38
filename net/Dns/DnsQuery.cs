using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Dns
{
    /// <summary>Outcome of a <see cref="DnsQuery"/>.</summary>
    public enum DnsStatus
    {
        /// <summary>Still waiting for an answer: look again after the next <see cref="DnsResolver.Poll"/>.</summary>
        InProgress,
        /// <summary><see cref="DnsQuery.Address"/> holds the answer.</summary>
        Success,
        /// <summary>The name does not exist (NXDOMAIN, RCODE 3).</summary>
        NameError,
        /// <summary>The name exists but has no address record of the family asked for (A or AAAA).</summary>
        NoData,
        /// <summary>Every server failed or refused (RCODE 2, 5, …).</summary>
        ServerFailure,
        /// <summary>No answer after every retry.</summary>
        TimedOut,
        /// <summary>No DNS server is known (no DHCP lease with option 6, no RDNSS, no <c>dns=</c>).</summary>
        NoServers,
        /// <summary>Not a valid host name.</summary>
        BadName,
        /// <summary>A CNAME chain longer than <see cref="DnsResolver.MaxCnameChain"/> (or a loop).</summary>
        ChainTooLong,
        /// <summary>No socket or packet was available to send the query.</summary>
        NoResources,
    }

    /// <summary>Called by <see cref="DnsResolver.Poll"/> when a query finishes (not from inside <c>Resolve</c>).</summary>
    public interface IDnsHandler
    {
        void OnDnsResult(DnsQuery query);
    }

    /// <summary>
    /// One name lookup, from the resolver's fixed set (like a socket). Read <see cref="Status"/> until it is not
    /// InProgress (or set <see cref="Handler"/>), then call <see cref="Release"/>; drop the reference after that.
    /// </summary>
    public sealed class DnsQuery
    {
        internal readonly byte[] Name = new byte[DnsMessage.MaxNameLength];
        internal readonly byte[] Asked = new byte[DnsMessage.MaxNameLength];
        internal readonly byte[] Buffer;
        internal int NameLength;
        internal int AskedLength;
        internal bool InUse;
        internal bool Notified;
        internal Socket Udp;
        internal Socket Tcp;
        internal bool TcpSent;
        internal int TcpReceived;
        internal int Id;
        internal int Server;
        internal int Attempts;
        internal Duration Timeout;
        internal Instant Deadline;
        internal uint MinTtl;

        internal DnsQuery(int bufferSize)
        {
            Buffer = new byte[bufferSize];
        }

        public DnsStatus Status { get; internal set; }

        /// <summary>
        /// The family asked for: <see cref="AddressFamily.InterNetwork"/> asks for A records,
        /// <see cref="AddressFamily.InterNetworkV6"/> for AAAA records (RFC 3596).
        /// </summary>
        public AddressFamily Family { get; internal set; }

        /// <summary>The answer, of <see cref="Family"/> (when <see cref="Status"/> is Success).</summary>
        public IPAddress Address { get; internal set; }

        /// <summary>Seconds the answer may be cached (smallest TTL along the CNAME chain).</summary>
        public uint TimeToLive { get; internal set; }

        /// <summary>CNAME records followed to reach the answer.</summary>
        public int CnameCount { get; internal set; }

        /// <summary>True when the answer came from the cache (or the name was an address).</summary>
        public bool FromCache { get; internal set; }

        /// <summary>True when the answer came over TCP after a truncated UDP reply.</summary>
        public bool UsedTcp { get; internal set; }

        /// <summary>Called when the query finishes (optional).</summary>
        public IDnsHandler Handler;

        /// <summary>Free for the application.</summary>
        public object UserData;

        internal DnsResolver Owner;

        /// <summary>Gives the query back to the resolver (cancels it if still running).</summary>
        public void Release()
        {
            if (Owner != null)
            {
                Owner.ReleaseQuery(this);
            }
        }

        /// <summary>Writes the name that was asked for.</summary>
        public unsafe void WriteName(Keel.Hal.ITextOutput output)
        {
            fixed (byte* n = Asked)
            {
                DnsMessage.WriteName(output, n, AskedLength);
            }
        }

        /// <summary>A few words for <paramref name="status"/> (NoData names the record type of <paramref name="family"/>).</summary>
        public static string StatusName(DnsStatus status, AddressFamily family = AddressFamily.InterNetwork)
        {
            switch (status)
            {
                case DnsStatus.InProgress: return "in progress";
                case DnsStatus.Success: return "ok";
                case DnsStatus.NameError: return "name does not exist";
                case DnsStatus.NoData: return family == AddressFamily.InterNetworkV6 ? "no AAAA record" : "no A record";
                case DnsStatus.ServerFailure: return "server failure";
                case DnsStatus.TimedOut: return "timed out";
                case DnsStatus.NoServers: return "no DNS server";
                case DnsStatus.BadName: return "bad name";
                case DnsStatus.ChainTooLong: return "CNAME chain too long";
                default: return "no resources";
            }
        }
    }
}
