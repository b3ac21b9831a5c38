using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// Connections to vanished peers are freed. Keepalive (RFC 9293 section 3.8.4) resets an idle
    /// connection whose peer stopped answering; orphans in FIN_WAIT_1 / LAST_ACK give up after
    /// <see cref="NetConfig.TcpOrphanRetries"/> retransmissions; an orphan in FIN_WAIT_2 waits
    /// <see cref="NetConfig.TcpFinWait2Timeout"/> (Linux: 60 s) for the peer's FIN.
    /// </summary>
    public class TcpOrphanKeepAliveTests
    {
        private static void Connected(NetPair pair, out Socket client, out Socket server, out Socket listener)
        {
            listener = pair.Listen(pair.B, 5000);
            client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            client.Connect(new IPEndPoint(NetPair.AddressB, 5000));
            server = null;
            for (int i = 0; i < 1000 && server == null; i++)
            {
                pair.Step();
                listener.Accept(out server);
            }
            Assert.That(server, Is.Not.Null);
        }

        private static NetConfig Config()
        {
            NetConfig config = NetPair.TestConfig();
            config.TcpFinWait2Timeout = Duration.FromSeconds(60); // Linux's tcp_fin_timeout
            return config;
        }

        [Test]
        public void KeepAliveProbesAnsweredKeepTheConnection()
        {
            NetPair pair = new NetPair(Config(), Config());
            Socket client, server, listener;
            Connected(pair, out client, out server, out listener);
            server.SetKeepAlive(1000, 200, 3);
            pair.Run(5000); // idle for 5 s: probes go out at 1 s intervals of idleness and are answered
            Assert.That(pair.B.Counter(NetStatistics.TcpKeepAliveProbes), Is.GreaterThanOrEqualTo(4));
            Assert.That(server.State, Is.EqualTo(TcpState.Established));
            Assert.That(pair.B.Counter(NetStatistics.TcpKeepAliveTimeouts), Is.Zero);
        }

        [Test]
        public void KeepAliveResetsAVanishedPeer()
        {
            NetPair pair = new NetPair(Config(), Config());
            Socket client, server, listener;
            Connected(pair, out client, out server, out listener);
            server.SetKeepAlive(1000, 200, 3);
            pair.Link.Cut = true; // the peer vanishes
            pair.Run(1000 + 3 * 200 - 50);
            Assert.That(server.State, Is.EqualTo(TcpState.Established), "three probes still unanswered in time");
            pair.Run(300);
            Assert.That(server.State, Is.EqualTo(TcpState.Closed));
            Assert.That(server.PendingError, Is.EqualTo(SocketError.TimedOut));
            Assert.That(pair.B.Counter(NetStatistics.TcpKeepAliveProbes), Is.EqualTo(3));
            Assert.That(pair.B.Counter(NetStatistics.TcpKeepAliveTimeouts), Is.EqualTo(1));
        }

        [Test]
        public void KeepAliveOffByDefault()
        {
            NetPair pair = new NetPair(Config(), Config());
            Socket client, server, listener;
            Connected(pair, out client, out server, out listener);
            pair.Link.Cut = true;
            pair.Run(20000);
            Assert.That(server.State, Is.EqualTo(TcpState.Established));
            Assert.That(pair.B.Counter(NetStatistics.TcpKeepAliveProbes), Is.Zero);
        }

        [Test]
        public void AcceptedConnectionsInheritKeepAlive()
        {
            NetPair pair = new NetPair(Config(), Config());
            Socket listener = pair.Listen(pair.B, 5000);
            listener.SetKeepAlive(500, 100, 2);
            Socket client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            client.Connect(new IPEndPoint(NetPair.AddressB, 5000));
            Socket server = null;
            for (int i = 0; i < 1000 && server == null; i++)
            {
                pair.Step();
                listener.Accept(out server);
            }
            Assert.That(server.KeepAlive, Is.True);
            pair.Link.Cut = true;
            pair.Run(1000);
            Assert.That(server.State, Is.EqualTo(TcpState.Closed));
        }

        [Test]
        public void OrphanInFinWait1ToAVanishedPeerIsDroppedAfterOrphanRetries()
        {
            NetPair pair = new NetPair(Config(), Config());
            Socket client, server, listener;
            Connected(pair, out client, out server, out listener);
            int free = pair.B.FreeSockets;
            pair.Link.Cut = true;
            server.Close(); // FIN never acknowledged
            // RTO 200 ms (initial; min 20 ms in the test config) doubling: 8 retransmissions take at most
            // 0.2 × (2^9 - 1) s ≈ 102 s, well under the 483 s of a keepalive-less orphan.
            pair.Run(110_000);
            Assert.That(pair.B.FreeSockets, Is.EqualTo(free + 1), "the orphan was freed");
            Assert.That(pair.B.Counter(NetStatistics.TcpOrphanTimeouts), Is.EqualTo(1));
            Assert.That(pair.B.Counter(NetStatistics.TcpTimeouts), Is.EqualTo(pair.B.Config.TcpOrphanRetries));
        }

        [Test]
        public void OrphanInLastAckToAVanishedPeerIsDropped()
        {
            NetPair pair = new NetPair(Config(), Config());
            Socket client, server, listener;
            Connected(pair, out client, out server, out listener);
            client.Shutdown(SocketShutdown.Send);
            pair.Run(10);
            Assert.That(server.State, Is.EqualTo(TcpState.CloseWait));
            int free = pair.B.FreeSockets;
            pair.Link.Cut = true;
            server.Close();
            Assert.That(server.State, Is.EqualTo(TcpState.LastAck));
            pair.Run(110_000);
            Assert.That(pair.B.FreeSockets, Is.EqualTo(free + 1));
            Assert.That(pair.B.Counter(NetStatistics.TcpOrphanTimeouts), Is.EqualTo(1));
        }

        [Test]
        public void OrphanInFinWait2TimesOutAfterSixtySeconds()
        {
            NetPair pair = new NetPair(Config(), Config());
            Socket client, server, listener;
            Connected(pair, out client, out server, out listener);
            int free = pair.A.FreeSockets;
            client.Close(); // FIN acknowledged, the peer never closes
            pair.Run(10);
            Assert.That(pair.A.FreeSockets, Is.EqualTo(free), "in FIN_WAIT_2");
            pair.Run(59_000);
            Assert.That(pair.A.FreeSockets, Is.EqualTo(free), "still in FIN_WAIT_2 before 60 s");
            pair.Run(1_100);
            Assert.That(pair.A.FreeSockets, Is.EqualTo(free + 1), "freed after 60 s");
            Assert.That(pair.A.Counter(NetStatistics.TcpFinWait2Timeouts), Is.EqualTo(1));
        }
    }
}
