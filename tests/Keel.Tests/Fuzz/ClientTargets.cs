using System;
using Keel.Net;
using Keel.Net.Dhcp;
using Keel.Net.Dns;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// The DHCP client and the DNS resolver fed fuzzed replies by a scripted server (198.18.0.1) that answers what
    /// they sent: the transaction id (and for DHCP the client's MAC) of the bytes is patched to the one the
    /// client used, so the replies get past the "is it ours" check into the parsers and the client's state machine.
    /// </summary>
    public static class ClientTargets
    {
        /// <summary>Each record (16-bit length, bytes) is one DHCP reply from server port 67 to client port 68.</summary>
        public static void DhcpClient(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack(sockets: false);
            s.Sent.Capture = new FrameCapture();
            Keel.Net.Dhcp.DhcpClient client = new Keel.Net.Dhcp.DhcpClient(s.Stack);
            FuzzInvariantException.Check(client.Start(), "the DHCP client did not start");
            client.Poll();
            FuzzReader r = new FuzzReader(input);
            uint xid = 0;
            while (!r.AtEnd)
            {
                byte[] reply = r.Chunk().ToArray();
                LastDhcpXid(s.Sent.Capture, ref xid);
                if (reply.Length >= 34)
                {
                    reply[4] = (byte)(xid >> 24);
                    reply[5] = (byte)(xid >> 16);
                    reply[6] = (byte)(xid >> 8);
                    reply[7] = (byte)xid;
                    reply.AsSpan(28, 6).Clear();
                    reply[28] = 0x02;
                    reply[33] = 0x02;
                }
                s.Inject(WireFrames.Ipv4(17, WireFrames.Udp(67, 68, reply), destination: 0xFFFFFFFF));
                for (int i = 0; i < 40; i++)
                {
                    client.Poll();
                    s.Clock.AdvanceMilliseconds(100);
                    s.Stack.Poll();
                }
            }
            client.Stop();
            StackTargets.End(s);
        }

        /// <summary>The xid of the last DHCP message the client sent (UDP 68 to 67), kept when there is none.</summary>
        private static void LastDhcpXid(FrameCapture sent, ref uint xid)
        {
            foreach (byte[] f in sent.Frames)
            {
                if (f.Length >= 42 + 8 && f[12] == 8 && f[13] == 0 && f[23] == 17 && f[36] == 0 && f[37] == 67)
                {
                    xid = (uint)((f[46] << 24) | (f[47] << 16) | (f[48] << 8) | f[49]);
                }
            }
            sent.Frames.Clear();
        }

        /// <summary>
        /// The resolver asks for www.example.com; each record (16-bit length, bytes) is one reply from port 53 to
        /// the port it asked from, its id patched to the query's. Then the same name again (the cache).
        /// </summary>
        public static void DnsClient(ReadOnlySpan<byte> input) => Resolve(input, AddressFamily.InterNetwork);

        /// <summary>
        /// As <see cref="DnsClient"/>, but the resolver asks for the AAAA records of the name (RFC 3596): the
        /// replies' AAAA answers go through the IPv6 side of the answer walk and the cache.
        /// </summary>
        public static void DnsClientAaaa(ReadOnlySpan<byte> input) => Resolve(input, AddressFamily.InterNetworkV6);

        private static void Resolve(ReadOnlySpan<byte> input, AddressFamily family)
        {
            FuzzStack s = new FuzzStack(sockets: false);
            s.Sent.Capture = new FrameCapture();
            DnsResolver resolver = new DnsResolver(s.Stack);
            resolver.AddServer(new IPv4Address(198, 18, 0, 1));
            DnsQuery query = resolver.Resolve("www.example.com", family);
            FuzzInvariantException.Check(query != null, "no query");
            resolver.Poll();
            FuzzReader r = new FuzzReader(input);
            int port = 0, id = 0;
            while (!r.AtEnd)
            {
                byte[] reply = r.Chunk().ToArray();
                foreach (byte[] f in s.Sent.Capture.Frames)
                {
                    if (f.Length >= 44 && f[12] == 8 && f[13] == 0 && f[23] == 17 && f[36] == 0 && f[37] == 53)
                    {
                        port = (f[34] << 8) | f[35];
                        id = (f[42] << 8) | f[43];
                    }
                }
                s.Sent.Capture.Frames.Clear();
                if (reply.Length >= 2)
                {
                    reply[0] = (byte)(id >> 8);
                    reply[1] = (byte)id;
                }
                s.Inject(WireFrames.Ipv4(17, WireFrames.Udp(53, port, reply)));
                resolver.Poll();
                s.Clock.AdvanceMilliseconds(100);
                s.Stack.Poll();
                resolver.Poll();
            }
            if (query.Status == DnsStatus.Success)
            {
                FuzzInvariantException.Check(query.Address.Family == family, "resolved to an address of the other family");
                FuzzInvariantException.Check(!query.Address.IsAny, "resolved to the unspecified address");
                FuzzInvariantException.Check(family == AddressFamily.InterNetwork || !query.Address.V6.IsMulticast, "resolved to a multicast address");
            }
            DnsQuery again = resolver.Resolve("www.example.com", family);
            if (again != null)
            {
                resolver.Poll();
            }
            s.Run(12000, 500);
            resolver.Poll();
            StackTargets.End(s);
        }
    }
}
