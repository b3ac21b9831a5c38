using System;
using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The socket table sized from memory (NetConfig.SocketsForMemory), what a socket costs, the listeners'
    /// reserve (one service's clients cannot take every socket) and TIME_WAIT's bound and reuse.
    /// </summary>
    public class SocketTableSizingTests
    {
        private const long MiB = 1024 * 1024;

        [TestCase(1 * MiB, NetConfig.MinSockets)]
        [TestCase(16 * MiB, 809)]
        [TestCase(256 * MiB, 12945)]
        [TestCase(240 * MiB, 12136)]
        [TestCase(4096 * MiB, NetConfig.SocketLimit)]
        public void SocketsAreAQuarterOfMemoryOverTheCostOfOne(long freeBytes, int sockets)
        {
            Assert.That(NetConfig.SocketsForMemory(freeBytes), Is.EqualTo(sockets));
        }

        [Test]
        public void AStackOf256MiBHoldsTenThousandConnections()
        {
            // 256 MiB less the kernel image and the NIC's pools still gives more than 10,000 sockets.
            Assert.That(NetConfig.SocketsForMemory(200 * MiB), Is.GreaterThan(10_000));
        }

        private static long StackBytes(int sockets)
        {
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, IPv4Address.Any);
            config.MaxSockets = sockets;
            long before = GC.GetAllocatedBytesForCurrentThread();
            SingleStack stack = new SingleStack(config);
            // Past the first few hundred the table's sockets, connections and endpoints are made when first
            // needed: open every socket once as TCP and once as UDP so that all of them exist.
            Socket[] open = new Socket[sockets];
            foreach (ProtocolType protocol in new[] { ProtocolType.Tcp, ProtocolType.Udp })
            {
                for (int i = 0; i < sockets; i++)
                {
                    open[i] = stack.Stack.CreateSocket(protocol == ProtocolType.Tcp ? SocketType.Stream : SocketType.Dgram, protocol);
                    Assert.That(open[i], Is.Not.Null);
                }
                for (int i = 0; i < sockets; i++)
                {
                    open[i].Close();
                }
            }
            long after = GC.GetAllocatedBytesForCurrentThread();
            GC.KeepAlive(stack);
            return after - before;
        }

        [Test]
        public void ASocketCostsLessThanTheDocumentedFigure()
        {
            long perSocket = (StackBytes(3000) - StackBytes(1000)) / 2000;
            TestContext.Out.WriteLine("bytes per socket: " + perSocket);
            // The rest of BytesPerSocket is for an application's slot (the echo server's is about 40 bytes) and the
            // test's own array of sockets (8 bytes each).
            Assert.That(perSocket, Is.LessThanOrEqualTo(NetConfig.BytesPerSocket - 64));
        }

        [Test]
        public void AnIdleEstablishedConnectionHoldsNoPage()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket listener = pair.Listen(pair.B, 7);
            Socket server;
            Socket client = TcpLossRecoveryTests.Connect(pair, pair.A, NetPair.AddressB, 7, out server, listener);
            byte[] request = new byte[100];
            byte[] buffer = new byte[200];
            SocketError error;
            Assert.That(client.Send(request, out error), Is.EqualTo(100));
            pair.Run(50);
            Assert.That(server.Receive(buffer, out error), Is.EqualTo(100));
            Assert.That(server.Send(request, out error), Is.EqualTo(100));
            pair.Run(50);
            Assert.That(client.Receive(buffer, out error), Is.EqualTo(100));
            pair.Run(500);
            Assert.That(client.State, Is.EqualTo(TcpState.Established));
            Assert.That(pair.A.TransmitPages.InFlight, Is.Zero, "client: sent and acknowledged, nothing held");
            Assert.That(pair.B.TransmitPages.InFlight, Is.Zero, "server: sent and acknowledged, nothing held");
            client.Close();
            server.Close();
            pair.Run(3000);
            listener.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        private static NetPair Pair(int socketsB)
        {
            NetConfig a = NetPair.TestConfig();
            a.MaxSockets = 256;
            NetConfig b = NetPair.TestConfig();
            b.MaxSockets = socketsB;
            return new NetPair(a, b);
        }

        /// <summary>Connects to <paramref name="port"/> of B; true when B accepted it, false when the client got a RST.</summary>
        private static bool TryConnect(NetPair pair, int port, Socket listener, List<Socket> clients, List<Socket> accepted)
        {
            Socket client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(client.Connect(new IPEndPoint(NetPair.AddressB, port)), Is.EqualTo(SocketError.InProgress));
            clients.Add(client);
            for (int i = 0; i < 2000; i++)
            {
                pair.Step();
                Socket s;
                if (listener.Accept(out s) == SocketError.Success)
                {
                    accepted.Add(s);
                    return true;
                }
                if (client.State == TcpState.Closed)
                {
                    Assert.That(client.PendingError, Is.EqualTo(SocketError.ConnectionRefused));
                    Assert.That(i, Is.LessThan(100), "refused at once, not after a timeout");
                    return false;
                }
            }
            Assert.Fail("neither accepted nor refused");
            return false;
        }

        [Test]
        public void OneListenersClientsLeaveTheOthersTheirReserve()
        {
            NetPair pair = Pair(64);
            Socket echo = pair.Listen(pair.B, 7, 64);
            Socket iperf = pair.Listen(pair.B, 5201, 64);
            Socket http = pair.Listen(pair.B, 80, 64);
            List<Socket> clients = new List<Socket>();
            List<Socket> accepted = new List<Socket>();
            int echoClients = 0;
            while (TryConnect(pair, 7, echo, clients, accepted))
            {
                echoClients++;
            }
            // 64 sockets, three listeners; reserve min(8, 64 / 16) = 4 for the applications and 4 for each other listener.
            Assert.That(echoClients, Is.EqualTo(64 - 3 - 4 - 4 - 4));
            Assert.That(pair.B.Counter(NetStatistics.TcpListenLimitRefused), Is.EqualTo(1));
            for (int i = 0; i < 4; i++)
            {
                Assert.That(TryConnect(pair, 5201, iperf, clients, accepted), Is.True, "iperf3 client " + i);
            }
            for (int i = 0; i < 4; i++)
            {
                Assert.That(TryConnect(pair, 80, http, clients, accepted), Is.True, "http client " + i);
            }
            Assert.That(TryConnect(pair, 80, http, clients, accepted), Is.False, "beyond its reserve: the apps' sockets stay");
            Assert.That(pair.B.CreateSocket(SocketType.Dgram, ProtocolType.Udp), Is.Not.Null, "an application's own socket");

            foreach (Socket s in accepted)
            {
                s.Close();
            }
            foreach (Socket s in clients)
            {
                s.Close();
            }
            pair.Run(3000);
            Assert.That(TryConnect(pair, 7, echo, clients, accepted), Is.True, "the share comes back");
            accepted[accepted.Count - 1].Close();
            clients[clients.Count - 1].Close();
            pair.Run(3000);
            echo.Close();
            iperf.Close();
            http.Close();
            Assert.That(pair.B.FreeSockets, Is.EqualTo(64 - 1), "only the UDP socket is left");
            Assert.That(pair.B.Counter(NetStatistics.SocketsInUse), Is.EqualTo(1));
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewait), Is.Zero);
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void TimeWaitIsBoundedCountedAndEndedByANewSyn()
        {
            NetConfig b = NetPair.TestConfig(timeWaitMilliseconds: 60_000);
            b.TcpMaxTimeWait = 2;
            NetPair pair = new NetPair(NetPair.TestConfig(), b);
            Socket listener = pair.Listen(pair.B, 80, 16);
            List<Socket> clients = new List<Socket>();
            List<Socket> accepted = new List<Socket>();
            for (int i = 0; i < 4; i++)
            {
                Assert.That(TryConnect(pair, 80, listener, clients, accepted), Is.True);
            }
            int port = clients[0].LocalEndPoint.Port;
            // The server closes first: its side goes through FIN_WAIT to TIME_WAIT.
            foreach (Socket s in accepted)
            {
                s.Close();
            }
            pair.Run(50);
            foreach (Socket s in clients)
            {
                s.Close();
            }
            pair.Run(500);
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewait), Is.EqualTo(2), "bounded by TcpMaxTimeWait");
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewaitOverflows), Is.EqualTo(2));
            Assert.That(pair.B.FreeSockets, Is.EqualTo(pair.B.Config.MaxSockets - 1 - 2));

            // The same 4-tuple again, before TIME_WAIT ends: a newer timestamp starts a new connection (RFC 6191).
            pair.Run(1000);
            Socket again = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(again.Bind(new IPEndPoint(IPv4Address.Any, port)), Is.EqualTo(SocketError.Success));
            Assert.That(again.Connect(new IPEndPoint(NetPair.AddressB, 80)), Is.EqualTo(SocketError.InProgress));
            Socket server = null;
            for (int i = 0; i < 2000 && server == null; i++)
            {
                pair.Step();
                listener.Accept(out server);
            }
            Assert.That(server, Is.Not.Null, "accepted from the port in TIME_WAIT");
            Assert.That(again.State, Is.EqualTo(TcpState.Established));
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewaitSynReused), Is.EqualTo(1));
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewait), Is.EqualTo(1));
            again.Close();
            server.Close();
            pair.Run(1000);
            listener.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }
    }
}
