using System;
using System.Collections.Generic;
using System.Text;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// An authoritative-style DNS server (RFC 1035 section 4) on a test stack's port 53, UDP and TCP, written
    /// from the RFC's message format (it shares no code with the resolver). Answers A queries from
    /// <see cref="Zone"/> and AAAA queries (RFC 3596) from <see cref="Zone6"/>, following CNAMEs into the answer
    /// section, and can lose, truncate or replace replies.
    /// </summary>
    public sealed class FakeDnsServer
    {
        public readonly NetStack Stack;
        private readonly Socket _udp;
        private readonly Socket _listener;
        private readonly List<Socket> _connections = new List<Socket>();

        /// <summary>name → ("A", "1.2.3.4", ttl) or ("CNAME", "target", ttl); names lower case, no final dot.</summary>
        public readonly Dictionary<string, (string Type, string Value, uint Ttl)> Zone = new Dictionary<string, (string, string, uint)>();

        /// <summary>name → (IPv6 address text, ttl): the AAAA records (a name may also have an A record in <see cref="Zone"/>).</summary>
        public readonly Dictionary<string, (string Address, uint Ttl)> Zone6 = new Dictionary<string, (string, uint)>();

        /// <summary>False when the stack refused the UDP or TCP socket's address (a family it does not carry).</summary>
        public readonly bool Bound;

        /// <summary>UDP replies to lose before answering.</summary>
        public int DropReplies;

        /// <summary>Over UDP, answer with TC set and no records (the full answer is only over TCP).</summary>
        public bool TruncateUdp;

        /// <summary>Put only the first CNAME in the answer (a server that does not chase the chain).</summary>
        public bool CnameOnly;

        /// <summary>RCODE to answer with (0 = from the zone: NXDOMAIN for unknown names).</summary>
        public int ForceRcode = -1;

        /// <summary>Replaces the next UDP answers (each used once, in order) with the given bytes built from the good answer.</summary>
        public readonly Queue<Func<byte[], byte[]>> Tamper = new Queue<Func<byte[], byte[]>>();

        public int UdpQueries;
        public int TcpQueries;
        public readonly List<long> QueryTimes = new List<long>();
        public byte[] LastQuery;

        /// <param name="stack">the stack the server runs on</param>
        /// <param name="any">the address to listen on: IPv4's 0.0.0.0 (default) or IPv6's ::</param>
        public FakeDnsServer(NetStack stack, IPAddress any = default)
        {
            Stack = stack;
            _udp = stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            _listener = stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Bound = _udp.Bind(new IPEndPoint(any, 53)) == SocketError.Success &&
                    _listener.Bind(new IPEndPoint(any, 53)) == SocketError.Success &&
                    _listener.Listen(4) == SocketError.Success;
        }

        public void Poll()
        {
            byte[] buffer = new byte[2048];
            while (true)
            {
                int n = _udp.ReceiveFrom(buffer, out IPEndPoint from, out SocketError error);
                if (error != SocketError.Success)
                {
                    break;
                }
                UdpQueries++;
                QueryTimes.Add(Stack.Clock.NowNanoseconds);
                LastQuery = buffer.AsSpan(0, n).ToArray();
                if (DropReplies > 0)
                {
                    DropReplies--;
                    continue;
                }
                byte[] answer = Answer(LastQuery, TruncateUdp);
                if (Tamper.Count > 0)
                {
                    answer = Tamper.Dequeue()(answer);
                }
                _udp.SendTo(answer, from, out _);
            }
            while (_listener.Accept(out Socket client) == SocketError.Success)
            {
                _connections.Add(client);
            }
            foreach (Socket c in _connections.ToArray())
            {
                if (c.Available < 2)
                {
                    continue;
                }
                byte[] query = new byte[c.Available];
                int n = c.Receive(query, out _);
                int length = query[0] << 8 | query[1];
                if (n < length + 2)
                {
                    continue;
                }
                TcpQueries++;
                byte[] answer = Answer(query.AsSpan(2, length).ToArray(), false);
                byte[] framed = new byte[answer.Length + 2];
                framed[0] = (byte)(answer.Length >> 8);
                framed[1] = (byte)answer.Length;
                answer.CopyTo(framed, 2);
                c.Send(framed, out _);
                c.Shutdown(SocketShutdown.Send);
                c.Close();
                _connections.Remove(c);
            }
        }

        /// <summary>The answer to <paramref name="query"/>: header, the question, then CNAME/A records.</summary>
        public byte[] Answer(byte[] query, bool truncated)
        {
            int offset = 12;
            string name = ReadName(query, ref offset);
            int questionType = query[offset] << 8 | query[offset + 1];
            int questionEnd = offset + 4;
            List<byte> m = new List<byte>();
            m.AddRange(query.AsSpan(0, 2).ToArray());
            List<byte[]> records = new List<byte[]>();
            int rcode = 0;
            if (!truncated)
            {
                string current = name;
                for (int hops = 0; hops < 20; hops++)
                {
                    bool named = Zone.TryGetValue(current, out var entry);
                    bool named6 = Zone6.TryGetValue(current, out var entry6);
                    if (!named && !named6)
                    {
                        if (hops == 0)
                        {
                            rcode = 3;
                        }
                        break;
                    }
                    if (!named || entry.Type != "CNAME")
                    {
                        // The records of the type asked for (none: an empty NOERROR answer, "no data").
                        if (questionType == 1 && named && entry.Type == "A")
                        {
                            byte[] address = Array.ConvertAll(entry.Value.Split('.'), byte.Parse);
                            records.Add(Record(current == name ? null : current, 1, entry.Ttl, address));
                        }
                        if (questionType == 28 && named6)
                        {
                            byte[] address = System.Net.IPAddress.Parse(entry6.Address).GetAddressBytes();
                            records.Add(Record(current == name ? null : current, 28, entry6.Ttl, address));
                        }
                        break;
                    }
                    records.Add(Record(current == name ? null : current, 5, entry.Ttl, EncodeName(entry.Value)));
                    current = entry.Value;
                    if (CnameOnly)
                    {
                        break;
                    }
                }
            }
            if (ForceRcode >= 0)
            {
                rcode = ForceRcode;
            }
            int flags = 0x8000 | 0x0400 | 0x0100 | 0x0080 | rcode | (truncated ? 0x0200 : 0);   // QR AA RD RA
            m.Add((byte)(flags >> 8));
            m.Add((byte)flags);
            m.AddRange(new byte[] { 0, 1, 0, (byte)records.Count, 0, 0, 0, 0 });
            m.AddRange(query.AsSpan(12, questionEnd - 12).ToArray());
            foreach (byte[] r in records)
            {
                m.AddRange(r);
            }
            return m.ToArray();
        }

        /// <summary>One resource record; a null owner is written as a pointer to the question name (offset 12).</summary>
        public static byte[] Record(string owner, int type, uint ttl, byte[] data)
        {
            List<byte> r = new List<byte>();
            if (owner == null)
            {
                r.Add(0xC0);
                r.Add(12);
            }
            else
            {
                r.AddRange(EncodeName(owner));
            }
            r.AddRange(new byte[] { (byte)(type >> 8), (byte)type, 0, 1, (byte)(ttl >> 24), (byte)(ttl >> 16), (byte)(ttl >> 8), (byte)ttl });
            r.Add((byte)(data.Length >> 8));
            r.Add((byte)data.Length);
            r.AddRange(data);
            return r.ToArray();
        }

        public static byte[] EncodeName(string name)
        {
            List<byte> b = new List<byte>();
            foreach (string label in name.Split('.'))
            {
                b.Add((byte)label.Length);
                b.AddRange(Encoding.ASCII.GetBytes(label));
            }
            b.Add(0);
            return b.ToArray();
        }

        public static string ReadName(byte[] m, ref int offset)
        {
            StringBuilder s = new StringBuilder();
            while (m[offset] != 0)
            {
                int length = m[offset];
                if (s.Length > 0)
                {
                    s.Append('.');
                }
                s.Append(Encoding.ASCII.GetString(m, offset + 1, length));
                offset += length + 1;
            }
            offset++;
            return s.ToString().ToLowerInvariant();
        }
    }
}
