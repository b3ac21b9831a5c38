using System;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Sockets;

namespace Keel.Net.Dns
{
    /// <summary>
    /// DNS stub resolver (RFC 1035) for kernel applications: A records and AAAA records (RFC 3596), CNAME
    /// chains, UDP with retries over up to <see cref="MaxServers"/> servers of either family (IPv4 ones from DHCP
    /// or <c>dns=</c>, IPv6 ones from RDNSS), TCP when an answer comes back truncated (TC), and a small cache that
    /// honours TTLs.
    /// Non-blocking like the sockets: <see cref="Resolve(string)"/> hands out a <see cref="DnsQuery"/> from a
    /// fixed set and returns at once; <see cref="Poll"/> (main loop) moves queries on. Each attempt uses a fresh
    /// UDP socket on a random ephemeral port and a random id; answers from elsewhere or not matching the
    /// question are counted and dropped. Everything is allocated in the constructor.
    /// </summary>
    public sealed unsafe partial class DnsResolver : IStatisticsSource
    {

        /// <summary>First UDP timeout; doubled on each retry.</summary>
        public static Duration InitialTimeout => Duration.FromSeconds(1);

        /// <summary>UDP sends per query (rotating over the servers) before TimedOut.</summary>
        public const int MaxAttempts = 4;

        /// <summary>Time allowed for a TCP exchange after a truncated reply.</summary>
        public static Duration TcpTimeout => Duration.FromSeconds(5);

        /// <summary>CNAME records followed, in one answer and across queries.</summary>
        public const int MaxCnameChain = 8;

        /// <summary>Longest time an answer is cached, whatever its TTL.</summary>
        public const uint MaxCacheSeconds = 86400;

        /// <summary>
        /// Largest answer taken over TCP (ample for A records). With its 2-byte length prefix the query's buffer is
        /// a 2032-byte array, which the kernel heap serves from its 2048-byte size class instead of whole pages.
        /// </summary>
        public const int TcpBufferSize = 2030;

        public const int MaxServers = 4;

        private readonly NetStack _stack;
        private readonly DnsQuery[] _queries;
        private readonly IPAddress[] _servers = new IPAddress[MaxServers];
        private int _serverCount;
        private readonly DnsCache _cache;
        private readonly char[] _text = new char[DnsMessage.MaxNameLength + 2];
        private readonly byte[] _owner = new byte[DnsMessage.MaxNameLength];
        private readonly byte[] _scratch = new byte[DnsMessage.MaxNameLength];

        /// <summary>Counter values, indexed by the <see cref="DnsStatistics"/> constants.</summary>
        public readonly long[] Counters = new long[DnsStatistics.Count];

        public int StatisticsCount => DnsStatistics.Count;

        public string StatisticName(int index) => DnsStatistics.Name(index);

        public long StatisticValue(int index) => index >= 0 && index < DnsStatistics.Count ? Counters[index] : 0;

        public StatisticKind StatisticKind(int index) => Keel.Hal.StatisticKind.Counter;

        public string StatisticHelp(int index) => DnsStatistics.Help(index);

        public DnsResolver(NetStack stack, int maxQueries = 4, int cacheEntries = 16)
        {
            _stack = stack;
            _queries = new DnsQuery[maxQueries];
            for (int i = 0; i < maxQueries; i++)
            {
                _queries[i] = new DnsQuery(TcpBufferSize + 2);
            }
            _cache = new DnsCache(cacheEntries);
        }

        public int ServerCount => _serverCount;

        /// <summary>Server <paramref name="index"/> (0.0.0.0 when there is no such server).</summary>
        public IPAddress Server(int index) => index >= 0 && index < _serverCount ? _servers[index] : IPAddress.Any;

        /// <summary>Forgets the servers (e.g. when a DHCP lease is lost).</summary>
        public void ClearServers() => _serverCount = 0;

        /// <summary>
        /// Adds a server, IPv4 or IPv6, asked in the order added (up to <see cref="MaxServers"/>; the unspecified
        /// address, multicast and broadcast addresses and duplicates are ignored).
        /// </summary>
        public void AddServer(IPAddress server)
        {
            if (server.IsAny || _serverCount == MaxServers)
            {
                return;
            }
            if (server.IsIPv6 ? server.V6.IsMulticast : (server.V4.Value >> 28) == 0xE || server.V4.Value == 0xFFFFFFFF)
            {
                return;
            }
            for (int i = 0; i < _serverCount; i++)
            {
                if (_servers[i] == server)
                {
                    return;
                }
            }
            _servers[_serverCount++] = server;
        }

        /// <summary>
        /// Starts looking up the addresses of <paramref name="family"/> (A records for IPv4, AAAA records for IPv6)
        /// of <paramref name="name"/>. Null when every query is in use.
        /// </summary>
        public DnsQuery Resolve(string name, AddressFamily family = AddressFamily.InterNetwork)
        {
            int length = name.Length < _text.Length ? name.Length : _text.Length;
            for (int i = 0; i < length; i++)
            {
                _text[i] = name[i];
            }
            return Start(name.Length > _text.Length ? -1 : length, family);
        }

        /// <summary>
        /// Starts looking up the addresses of <paramref name="family"/> of <paramref name="name"/> (e.g. a shell
        /// argument). Null when every query is in use.
        /// </summary>
        public DnsQuery Resolve(ReadOnlySpan<char> name, AddressFamily family = AddressFamily.InterNetwork)
        {
            int length = name.Length < _text.Length ? name.Length : _text.Length;
            for (int i = 0; i < length; i++)
            {
                _text[i] = name[i];
            }
            return Start(name.Length > _text.Length ? -1 : length, family);
        }

        /// <summary>Earliest time <see cref="Poll"/> has timer work.</summary>
        public Instant NextWake
        {
            get
            {
                Instant next = Instant.MaxValue;
                for (int i = 0; i < _queries.Length; i++)
                {
                    DnsQuery q = _queries[i];
                    if (q.InUse && q.Status == DnsStatus.InProgress && q.Deadline < next)
                    {
                        next = q.Deadline;
                    }
                }
                return next;
            }
        }

        /// <summary>Queries not in use.</summary>
        public int FreeQueries
        {
            get
            {
                int n = 0;
                for (int i = 0; i < _queries.Length; i++)
                {
                    if (!_queries[i].InUse)
                    {
                        n++;
                    }
                }
                return n;
            }
        }

        private DnsQuery Start(int length, AddressFamily family)
        {
            DnsQuery q = null;
            for (int i = 0; i < _queries.Length; i++)
            {
                if (!_queries[i].InUse)
                {
                    q = _queries[i];
                    break;
                }
            }
            if (q == null)
            {
                Counters[DnsStatistics.NoQuerySlot]++;
                return null;
            }
            q.InUse = true;
            q.Owner = this;
            q.Notified = false;
            q.Handler = null;
            q.UserData = null;
            q.Status = DnsStatus.InProgress;
            q.Family = family;
            q.Address = IPAddress.Any;
            q.TimeToLive = 0;
            q.CnameCount = 0;
            q.FromCache = false;
            q.UsedTcp = false;
            q.MinTtl = uint.MaxValue;
            Counters[DnsStatistics.Queries]++;
            fixed (byte* asked = q.Asked)
            {
                q.AskedLength = length < 0 ? 0 : DnsMessage.EncodeName(_text, length, asked);
            }
            uint literal;
            if (length >= 0 && TryParseAddress(_text, length, out literal))
            {
                // A dotted IPv4 address is its own A record, and has no AAAA record.
                q.FromCache = true;
                q.Status = DnsStatus.NoData;
                if (family == AddressFamily.InterNetwork)
                {
                    q.Address = new IPv4Address(literal);
                    q.Status = DnsStatus.Success;
                }
                return q;
            }
            if (q.AskedLength == 0)
            {
                q.Status = DnsStatus.BadName;
                return q;
            }
            Instant now = Instant.Now(_stack.Clock);
            IPAddress cached;
            Instant expiry;
            if (_cache.Lookup(q.Asked, q.AskedLength, family, now, out cached, out expiry))
            {
                Counters[DnsStatistics.CacheHits]++;
                q.Address = cached;
                q.TimeToLive = (uint)(expiry - now).Seconds;
                q.FromCache = true;
                q.Status = DnsStatus.Success;
                return q;
            }
            if (_serverCount == 0)
            {
                q.Status = DnsStatus.NoServers;
                return q;
            }
            for (int i = 0; i < q.AskedLength; i++)
            {
                q.Name[i] = q.Asked[i];
            }
            q.NameLength = q.AskedLength;
            q.Server = 0;
            q.Attempts = 0;
            q.Timeout = InitialTimeout;
            SendUdp(q, now);
            return q;
        }

        internal void ReleaseQuery(DnsQuery q)
        {
            if (!q.InUse)
            {
                return;
            }
            CloseSockets(q);
            q.InUse = false;
            q.Handler = null;
            q.UserData = null;
        }

        /// <summary>Reads answers, runs timeouts and TCP exchanges, and calls the handlers of finished queries.</summary>
        public void Poll()
        {
            Instant now = Instant.Now(_stack.Clock);
            for (int i = 0; i < _queries.Length; i++)
            {
                DnsQuery q = _queries[i];
                if (!q.InUse)
                {
                    continue;
                }
                if (q.Status == DnsStatus.InProgress)
                {
                    if (q.Tcp != null)
                    {
                        PollTcp(q, now);
                    }
                    else if (q.Udp != null)
                    {
                        ReceiveUdp(q, now);
                    }
                    if (q.Status == DnsStatus.InProgress && now >= q.Deadline)
                    {
                        OnTimeout(q, now);
                    }
                }
                if (q.Status != DnsStatus.InProgress && !q.Notified)
                {
                    q.Notified = true;
                    if (q.Handler != null)
                    {
                        q.Handler.OnDnsResult(q);
                    }
                }
            }
        }

        private void OnTimeout(DnsQuery q, Instant now)
        {
            if (q.Tcp != null)
            {
                Counters[DnsStatistics.TcpFailures]++;
                CloseSockets(q);
            }
            else
            {
                Counters[DnsStatistics.Timeouts]++;
            }
            if (q.Attempts >= MaxAttempts)
            {
                Finish(q, DnsStatus.TimedOut);
                return;
            }
            Counters[DnsStatistics.Retransmissions]++;
            q.Server++;
            SendUdp(q, now);
        }

        private void SendUdp(DnsQuery q, Instant now)
        {
            CloseSockets(q);
            if (_serverCount == 0)
            {
                Finish(q, DnsStatus.NoServers); // the lease that named them is gone
                return;
            }
            q.Attempts++;
            q.Deadline = now + q.Timeout;
            q.Timeout = q.Timeout * 2;
            Socket s = _stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            if (s == null)
            {
                Finish(q, DnsStatus.NoResources);
                return;
            }
            IPAddress server = CurrentServer(q);
            if (s.Bind(new IPEndPoint(server.IsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, 0)) != SocketError.Success)
            {
                // No socket of the server's family (a stack without IPv6 transport): the timeout moves on to the next server.
                s.Close();
                Counters[DnsStatistics.UdpSent]++;
                Counters[DnsStatistics.SendFailures]++;
                return;
            }
            q.Udp = s;
            q.Id = (int)(_stack.Random.NextUInt() & 0xFFFF);
            fixed (byte* buffer = q.Buffer)
            fixed (byte* name = q.Name)
            {
                int length = DnsMessage.BuildQuery(buffer, q.Id, name, q.NameLength, DnsMessage.AddressType(q.Family));
                SocketError error;
                s.SendTo(new ReadOnlySpan<byte>(buffer, length), new IPEndPoint(server, DnsMessage.Port), out error);
                Counters[DnsStatistics.UdpSent]++;
                if (error != SocketError.Success)
                {
                    Counters[DnsStatistics.SendFailures]++; // the timeout retries
                }
            }
        }

        /// <summary>The server this attempt asks (0.0.0.0 when the servers were cleared meanwhile).</summary>
        private IPAddress CurrentServer(DnsQuery q) => _serverCount == 0 ? IPAddress.Any : _servers[q.Server % _serverCount];

        private void ReceiveUdp(DnsQuery q, Instant now)
        {
            for (int budget = 0; budget < 8 && q.Udp != null && q.Status == DnsStatus.InProgress; budget++)
            {
                IPEndPoint from;
                SocketError error;
                int length;
                fixed (byte* buffer = q.Buffer)
                {
                    length = q.Udp.ReceiveFrom(new Span<byte>(buffer, DnsMessage.MaxUdpLength), out from, out error);
                    if (error == SocketError.WouldBlock)
                    {
                        return;
                    }
                    if (error == SocketError.MessageSize)
                    {
                        Counters[DnsStatistics.Oversized]++; // over 512 bytes without EDNS: not a valid UDP answer
                        continue;
                    }
                    if (error != SocketError.Success)
                    {
                        return;
                    }
                    if (from.Address != CurrentServer(q) || from.Port != DnsMessage.Port)
                    {
                        Counters[DnsStatistics.WrongSource]++;
                        continue;
                    }
                    HandleAnswer(q, buffer, length, false, now);
                }
            }
        }

        private void CloseSockets(DnsQuery q)
        {
            if (q.Udp != null)
            {
                q.Udp.Close();
                q.Udp = null;
            }
            if (q.Tcp != null)
            {
                q.Tcp.Close();
                q.Tcp = null;
            }
        }

        private void Finish(DnsQuery q, DnsStatus status)
        {
            CloseSockets(q);
            q.Status = status;
            Counters[status == DnsStatus.Success ? DnsStatistics.Answers : DnsStatistics.Failures]++;
        }

        /// <summary>Cached names still valid.</summary>
        public int CacheCount => _cache.Count(Instant.Now(_stack.Clock));

        /// <summary>Empties the cache.</summary>
        public void FlushCache() => _cache.Flush();

        private static bool TryParseAddress(char[] text, int length, out uint address)
        {
            address = 0;
            int octets = 0;
            int value = -1;
            for (int i = 0; i <= length; i++)
            {
                if (i == length || text[i] == '.')
                {
                    if (value < 0 || value > 255)
                    {
                        return false;
                    }
                    address = (address << 8) | (uint)value;
                    octets++;
                    value = -1;
                    continue;
                }
                char c = text[i];
                if (c < '0' || c > '9')
                {
                    return false;
                }
                value = value < 0 ? c - '0' : value * 10 + (c - '0');
                if (value > 255)
                {
                    return false;
                }
            }
            return octets == 4;
        }

        /// <summary>Servers, cache size and counters (the <c>net</c> command).</summary>
        public void PrintStatus(Keel.Hal.ITextOutput output)
        {
            output.Write("dns: servers");
            if (_serverCount == 0)
            {
                output.Write(" none");
            }
            for (int i = 0; i < _serverCount; i++)
            {
                output.Write(' ');
                Server(i).WriteTo(output);
            }
            output.Write(", cache ");
            output.Write((long)_cache.Count(Instant.Now(_stack.Clock)));
            output.Write(" of ");
            output.Write((long)_cache.Capacity);
            for (int i = 0; i < DnsStatistics.Count; i++)
            {
                if (Counters[i] != 0)
                {
                    output.Write(' ');
                    output.Write(DnsStatistics.Name(i));
                    output.Write(' ');
                    output.Write(Counters[i]);
                }
            }
            output.WriteLine();
        }
    }
}
