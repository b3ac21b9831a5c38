using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using Keel.Tests.Fakes;
using Keel.Tests.Net.Conformance;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The socket table's port index (a bind looks only at the sockets on its port, not at every socket made) and the
    /// TCP layer's TIME_WAIT list, in order of expiry (expired from its front, the oldest orphan reused first when
    /// sockets run out, no walk over every connection).
    /// </summary>
    public class PortIndexAndTimeWaitListTests
    {
        private static NetStack Stack(int sockets)
        {
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, IPv4Address.Any);
            config.MaxSockets = sockets;
            return new SingleStack(config).Stack;
        }

        private static Socket Udp(NetStack stack, int port, bool reuse = false)
        {
            Socket s = stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            s.ReuseAddress = reuse;
            return s.Bind(new IPEndPoint(IPv4Address.Any, port)) == SocketError.Success ? s : null;
        }

        [Test]
        public void PortsSharingAnIndexBucketDoNotConflict()
        {
            NetStack stack = Stack(64); // 64 buckets: 5000 and 5064 share one
            Assert.That(Udp(stack, 5000), Is.Not.Null);
            Assert.That(Udp(stack, 5064), Is.Not.Null, "another port in the same bucket is free");
            Assert.That(Udp(stack, 5000), Is.Null, "the same port is taken");
            Assert.That(stack.Sockets.PortInUse(6, IPAddress.Any, false, 5000, false), Is.False, "taken for UDP only");
        }

        [Test]
        public void AClosedSocketLeavesTheIndexAndItsPortIsFreeAgain()
        {
            NetStack stack = Stack(64);
            Socket first = Udp(stack, 7000, true);
            Assert.That(Udp(stack, 7000, true), Is.Not.Null, "both asked for address reuse");
            Assert.That(Udp(stack, 7000, false), Is.Null);
            first.Close();
            Assert.That(stack.Sockets.PortInUse(17, IPAddress.Any, false, 7000, false), Is.True, "the second socket still holds it");
            Socket listener = stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(listener.Bind(new IPEndPoint(IPv4Address.Any, 7000)), Is.EqualTo(SocketError.Success), "TCP has its own ports");
            Assert.That(listener.Listen(4), Is.EqualTo(SocketError.Success));
            Socket other = stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(other.Bind(new IPEndPoint(IPv4Address.Any, 7000)), Is.EqualTo(SocketError.AddressAlreadyInUse));
            listener.Close();
            Assert.That(other.Bind(new IPEndPoint(IPv4Address.Any, 7000)), Is.EqualTo(SocketError.Success));
        }

        [Test]
        public void ThousandsOfBoundSocketsEachFindTheirOwnPortTaken()
        {
            NetStack stack = Stack(4096);
            for (int i = 0; i < 3000; i++)
            {
                Assert.That(Udp(stack, 10000 + i), Is.Not.Null);
            }
            for (int i = 0; i < 3000; i += 7)
            {
                Assert.That(stack.Sockets.PortInUse(17, IPAddress.Any, false, 10000 + i, false), Is.True);
            }
            Assert.That(stack.Sockets.PortInUse(17, IPAddress.Any, false, 9999, false), Is.False);
            Assert.That(stack.Sockets.PortInUse(17, IPAddress.Any, false, 13000, false), Is.False);
        }

        /// <summary>Connections whose server side closes first, one a second: each goes to TIME_WAIT on the server.</summary>
        private static NetPair ServerClosesFirst(int count, List<int> clientPorts, out Socket listener)
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(timeWaitMilliseconds: 60_000));
            listener = pair.Listen(pair.B, 80, 16);
            for (int k = 0; k < count; k++)
            {
                Socket client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
                Assert.That(client.Connect(new IPEndPoint(NetPair.AddressB, 80)), Is.EqualTo(SocketError.InProgress));
                Socket server = null;
                for (int i = 0; i < 2000 && server == null; i++)
                {
                    pair.Step();
                    listener.Accept(out server);
                }
                Assert.That(server, Is.Not.Null);
                clientPorts.Add(client.LocalEndPoint.Port);
                server.Close();
                pair.Run(50);
                client.Close();
                pair.Run(950);
            }
            return pair;
        }

        [Test, Rfc("9293 3.6")]
        public void TimeWaitConnectionsEndInTheOrderTheyCameAfterTwoMsl()
        {
            List<int> ports = new List<int>();
            Socket listener;
            NetPair pair = ServerClosesFirst(3, ports, out listener);
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewait), Is.EqualTo(3));
            Assert.That(pair.B.Tcp.OldestOrphanInTimeWait().Remote.Port, Is.EqualTo(ports[0]), "the first to close is the first to reuse");
            // The first entered TIME_WAIT about 3 s ago; 60 s (the configured 2 MSL, Linux's TCP_TIMEWAIT_LEN) after it:
            pair.Run(57_500);
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewait), Is.EqualTo(2), "the first has ended, the others not");
            Assert.That(pair.B.Tcp.OldestOrphanInTimeWait().Remote.Port, Is.EqualTo(ports[1]));
            pair.Run(1000);
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewait), Is.EqualTo(1));
            Assert.That(pair.B.Tcp.OldestOrphanInTimeWait().Remote.Port, Is.EqualTo(ports[2]));
            pair.Run(1000);
            Assert.That(pair.B.Counter(NetStatistics.TcpTimewait), Is.Zero);
            Assert.That(pair.B.Tcp.OldestOrphanInTimeWait(), Is.Null);
            listener.Close();
            pair.Run(100);
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void AServerPortWithAConnectionInTimeWaitIsTakenUnlessReused()
        {
            List<int> ports = new List<int>();
            Socket listener;
            NetPair pair = ServerClosesFirst(1, ports, out listener);
            listener.Close();
            Socket again = pair.B.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(again.Bind(new IPEndPoint(IPv4Address.Any, 80)), Is.EqualTo(SocketError.AddressAlreadyInUse),
                "the accepted connection in TIME_WAIT holds port 80");
            again.ReuseAddress = true;
            Assert.That(again.Bind(new IPEndPoint(IPv4Address.Any, 80)), Is.EqualTo(SocketError.Success), "SO_REUSEADDR");
            again.Close();
        }
    }
}
