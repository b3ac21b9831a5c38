using System;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    public class TcpPairTests
    {
        private static Socket Connect(NetPair pair, NetStack from, IPv4Address to, int port, out Socket accepted, Socket listener)
        {
            Socket client = TcpLossRecoveryTests.Connect(pair, from, to, port, out accepted, listener);
            Assert.That(client.Poll(SelectMode.SelectWrite), Is.True, "client connected");
            return client;
        }

        [Test]
        public void HandshakeDataAndGracefulClose()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket listener = pair.Listen(pair.B, 7);
            Socket server;
            Socket client = Connect(pair, pair.A, NetPair.AddressB, 7, out server, listener);
            Assert.That(client.State, Is.EqualTo(TcpState.Established));
            Assert.That(server.State, Is.EqualTo(TcpState.Established));
            Assert.That(server.RemoteEndPoint.Address, Is.EqualTo((IPAddress)NetPair.AddressA));
            Assert.That(server.LocalEndPoint.Port, Is.EqualTo(7));

            byte[] hello = { 1, 2, 3, 4, 5 };
            SocketError error;
            Assert.That(client.Send(hello, out error), Is.EqualTo(5));
            pair.Run(5);
            Assert.That(server.Poll(SelectMode.SelectRead), Is.True);
            Assert.That(server.Available, Is.EqualTo(5));
            byte[] buffer = new byte[100];
            Assert.That(server.Receive(buffer, out error), Is.EqualTo(5));
            Assert.That(buffer[4], Is.EqualTo(5));
            Assert.That(server.Receive(buffer, out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.WouldBlock));

            client.Close();
            pair.Run(5);
            Assert.That(server.Receive(buffer, out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.Success), "EOF");
            Assert.That(server.State, Is.EqualTo(TcpState.CloseWait));
            server.Close();
            pair.Run(5);
            // Client side (active closer) is in TIME_WAIT until it expires.
            pair.Run(1500);
            Assert.That(pair.A.FreeSockets, Is.EqualTo(pair.A.Config.MaxSockets));
            Assert.That(pair.B.FreeSockets, Is.EqualTo(pair.B.Config.MaxSockets - 1)); // listener
            listener.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [TestCase(false)]
        [TestCase(true)]
        public void TenMegabytesUnderLossReorderingAndDuplication(bool offloads)
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 42, offloads: offloads);
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server;
            Socket client = Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            pair.Link.LossRate = 0.05;
            pair.Link.ReorderRate = 0.05;
            pair.Link.DuplicateRate = 0.01;
            BulkTransfer transfer = new BulkTransfer(client, server, 10 * 1024 * 1024);
            bool done = pair.RunUntil(transfer, 600_000);
            TcpInfo info;
            client.GetTcpInfo(out info);
            TestContext.Out.WriteLine("sim ms " + (pair.Clock.NowNanoseconds / 1_000_000) + " retrans " + info.TotalRetransmits +
                " fast " + info.FastRetransmits + " timeouts " + info.Timeouts + " lost " + pair.Link.Lost + " reordered " + pair.Link.Reordered);
            Assert.That(done, Is.True, "received " + transfer.Received);
            Assert.That(transfer.Mismatches, Is.EqualTo(0));
            Assert.That(transfer.Received, Is.EqualTo(10 * 1024 * 1024));
            Assert.That(info.TotalRetransmits, Is.GreaterThan(0));
            Assert.That(pair.DeviceA.OffloadViolations + pair.DeviceB.OffloadViolations, Is.Zero);
            Assert.That(pair.B.Counter(NetStatistics.TcpBadChecksum), Is.Zero, "the link completed every checksum");
            if (offloads)
            {
                Assert.That(pair.DeviceA.ChecksumRequests, Is.GreaterThan(0));
                Assert.That(pair.DeviceA.TsoRequests, Is.GreaterThan(0), "large segments handed to the device");
                Assert.That(pair.A.Counter(NetStatistics.TcpTsoSegments), Is.EqualTo(pair.DeviceA.TsoRequests));
            }
            else
            {
                Assert.That(pair.DeviceA.ChecksumRequests + pair.DeviceA.TsoRequests, Is.Zero);
            }
            pair.Link.LossRate = 0;
            pair.Link.ReorderRate = 0;
            pair.Link.DuplicateRate = 0;
            server.Close();
            client.Close();
            pair.Run(3000);
            listener.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }
    }
}
