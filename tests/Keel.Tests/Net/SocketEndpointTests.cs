using System;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// Endpoints that can hold either family: their text form (RFC 5952 section 6), the clean refusal of IPv6 peers
    /// while the stack carries IPv4 only, lookups that tell the families apart, and sockets as thin handles on a
    /// TCP connection or a UDP endpoint taken from pools made at start-up.
    /// </summary>
    public class SocketEndpointTests
    {
        private static readonly IPv6Address Documentation = new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);

        /// <summary>The IPv6 address whose low 32 bits are those of <see cref="NetPair.AddressA"/>.</summary>
        private static readonly IPv6Address SameLowBitsAsA = new IPv6Address(0, 0, 0, 0, 0, 0, 0xc612, 0x0001);

        private static string Text(IPEndPoint endPoint)
        {
            TextCapture capture = new TextCapture();
            endPoint.WriteTo(capture);
            return capture.ToString();
        }

        [Test]
        public void EndPointTextIsDottedOrBracketedIPv6()
        {
            Assert.That(Text(new IPEndPoint(new IPv4Address(198, 18, 0, 1), 80)), Is.EqualTo("198.18.0.1:80"));
            // RFC 5952 section 6: "[2001:db8::1]:443".
            Assert.That(Text(new IPEndPoint(Documentation, 443)), Is.EqualTo("[2001:db8::1]:443"));
        }

        [Test]
        public void EndPointsOfDifferentFamiliesDiffer()
        {
            IPEndPoint v4 = new IPEndPoint(NetPair.AddressA, 80);
            IPEndPoint v6 = new IPEndPoint(SameLowBitsAsA, 80);
            Assert.That(v4 == v6, Is.False);
            Assert.That(v4.Equals((object)v6), Is.False);
            Assert.That(v4 == new IPEndPoint(new IPv4Address(198, 18, 0, 1), 80), Is.True);
            Assert.That(v4.AddressFamily, Is.EqualTo(AddressFamily.InterNetwork));
            Assert.That(v6.AddressFamily, Is.EqualTo(AddressFamily.InterNetworkV6));
        }

        [Test]
        public void TcpConnectToIPv6IsRefusedAndNothingIsSent()
        {
            NetPair pair = new NetPair();
            Socket s = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            long segments = pair.A.Counter(NetStatistics.TcpTxSegments);
            Assert.That(s.Connect(new IPEndPoint(Documentation, 80)), Is.EqualTo(SocketError.AddressFamilyNotSupported));
            Assert.That(s.Bind(new IPEndPoint(IPAddress.IPv6Any, 80)), Is.EqualTo(SocketError.AddressFamilyNotSupported));
            Assert.That(pair.A.Counter(NetStatistics.TcpActiveOpens), Is.Zero);
            Assert.That(pair.A.Counter(NetStatistics.TcpTxSegments), Is.EqualTo(segments));
            Assert.That(s.State, Is.EqualTo(TcpState.Closed));
            Assert.That(s.LocalEndPoint.Port, Is.Zero, "the refusal bound nothing");

            // The socket is as it was: it can still connect over IPv4.
            Socket listener = pair.Listen(pair.B, 7000);
            Assert.That(s.Connect(new IPEndPoint(NetPair.AddressB, 7000)), Is.EqualTo(SocketError.InProgress));
            pair.Run(20);
            Assert.That(s.Connected, Is.True);
            Assert.That(listener.Accept(out Socket accepted), Is.EqualTo(SocketError.Success));
            Assert.That(accepted.RemoteEndPoint, Is.EqualTo(s.LocalEndPoint));
            Assert.That(accepted.LocalEndPoint, Is.EqualTo(new IPEndPoint(NetPair.AddressB, 7000)));
        }

        [Test]
        public void UdpSendToIPv6IsRefusedAndNothingIsSent()
        {
            NetPair pair = new NetPair();
            Socket u = pair.A.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            SocketError error;
            Assert.That(u.SendTo(new byte[10], new IPEndPoint(Documentation, 5201), out error), Is.Zero);
            Assert.That(error, Is.EqualTo(SocketError.AddressFamilyNotSupported));
            Assert.That(u.SendTo(new byte[10], new IPEndPoint(IPAddress.IPv6Any, 0), out error), Is.Zero);
            Assert.That(error, Is.EqualTo(SocketError.AddressFamilyNotSupported), "the family is checked first");
            Assert.That(u.Connect(new IPEndPoint(Documentation, 5201)), Is.EqualTo(SocketError.AddressFamilyNotSupported));
            Assert.That(u.Connected, Is.False);
            Assert.That(pair.A.Counter(NetStatistics.UdpTx), Is.Zero);
            Assert.That(u.PendingError, Is.EqualTo(SocketError.Success), "a refusal leaves no error behind");

            Socket server = pair.B.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(server.Bind(new IPEndPoint(IPv4Address.Any, 5201)), Is.EqualTo(SocketError.Success));
            Assert.That(u.SendTo(new byte[10], new IPEndPoint(NetPair.AddressB, 5201), out error), Is.EqualTo(10));
            pair.Run(5);
            Assert.That(server.Available, Is.EqualTo(10));
        }

        [Test]
        public void TcpLookupTellsTheFamiliesApart()
        {
            NetPair pair = new NetPair();
            pair.Listen(pair.B, 7001);
            Socket client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            client.Connect(new IPEndPoint(NetPair.AddressB, 7001));
            pair.Run(20);
            Assert.That(client.Connected, Is.True);
            IPEndPoint local = new IPEndPoint(NetPair.AddressB, 7001);
            int port = client.LocalEndPoint.Port;
            Assert.That(pair.B.Tcp.Lookup(local, new IPEndPoint(NetPair.AddressA, port)), Is.Not.Null);
            Assert.That(pair.B.Tcp.Lookup(local, new IPEndPoint(SameLowBitsAsA, port)), Is.Null);
            Assert.That(pair.B.Tcp.Lookup(new IPEndPoint(new IPv6Address(0, 0, 0, 0, 0, 0, 0xc612, 2), 7001),
                new IPEndPoint(NetPair.AddressA, port)), Is.Null);
        }

        [Test]
        public void UdpSocketsCarryNoTcpConnection()
        {
            NetPair pair = new NetPair();
            Socket u = pair.A.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Socket t = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(u.Tcp, Is.Null);
            Assert.That(t.Tcp, Is.Not.Null);
            Assert.That(u.SocketType, Is.EqualTo(SocketType.Dgram));
            Assert.That(t.ProtocolType, Is.EqualTo(ProtocolType.Tcp));
            Assert.That(u.NoDelay, Is.False);
            u.NoDelay = true;
            Assert.That(u.NoDelay, Is.False, "TCP_NODELAY means nothing to UDP");
            Assert.That(u.SendBufferSize, Is.Zero);
            u.Close();
            Assert.That(u.ProtocolType, Is.EqualTo(ProtocolType.Unknown), "back in the pool, no endpoint");
        }

        [Test]
        public void OptionsSetBeforeListenReachTheAcceptedConnection()
        {
            NetPair pair = new NetPair();
            Socket listener = pair.B.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            listener.NoDelay = true;
            listener.SendBufferSize = 32 * 1024;
            listener.ReceiveBufferSize = 48 * 1024;
            listener.MaximumSegmentSize = 1000;
            Assert.That(listener.Bind(new IPEndPoint(IPv4Address.Any, 7002)), Is.EqualTo(SocketError.Success));
            Assert.That(listener.Listen(4), Is.EqualTo(SocketError.Success));
            Assert.That(listener.Listen(8), Is.EqualTo(SocketError.Success), "listening again only changes the backlog");
            Socket client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            client.Connect(new IPEndPoint(NetPair.AddressB, 7002));
            pair.Run(20);
            Assert.That(listener.Accept(out Socket accepted), Is.EqualTo(SocketError.Success));
            Assert.That(accepted.NoDelay, Is.True);
            Assert.That(accepted.SendBufferSize, Is.EqualTo(32 * 1024));
            Assert.That(accepted.ReceiveBufferSize, Is.EqualTo(48 * 1024));
            Assert.That(accepted.ReceiveBufferAutoTune, Is.False);
            Assert.That(accepted.MaximumSegmentSize, Is.EqualTo(1000));
            Assert.That(client.Connect(new IPEndPoint(NetPair.AddressB, 7002)), Is.EqualTo(SocketError.IsConnected));
            Assert.That(client.Listen(1), Is.EqualTo(SocketError.IsConnected));
        }

        [Test]
        public void EverySocketCanBeUdpOrTcpAndCyclingThemAllocatesNothing()
        {
            NetConfig config = NetConfig.Create(NetPair.AddressA, 24, IPv4Address.Any);
            config.MaxSockets = 8;
            NetPair pair = new NetPair(config);
            Socket[] sockets = new Socket[config.MaxSockets];
            byte[] payload = new byte[16];
            IPEndPoint peer = new IPEndPoint(NetPair.AddressB, 9);
            for (int round = 0; round < 3; round++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                ProtocolType protocol = round == 1 ? ProtocolType.Tcp : ProtocolType.Udp;
                SocketType type = round == 1 ? SocketType.Stream : SocketType.Dgram;
                for (int i = 0; i < sockets.Length; i++)
                {
                    sockets[i] = pair.A.CreateSocket(type, protocol);
                }
                Socket extra = pair.A.CreateSocket(type, protocol);
                for (int i = 0; i < sockets.Length; i++)
                {
                    if (protocol == ProtocolType.Udp)
                    {
                        sockets[i].SendTo(payload, peer, out SocketError _);
                    }
                    else
                    {
                        sockets[i].Bind(new IPEndPoint(IPv4Address.Any, 0));
                    }
                    sockets[i].Close();
                }
                long after = GC.GetAllocatedBytesForCurrentThread();
                Assert.That(Array.IndexOf(sockets, null), Is.EqualTo(-1), "every socket of the table, round " + round);
                Assert.That(extra, Is.Null, "the table is full");
                Assert.That(pair.A.FreeSockets, Is.EqualTo(config.MaxSockets));
                if (round > 0)
                {
                    Assert.That(after - before, Is.Zero, "bytes allocated, round " + round);
                }
            }
        }
    }
}
