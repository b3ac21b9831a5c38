using System;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Sockets;

namespace Keel.Net.Dns
{
    /// <summary>
    /// DNS stub resolver (RFC 1035) for kernel applications: A records, CNAME chains, UDP with retries over
    /// up to three servers, TCP when an answer comes back truncated (TC), and a small cache that honours TTLs.
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

        public const int MaxServers = 3;

        private readonly NetStack _stack;
        private readonly DnsQuery[] _queries;
        private readonly uint[] _servers = new uint[MaxServers];
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

        public IPv4Address Server(int index) => new IPv4Address(index >= 0 && index < _serverCount ? _servers[index] : 0);

        /// <summary>Forgets the servers (e.g. when a DHCP lease is lost).</summary>
        public void ClearServers() => _serverCount = 0;

        /// <summary>Adds a server (up to three; 0.0.0.0 and duplicates are ignored).</summary>
        public void AddServer(IPv4Address server)
        {
            if (server.Value == 0 || _serverCount == MaxServers)
            {
                return;
            }
            for (int i = 0; i < _serverCount; i++)
            {
                if (_servers[i] == server.Value)
                {
                    return;
                }
            }
            _servers[_serverCount++] = server.Value;
        }

        /// <summary>Starts looking up <paramref name="name"/>. Null when every query is in use.</summary>
        public DnsQuery Resolve(string name)
        {
            int length = name.Length < _text.Length ? name.Length : _text.Length;
            for (int i = 0; i < length; i++)
            {
                _text[i] = name[i];
            }
            return Start(name.Length > _text.Length ? -1 : length);
        }

        /// <summary>Starts looking up <paramref name="name"/> (e.g. a shell argument). Null when every query is in use.</summary>
        public DnsQuery Resolve(ReadOnlySpan<char> name)
        {
            int length = name.Length < _text.Length ? name.Length : _text.Length;
            for (int i = 0; i < length; i++)
            {
                _text[i] = name[i];
            }
            return Start(name.Length > _text.Length ? -1 : length);
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

        private DnsQuery Start(int length)
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
            q.Address = IPv4Address.Any;
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
                q.Address = new IPv4Address(literal);
                q.FromCache = true;
                q.Status = DnsStatus.Success;
                return q;
            }
            if (q.AskedLength == 0)
            {
                q.Status = DnsStatus.BadName;
                return q;
            }
            Instant now = Instant.Now(_stack.Clock);
            uint cached;
            Instant expiry;
            if (_cache.Lookup(q.Asked, q.AskedLength, now, out cached, out expiry))
            {
                Counters[DnsStatistics.CacheHits]++;
                q.Address = new IPv4Address(cached);
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
            s.Bind(new IPEndPoint(IPv4Address.Any, 0));
            q.Udp = s;
            q.Id = (int)(_stack.Random.NextUInt() & 0xFFFF);
            fixed (byte* buffer = q.Buffer)
            fixed (byte* name = q.Name)
            {
                int length = DnsMessage.BuildQuery(buffer, q.Id, name, q.NameLength);
                SocketError error;
                s.SendTo(new ReadOnlySpan<byte>(buffer, length), new IPEndPoint(CurrentServer(q), DnsMessage.Port), out error);
                Counters[DnsStatistics.UdpSent]++;
                if (error != SocketError.Success)
                {
                    Counters[DnsStatistics.SendFailures]++; // the timeout retries
                }
            }
        }

        /// <summary>The server this attempt asks (0.0.0.0 when the servers were cleared meanwhile).</summary>
        private IPv4Address CurrentServer(DnsQuery q) => new IPv4Address(_serverCount == 0 ? 0 : _servers[q.Server % _serverCount]);

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
