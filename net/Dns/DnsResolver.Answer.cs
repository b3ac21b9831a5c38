using System;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Sockets;

namespace Keel.Net.Dns
{
    /// <summary>The resolver's answer checks and CNAME following, and the TCP exchange after a truncated reply.</summary>
    public sealed unsafe partial class DnsResolver
    {
        private void StartTcp(DnsQuery q, Instant now)
        {
            Counters[DnsStatistics.Truncated]++;
            CloseSockets(q);
            Socket s = _stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            if (s == null)
            {
                Finish(q, DnsStatus.NoResources);
                return;
            }
            s.NoDelay = true;
            SocketError error = s.Connect(new IPEndPoint(CurrentServer(q), DnsMessage.Port));
            if (error != SocketError.InProgress && error != SocketError.Success)
            {
                s.Abort();
                Finish(q, DnsStatus.NoResources);
                return;
            }
            q.Tcp = s;
            q.TcpSent = false;
            q.TcpReceived = 0;
            q.UsedTcp = true;
            q.Deadline = now + TcpTimeout;
        }

        private void PollTcp(DnsQuery q, Instant now)
        {
            Socket s = q.Tcp;
            if (s.Poll(SelectMode.SelectError))
            {
                q.Deadline = now; // connection refused or reset: the timeout path moves to the next server
                return;
            }
            SocketError error;
            fixed (byte* buffer = q.Buffer)
            fixed (byte* name = q.Name)
            {
                if (!q.TcpSent)
                {
                    if (!s.Poll(SelectMode.SelectWrite))
                    {
                        return;
                    }
                    // RFC 1035 4.2.2: the message is preceded by its length in two bytes.
                    int length = DnsMessage.BuildQuery(buffer + 2, q.Id, name, q.NameLength, DnsMessage.AddressType(q.Family));
                    NetBytes.Write16(buffer, length);
                    int sent = s.Send(new ReadOnlySpan<byte>(buffer, length + 2), out error);
                    if (sent != length + 2)
                    {
                        q.Deadline = now;
                        return;
                    }
                    q.TcpSent = true;
                    Counters[DnsStatistics.TcpSent]++;
                }
                while (true)
                {
                    int n = s.Receive(new Span<byte>(buffer + q.TcpReceived, q.Buffer.Length - q.TcpReceived), out error);
                    if (n <= 0)
                    {
                        if (error == SocketError.Success || (error != SocketError.WouldBlock))
                        {
                            q.Deadline = now; // closed before the whole answer came
                        }
                        return;
                    }
                    q.TcpReceived += n;
                    if (q.TcpReceived >= 2)
                    {
                        int expected = NetBytes.Read16(buffer);
                        if (expected + 2 > q.Buffer.Length)
                        {
                            Counters[DnsStatistics.Oversized]++;
                            q.Deadline = now;
                            return;
                        }
                        if (q.TcpReceived >= expected + 2)
                        {
                            HandleAnswer(q, buffer + 2, expected, true, now);
                            if (q.Status == DnsStatus.InProgress && q.Tcp != null)
                            {
                                q.Deadline = now; // a bad answer over TCP: next server
                            }
                            return;
                        }
                    }
                    if (q.TcpReceived == q.Buffer.Length)
                    {
                        return;
                    }
                }
            }
        }

        /// <summary>Checks an answer against the query and acts on it; a bad one is counted and dropped.</summary>
        private void HandleAnswer(DnsQuery q, byte* m, int length, bool tcp, Instant now)
        {
            if (length < DnsMessage.HeaderLength)
            {
                Counters[DnsStatistics.Malformed]++;
                return;
            }
            int flags = NetBytes.Read16(m + 2);
            if (NetBytes.Read16(m) != q.Id || (flags & DnsMessage.FlagResponse) == 0 || (flags & DnsMessage.OpcodeMask) != 0)
            {
                Counters[DnsStatistics.WrongId]++;
                return;
            }
            if (NetBytes.Read16(m + 4) != 1)
            {
                Counters[DnsStatistics.Malformed]++;
                return;
            }
            int next;
            fixed (byte* owner = _owner)
            fixed (byte* name = q.Name)
            {
                int qLength = DnsMessage.ReadName(m, length, DnsMessage.HeaderLength, owner, out next);
                if (qLength == 0 || next + 4 > length || !DnsMessage.NameEquals(owner, qLength, name, q.NameLength) ||
                    NetBytes.Read16(m + next) != DnsMessage.AddressType(q.Family) || NetBytes.Read16(m + next + 2) != DnsMessage.ClassIn)
                {
                    Counters[DnsStatistics.WrongQuestion]++;
                    return;
                }
            }
            if ((flags & DnsMessage.FlagTruncated) != 0)
            {
                if (!tcp)
                {
                    StartTcp(q, now);
                }
                else
                {
                    Counters[DnsStatistics.Malformed]++;
                }
                return;
            }
            int rcode = flags & DnsMessage.RcodeMask;
            if (rcode == DnsMessage.RcodeNameError)
            {
                Finish(q, DnsStatus.NameError);
                return;
            }
            if (rcode != DnsMessage.RcodeNoError)
            {
                Counters[DnsStatistics.ServerErrors]++;
                if (q.Attempts >= MaxAttempts)
                {
                    Finish(q, DnsStatus.ServerFailure);
                }
                else
                {
                    q.Server++;
                    SendUdp(q, now);
                }
                return;
            }
            FollowAnswers(q, m, length, next + 4, NetBytes.Read16(m + 6), now);
        }

        /// <summary>
        /// Follows CNAMEs from the question name through the answer section, then takes its address record of the
        /// family asked for (A or AAAA); records of the other type are not answers to this question and are skipped.
        /// </summary>
        private static IPAddress ReadAddress(byte* data, AddressFamily family) =>
            family == AddressFamily.InterNetworkV6 ? new IPAddress(IPv6Address.Read(new ReadOnlySpan<byte>(data, 16)))
                                                   : new IPAddress(new IPv4Address(NetBytes.Read32(data)));

        /// <summary>
        /// False for an address no host can be reached at: IPv4's "this network" 0.0.0.0/8 (RFC 1122 3.2.1.3) and the
        /// limited broadcast, IPv6's unspecified address and multicast (RFC 4291 2.5.2, 2.7). 0.0.0.0 and :: are
        /// also what an unresolved query holds; a sinkhole's "blocked" answer is one of them.
        /// </summary>
        private static bool Usable(IPAddress address)
        {
            if (address.IsIPv6)
            {
                return !address.IsAny && !address.V6.IsMulticast;
            }
            uint v4 = address.V4.Value;
            return (v4 >> 24) != 0 && v4 != 0xFFFFFFFF;
        }

        private void FollowAnswers(DnsQuery q, byte* m, int length, int answers, int count, Instant now)
        {
            fixed (byte* owner = _owner)
            fixed (byte* scratch = _scratch)
            fixed (byte* name = q.Name)
            {
                // The whole answer section must be well formed before any of it is used.
                int sectionEnd = answers;
                for (int r = 0; r < count; r++)
                {
                    int ownerLength, type, cls, dataOffset, dataLength;
                    uint ttl;
                    if (!DnsMessage.ReadRecord(m, length, sectionEnd, owner, out ownerLength, out type, out cls, out ttl, out dataOffset, out dataLength))
                    {
                        Counters[DnsStatistics.Malformed]++;
                        return; // dropped: wait for a good answer (or the timeout)
                    }
                    sectionEnd = dataOffset + dataLength;
                }
                for (int hop = 0; hop <= MaxCnameChain; hop++)
                {
                    int offset = answers;
                    bool moved = false;
                    for (int r = 0; r < count; r++)
                    {
                        int ownerLength, type, cls, dataOffset, dataLength;
                        uint ttl;
                        if (!DnsMessage.ReadRecord(m, length, offset, owner, out ownerLength, out type, out cls, out ttl, out dataOffset, out dataLength))
                        {
                            Counters[DnsStatistics.Malformed]++;
                            return; // dropped: wait for a good answer (or the timeout)
                        }
                        offset = dataOffset + dataLength;
                        if (cls != DnsMessage.ClassIn || !DnsMessage.NameEquals(owner, ownerLength, name, q.NameLength))
                        {
                            continue;
                        }
                        if (type == DnsMessage.AddressType(q.Family))
                        {
                            if (dataLength != DnsMessage.AddressLength(q.Family))
                            {
                                Counters[DnsStatistics.Malformed]++;
                                return;
                            }
                            IPAddress address = ReadAddress(m + dataOffset, q.Family);
                            if (!Usable(address))
                            {
                                Counters[DnsStatistics.UnusableAddress]++;
                                continue;
                            }
                            q.MinTtl = ttl < q.MinTtl ? ttl : q.MinTtl;
                            q.Address = address;
                            q.TimeToLive = q.MinTtl;
                            _cache.Store(q.Asked, q.AskedLength, address, q.MinTtl, now);
                            Finish(q, DnsStatus.Success);
                            return;
                        }
                        if (type == DnsMessage.TypeCname)
                        {
                            int end;
                            int targetLength = DnsMessage.ReadName(m, length, dataOffset, scratch, out end);
                            if (targetLength == 0 || end > dataOffset + dataLength)
                            {
                                Counters[DnsStatistics.Malformed]++;
                                return;
                            }
                            if (++q.CnameCount > MaxCnameChain)
                            {
                                Finish(q, DnsStatus.ChainTooLong);
                                return;
                            }
                            q.MinTtl = ttl < q.MinTtl ? ttl : q.MinTtl;
                            NetBytes.Copy(scratch, name, targetLength);
                            q.NameLength = targetLength;
                            moved = true;
                            break;
                        }
                    }
                    if (!moved)
                    {
                        break;
                    }
                }
                if (q.CnameCount == 0)
                {
                    Finish(q, DnsStatus.NoData);
                    return;
                }
                // The chain leaves this answer without an A record: ask for the last name (RFC 1034 5.3.3).
                q.Attempts = 0;
                q.Server = 0;
                q.Timeout = InitialTimeout;
                Counters[DnsStatistics.CnameRequeries]++;
                SendUdp(q, now);
            }
        }

    }
}
