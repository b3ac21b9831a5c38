using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    public class UdpPairTests
    {
        [Test]
        public void SendToReceiveFromAndConnectedSockets()
        {
            NetPair pair = new NetPair();
            Socket server = pair.B.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(server.Bind(new IPEndPoint(IPv4Address.Any, 5201)), Is.EqualTo(SocketError.Success));
            Socket client = pair.A.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            SocketError error;
            byte[] data = new byte[1472];
            for (int i = 0; i < data.Length; i++)
            {
                data[i] = (byte)i;
            }
            Assert.That(client.SendTo(data, new IPEndPoint(NetPair.AddressB, 5201), out error), Is.EqualTo(1472));
            Assert.That(client.SendTo(new byte[65508], new IPEndPoint(NetPair.AddressB, 5201), out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.MessageSize));
            pair.Run(5);
            byte[] buffer = new byte[2000];
            IPEndPoint from;
            int n = server.ReceiveFrom(buffer, out from, out error);
            Assert.That(n, Is.EqualTo(1472));
            Assert.That(buffer[1000], Is.EqualTo(unchecked((byte)1000)));
            Assert.That(from.Address, Is.EqualTo((IPAddress)NetPair.AddressA));
            Assert.That(from.Port, Is.EqualTo(client.LocalEndPoint.Port));

            // iperf3 style: a second socket on the same port, connected to the client, gets its datagrams.
            Socket connected = pair.B.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(connected.Bind(new IPEndPoint(IPv4Address.Any, 5201)), Is.EqualTo(SocketError.AddressAlreadyInUse));
            connected.ReuseAddress = true;
            server.ReuseAddress = true;
            Assert.That(connected.Bind(new IPEndPoint(IPv4Address.Any, 5201)), Is.EqualTo(SocketError.Success));
            Assert.That(connected.Connect(from), Is.EqualTo(SocketError.Success));
            Assert.That(connected.Send(new byte[] { 9, 9 }, out error), Is.EqualTo(2));
            Assert.That(client.Send(new byte[] { 1 }, out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.DestinationAddressRequired));
            client.SendTo(new byte[] { 7 }, new IPEndPoint(NetPair.AddressB, 5201), out error);
            pair.Run(5);
            Assert.That(connected.Available, Is.EqualTo(1));
            Assert.That(server.Poll(SelectMode.SelectRead), Is.False);
            Assert.That(client.ReceiveFrom(buffer, out from, out error), Is.EqualTo(2));
            Assert.That(from.Port, Is.EqualTo(5201));

            // Small buffer: truncated with MessageSize.
            client.SendTo(data, new IPEndPoint(NetPair.AddressB, 5201), out error);
            pair.Run(5);
            Assert.That(connected.Receive(new byte[1], out error), Is.EqualTo(1));
            Assert.That(connected.Receive(new byte[100], out error), Is.EqualTo(100));
            Assert.That(error, Is.EqualTo(SocketError.MessageSize));

            // Closed port: the peer answers with ICMP port unreachable.
            client.SendTo(data, new IPEndPoint(NetPair.AddressB, 9), out error);
            pair.Run(5);
            Assert.That(pair.B.Counter(NetStatistics.IcmpUnreachableSent), Is.EqualTo(1));
            Assert.That(pair.A.Counter(NetStatistics.IcmpUnreachableRx), Is.EqualTo(1));
            server.Close();
            connected.Close();
            client.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void FullReceiveQueueDropsAndCounts()
        {
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, IPv4Address.Any);
            config.UdpReceiveBufferSize = 16 * 1024;
            NetPair pair = new NetPair(null, config);
            Socket server = pair.B.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            server.Bind(new IPEndPoint(IPv4Address.Any, 5201));
            Socket client = pair.A.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            SocketError error;
            for (int i = 0; i < 20; i++)
            {
                client.SendTo(new byte[1000], new IPEndPoint(NetPair.AddressB, 5201), out error);
                pair.Run(1);
            }
            Assert.That(pair.B.Counter(NetStatistics.UdpRcvbufErrors), Is.GreaterThan(0));
            string detail;
            server.Close();
            client.Close();
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }
    }
}
