using System;
using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// A DHCP server (RFC 2131 section 4.3) on a test stack's UDP port 67, written from the RFC's message
    /// layout (it does not use the client's codec). Hands out <see cref="Pool"/> addresses one by one and can
    /// lose, refuse (NAK) or replace its replies so tests can drive the client through every path.
    /// </summary>
    public sealed class FakeDhcpServer
    {
        public readonly NetStack Stack;
        private readonly Socket _socket;

        public uint ServerId = 0xC6120001;      // 198.18.0.1
        public uint Mask = 0xFFFFFF00;
        public uint Router = 0xC6120001;
        public uint[] Dns = { 0xC6120001, 0xC6120035 };
        public int Mtu = 1400;
        public uint LeaseSeconds = 120;
        public uint[] Pool = { 0xC6120032, 0xC6120033, 0xC6120034 };   // .50, .51, .52
        public int NextAddress;

        /// <summary>Replies to drop (lost on the wire) before answering again.</summary>
        public int DropReplies;

        /// <summary>Answer every REQUEST with a NAK.</summary>
        public bool NakRequests;

        /// <summary>REQUESTs received before this time (IClock ns) are not answered (a server that is down).</summary>
        public long IgnoreRequestsBefore;

        /// <summary>Answer nothing.</summary>
        public bool Silent;

        /// <summary>Every message received: type (option 53), ciaddr, options 50 and 54, flags, time.</summary>
        public readonly List<Request> Requests = new List<Request>();

        public struct Request
        {
            public int Type;
            public uint ClientAddress;
            public uint Requested;
            public uint Server;
            public bool Broadcast;
            public uint Source;
            public uint Xid;
            public long Time;
            public byte[] Bytes;
        }

        public FakeDhcpServer(NetStack stack)
        {
            Stack = stack;
            _socket = stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            _socket.Bind(new IPEndPoint(IPv4Address.Any, 67));
        }

        public Request Last => Requests[Requests.Count - 1];

        public int Count(int type) => Requests.FindAll(r => r.Type == type).Count;

        public void Poll()
        {
            byte[] buffer = new byte[1500];
            while (true)
            {
                int n = _socket.ReceiveFrom(buffer, out IPEndPoint from, out SocketError error);
                if (error != SocketError.Success)
                {
                    return;
                }
                Request r = Read(buffer, n, from);
                Requests.Add(r);
                Answer(r, buffer, n);
            }
        }

        private Request Read(byte[] b, int n, IPEndPoint from)
        {
            Request r = new Request { Source = from.Address.V4.Value, Time = Stack.Clock.NowNanoseconds };
            r.Bytes = b.AsSpan(0, n).ToArray();
            r.Xid = Frames.Get32(b, 4);
            r.ClientAddress = Frames.Get32(b, 12);
            // Whether it came to 255.255.255.255 is not visible through a socket: renewals carry ciaddr and go unicast.
            for (int i = 240; i < n && b[i] != 255;)
            {
                if (b[i] == 0)
                {
                    i++;
                    continue;
                }
                int code = b[i], len = b[i + 1];
                if (code == 53) r.Type = b[i + 2];
                if (code == 50) r.Requested = Frames.Get32(b, i + 2);
                if (code == 54) r.Server = Frames.Get32(b, i + 2);
                i += 2 + len;
            }
            r.Broadcast = (b[10] & 0x80) != 0;   // the BROADCAST flag
            return r;
        }

        private void Answer(Request r, byte[] request, int n)
        {
            if (Silent)
            {
                return;
            }
            if (r.Type == 4)
            {
                NextAddress++; // DECLINE: that address is taken, offer the next one
                return;
            }
            if (r.Type == 3 && r.Time < IgnoreRequestsBefore)
            {
                return;
            }
            int type;
            uint yiaddr;
            if (r.Type == 1)
            {
                type = 2;
                yiaddr = Pool[NextAddress % Pool.Length];
            }
            else if (r.Type == 3)
            {
                type = NakRequests ? 6 : 5;
                yiaddr = NakRequests ? 0 : r.ClientAddress != 0 ? r.ClientAddress : r.Requested;
            }
            else
            {
                return;
            }
            if (DropReplies > 0)
            {
                DropReplies--;
                return;
            }
            Send(BuildReply(request, type, yiaddr));
        }

        /// <summary>A BOOTREPLY for <paramref name="request"/> (RFC 2131 table 3), options in RFC 2132 format.</summary>
        public byte[] BuildReply(byte[] request, int type, uint yiaddr)
        {
            byte[] m = new byte[300];
            m[0] = 2;
            m[1] = 1;
            m[2] = 6;
            Array.Copy(request, 4, m, 4, 4);     // xid
            Array.Copy(request, 10, m, 10, 2);   // flags
            Frames.Put32(m, 16, yiaddr);
            Array.Copy(request, 28, m, 28, 16);  // chaddr
            Frames.Put32(m, 236, 0x63825363);
            int o = 240;
            m[o++] = 53; m[o++] = 1; m[o++] = (byte)type;
            m[o++] = 54; m[o++] = 4; Frames.Put32(m, o, ServerId); o += 4;
            if (type != 6)
            {
                m[o++] = 51; m[o++] = 4; Frames.Put32(m, o, LeaseSeconds); o += 4;
                m[o++] = 1; m[o++] = 4; Frames.Put32(m, o, Mask); o += 4;
                m[o++] = 3; m[o++] = 4; Frames.Put32(m, o, Router); o += 4;
                m[o++] = 6; m[o++] = (byte)(4 * Dns.Length);
                foreach (uint d in Dns)
                {
                    Frames.Put32(m, o, d);
                    o += 4;
                }
                m[o++] = 26; m[o++] = 2; m[o++] = (byte)(Mtu >> 8); m[o++] = (byte)Mtu;
            }
            m[o] = 255;
            return m;
        }

        public void Send(byte[] message, int port = 67)
        {
            if (port != 67)
            {
                Socket other = Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
                other.Bind(new IPEndPoint(IPv4Address.Any, port));
                other.SendTo(message, new IPEndPoint(IPv4Address.Broadcast, 68), out _);
                other.Close();
                return;
            }
            _socket.SendTo(message, new IPEndPoint(IPv4Address.Broadcast, 68), out SocketError error);
        }
    }
}

namespace Keel.Tests.Fakes
{
    /// <summary>Passes frames on to the link and keeps a copy of each (to see where a device sent what).</summary>
    public sealed class TeeSink : ITestFrameSink
    {
        private readonly ITestFrameSink _next;
        public readonly List<byte[]> Frames = new List<byte[]>();

        public TeeSink(ITestFrameSink next)
        {
            _next = next;
        }

        public void Accept(TestNetDevice from, Keel.Buffers.Packet frame)
        {
            byte[] copy = new byte[frame.Length];
            frame.CopyTo(0, copy);
            Frames.Add(copy);
            _next.Accept(from, frame);
        }
    }
}
