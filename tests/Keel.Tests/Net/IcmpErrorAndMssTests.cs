using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>ICMP errors reaching sockets (RFC 1122 4.1.3.3) and the per-socket MSS (TCP_MAXSEG).</summary>
    public class IcmpErrorAndMssTests
    {
        [Test]
        public void PortUnreachableGivesConnectionRefusedOnAConnectedUdpSocket()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket u = pair.A.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(u.Connect(new IPEndPoint(NetPair.AddressB, 9999)), Is.EqualTo(SocketError.Success));
            SocketError error;
            Assert.That(u.Send(new byte[] { 1, 2, 3 }, out error), Is.EqualTo(3));
            pair.Run(10);
            Assert.That(pair.B.Counter(NetStatistics.IcmpUnreachableSent), Is.EqualTo(1));
            Assert.That(u.Poll(SelectMode.SelectError), Is.True);
            Assert.That(u.Receive(new byte[16], out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.ConnectionRefused));
            Assert.That(u.Receive(new byte[16], out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.WouldBlock), "reported once");
            Assert.That(pair.A.Counter(NetStatistics.UdpRefused), Is.EqualTo(1));
        }

        [Test]
        public void UnconnectedUdpSocketIgnoresPortUnreachable()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket u = pair.A.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            u.Bind(new IPEndPoint(IPv4Address.Any, 4000));
            SocketError error;
            u.SendTo(new byte[] { 1 }, new IPEndPoint(NetPair.AddressB, 9999), out error);
            pair.Run(10);
            Assert.That(u.Poll(SelectMode.SelectError), Is.False);
            Assert.That(pair.A.Counter(NetStatistics.UdpRefused), Is.Zero);
        }

        [Test]
        public void MaximumSegmentSizeIsAnnouncedAndUsedBothWays()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket listener = pair.Listen(pair.B, 5001);
            listener.MaximumSegmentSize = 1000; // like iperf3 -M 1000 on the server
            Socket server;
            Socket client = TcpLossRecoveryTests.Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            TcpInfo c;
            TcpInfo s;
            client.GetTcpInfo(out c);
            server.GetTcpInfo(out s);
            Assert.That(c.SendMss, Is.EqualTo(1000 - 12), "the client sends at most the announced 1000 (less timestamps)");
            Assert.That(s.SendMss, Is.EqualTo(1000 - 12));
            // Lowering it on a connected socket (iperf3 applies -M to its data streams).
            client.MaximumSegmentSize = 600;
            client.GetTcpInfo(out c);
            Assert.That(c.SendMss, Is.EqualTo(600 - 12));
            BulkTransfer transfer = new BulkTransfer(client, server, 200_000);
            Assert.That(pair.RunUntil(transfer, 10_000), Is.True);
            Assert.That(transfer.Mismatches, Is.Zero);
        }

        [Test]
        public void UdpDatagramLargerThanTheMtuIsFragmentedAndReassembled()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket receiver = pair.B.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            receiver.Bind(new IPEndPoint(IPv4Address.Any, 5201));
            Socket sender = pair.A.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            byte[] data = new byte[8000]; // iperf3 -u -l 8000
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)(i * 13 + 5);
            }
            SocketError error;
            Assert.That(sender.SendTo(data, new IPEndPoint(NetPair.AddressB, 5201), out error), Is.EqualTo(8000));
            Assert.That(error, Is.EqualTo(SocketError.Success));
            pair.Run(10);
            Assert.That(pair.A.Counter(NetStatistics.IpFragTx), Is.EqualTo(6), "8008 bytes in 1480-byte fragments");
            byte[] got = new byte[9000];
            IPEndPoint from;
            Assert.That(receiver.ReceiveFrom(got, out from, out error), Is.EqualTo(8000));
            for (int i = 0; i < data.Length; i++)
            {
                Assert.That(got[i], Is.EqualTo(data[i]), "byte " + i);
            }
            Assert.That(sender.SendTo(new byte[65508], new IPEndPoint(NetPair.AddressB, 5201), out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.MessageSize));
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }
    }
}
