using System;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    public class TcpLifecycleTests
    {
        private static void Connected(NetPair pair, out Socket client, out Socket server, out Socket listener, int port = 5000, bool ipv6 = false)
        {
            listener = pair.Listen(pair.B, port);
            client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            IPAddress address = NetPair.AddressB;
            if (ipv6)
            {
                // Both stacks bring up their link-local addresses (Duplicate Address Detection) first.
                pair.Run(3000);
                address = pair.B.Ipv6LinkLocal;
                Assert.That(address.V6.IsLinkLocal, Is.True);
            }
            Assert.That(client.Connect(new IPEndPoint(address, port)), Is.EqualTo(SocketError.InProgress));
            Assert.That(client.Poll(SelectMode.SelectWrite), Is.False);
            server = null;
            for (int i = 0; i < 1000 && server == null; i++)
            {
                pair.Step();
                listener.Accept(out server);
            }
            Assert.That(server, Is.Not.Null);
            Assert.That(client.Poll(SelectMode.SelectWrite), Is.True);
        }

        [Test]
        public void SimultaneousCloseGoesThroughClosingToTimeWaitAndExpires()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(2000), NetPair.TestConfig(2000));
            Socket client;
            Socket server;
            Socket listener;
            Connected(pair, out client, out server, out listener);
            client.Shutdown(SocketShutdown.Send);
            server.Shutdown(SocketShutdown.Send);
            Assert.That(client.State, Is.EqualTo(TcpState.FinWait1));
            Assert.That(server.State, Is.EqualTo(TcpState.FinWait1));
            pair.Run(20);
            Assert.That(client.State, Is.EqualTo(TcpState.TimeWait));
            Assert.That(server.State, Is.EqualTo(TcpState.TimeWait));
            SocketError error;
            Assert.That(client.Receive(new byte[8], out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.Success));
            client.Close();
            server.Close();
            int freeA = pair.A.FreeSockets;
            pair.Run(1000);
            Assert.That(pair.A.FreeSockets, Is.EqualTo(freeA), "still in TIME_WAIT");
            pair.Run(1200);
            Assert.That(pair.A.FreeSockets, Is.EqualTo(pair.A.Config.MaxSockets), "TIME_WAIT expired");
            Assert.That(pair.B.FreeSockets, Is.EqualTo(pair.B.Config.MaxSockets - 1));
            listener.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void AbortSendsResetAndPeerSeesConnectionReset()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket client;
            Socket server;
            Socket listener;
            Connected(pair, out client, out server, out listener);
            client.Abort();
            pair.Run(5);
            Assert.That(server.Poll(SelectMode.SelectError), Is.True);
            Assert.That(server.PendingError, Is.EqualTo(SocketError.ConnectionReset));
            SocketError error;
            Assert.That(server.Receive(new byte[8], out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(server.Send(new byte[8], out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(pair.B.Counter(NetStatistics.TcpResetsReceived), Is.EqualTo(1));
            server.Close();
            listener.Close();
            Assert.That(pair.A.FreeSockets, Is.EqualTo(pair.A.Config.MaxSockets));
            Assert.That(pair.B.FreeSockets, Is.EqualTo(pair.B.Config.MaxSockets));
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void ConnectToClosedPortIsRefused()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(client.Connect(new IPEndPoint(NetPair.AddressB, 4444)), Is.EqualTo(SocketError.InProgress));
            pair.Run(10);
            Assert.That(client.Poll(SelectMode.SelectError), Is.True);
            Assert.That(client.PendingError, Is.EqualTo(SocketError.ConnectionRefused));
            Assert.That(client.State, Is.EqualTo(TcpState.Closed));
            client.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void ConnectTimesOutWhenNothingAnswers()
        {
            NetConfig config = NetPair.TestConfig();
            config.TcpMaxRetries = 3;
            NetPair pair = new NetPair(config, NetPair.TestConfig());
            Socket listener = pair.Listen(pair.B, 80);
            pair.Run(5); // ARP resolved
            pair.Link.Cut = true;
            Socket client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            client.Connect(new IPEndPoint(NetPair.AddressB, 80));
            pair.Run(4000);
            Assert.That(client.PendingError, Is.EqualTo(SocketError.TimedOut));
            Assert.That(pair.A.Counter(NetStatistics.TcpConnTimeouts), Is.EqualTo(1));
            Assert.That(pair.A.Counter(NetStatistics.TcpRetransmits), Is.EqualTo(3));
            client.Close();
            listener.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void SimultaneousOpen()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            pair.A.SendGratuitousArp();
            pair.B.SendGratuitousArp();
            pair.Run(5);
            Socket a = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Socket b = pair.B.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            a.Bind(new IPEndPoint(IPv4Address.Any, 6001));
            b.Bind(new IPEndPoint(IPv4Address.Any, 6002));
            // Both SYNs are on the wire before either arrives.
            Assert.That(a.Connect(new IPEndPoint(NetPair.AddressB, 6002)), Is.EqualTo(SocketError.InProgress));
            Assert.That(b.Connect(new IPEndPoint(NetPair.AddressA, 6001)), Is.EqualTo(SocketError.InProgress));
            pair.Run(20);
            Assert.That(a.State, Is.EqualTo(TcpState.Established));
            Assert.That(b.State, Is.EqualTo(TcpState.Established));
            SocketError error;
            Assert.That(a.Send(new byte[] { 42 }, out error), Is.EqualTo(1));
            pair.Run(5);
            byte[] one = new byte[1];
            Assert.That(b.Receive(one, out error), Is.EqualTo(1));
            Assert.That(one[0], Is.EqualTo(42));
            a.Close();
            b.Close();
            pair.Run(2000);
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void ZeroWindowIsProbedAndTransferResumes()
        {
            NetConfig configB = NetPair.TestConfig();
            configB.TcpReceiveBufferSize = 64 * 1024;
            NetPair pair = new NetPair(NetPair.TestConfig(), configB);
            Socket client;
            Socket server;
            Socket listener;
            Connected(pair, out client, out server, out listener);
            BulkTransfer transfer = new BulkTransfer(client, server, 1024 * 1024);
            transfer.ReceiverReads = false;
            for (int i = 0; i < 30000; i++)
            {
                transfer.Pump();
                pair.Step();
            }
            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(info.SendWindow, Is.EqualTo(0), "peer window closed");
            Assert.That(pair.A.Counter(NetStatistics.TcpZeroWindowProbes), Is.GreaterThan(0));
            Assert.That(server.Available, Is.InRange(60 * 1024, 64 * 1024));
            transfer.ReceiverReads = true;
            Assert.That(pair.RunUntil(transfer, 60_000), Is.True);
            Assert.That(transfer.Mismatches, Is.EqualTo(0));
            client.Close();
            server.Close();
            listener.Close();
            pair.Run(1500);
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void ListenBacklogLimitsPendingConnections()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket listener = pair.Listen(pair.B, 7000, 2);
            Socket[] clients = new Socket[4];
            for (int i = 0; i < clients.Length; i++)
            {
                clients[i] = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
                clients[i].Connect(new IPEndPoint(NetPair.AddressB, 7000));
            }
            pair.Run(50);
            // Two SYNs fill the SYN queue (its limit is the backlog), two get cookies; the two queued
            // handshakes fill the accept queue, so the cookie ACKs are dropped and counted (Linux with
            // tcp_abort_on_overflow = 0). Those clients think they are connected: their first data segment,
            // retransmitted until the listener has room, carries the cookie again and gets them in.
            Assert.That(pair.B.Counter(NetStatistics.TcpSynCookiesSent), Is.EqualTo(2));
            Assert.That(pair.B.Counter(NetStatistics.TcpListenOverflows), Is.GreaterThan(0));
            for (int i = 0; i < clients.Length; i++)
            {
                SocketError error;
                clients[i].Send(new byte[] { (byte)i }, out error);
                Assert.That(error, Is.EqualTo(SocketError.Success));
            }
            int accepted = 0;
            for (int i = 0; i < 20000 && accepted < clients.Length; i++)
            {
                Socket s;
                while (listener.Accept(out s) == SocketError.Success)
                {
                    accepted++;
                    s.Close();
                }
                pair.Step();
            }
            Assert.That(accepted, Is.EqualTo(clients.Length), "data retransmissions carrying the cookie get the rest in");
            Assert.That(pair.B.Counter(NetStatistics.TcpSynCookiesReceived), Is.GreaterThanOrEqualTo(2), "valid cookies, also those dropped on overflow");
            for (int i = 0; i < clients.Length; i++)
            {
                clients[i].Close();
            }
            listener.Close();
            pair.Run(2000);
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        [Test]
        public void NagleCoalescesSmallWritesUnlessNoDelay()
        {
            long segmentsWithNagle = SmallWrites(false);
            long segmentsNoDelay = SmallWrites(true);
            Assert.That(segmentsWithNagle, Is.LessThan(segmentsNoDelay));
        }

        private static long SmallWrites(bool noDelay)
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket client;
            Socket server;
            Socket listener;
            Connected(pair, out client, out server, out listener);
            client.NoDelay = noDelay;
            long before = pair.A.Counter(NetStatistics.TcpTxSegments);
            SocketError error;
            for (int i = 0; i < 50; i++)
            {
                client.Send(new byte[] { (byte)i }, out error);
            }
            pair.Run(50);
            Assert.That(server.Available, Is.EqualTo(50));
            return pair.A.Counter(NetStatistics.TcpTxSegments) - before;
        }

        [TestCase(false, false)]
        [TestCase(true, false)]
        [TestCase(false, true)]
        [TestCase(true, true)]
        public void SteadyStateTransferDoesNotAllocate(bool offloads, bool ipv6)
        {
            NetConfig configA = NetPair.TestConfig();
            NetConfig configB = NetPair.TestConfig();
            configA.Ipv6Enabled = configB.Ipv6Enabled = ipv6;
            NetPair pair = new NetPair(configA, configB, offloads: offloads);
            Socket client;
            Socket server;
            Socket listener;
            Connected(pair, out client, out server, out listener, ipv6: ipv6);
            Assert.That(server.RemoteEndPoint.Address.IsIPv6, Is.EqualTo(ipv6));
            // Warm-up with the same loss and reordering as the measured part, so every path (out-of-order queue,
            // coalescing, SACK runs, recovery, auto-tuning) has run once before allocations are counted.
            pair.Link.LossRate = 0.01;
            pair.Link.ReorderRate = 0.02;
            BulkTransfer warm = new BulkTransfer(client, server, 2 * 1024 * 1024);
            warm.CloseWhenSent = false;
            BulkTransfer warmBack = new BulkTransfer(server, client, 1024 * 1024);
            warmBack.CloseWhenSent = false;
            for (int i = 0; i < 400_000 && !(warm.Done() & warmBack.Done()); i++)
            {
                pair.Step();
            }
            Assert.That(warm.Done() && warmBack.Done(), Is.True, "warm-up");
            // Both directions, with loss and reordering (retransmissions, out-of-order queue, SACK-less recovery).
            BulkTransfer forward = new BulkTransfer(client, server, 4 * 1024 * 1024);
            BulkTransfer backward = new BulkTransfer(server, client, 4 * 1024 * 1024);
            forward.CloseWhenSent = false;
            backward.CloseWhenSent = false;
            forward.Sent = forward.Received = 0;
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 400_000 && !(forward.Done() & backward.Done()); i++)
            {
                pair.Step();
            }
            long after = GC.GetAllocatedBytesForCurrentThread();
            Assert.That(forward.Received, Is.EqualTo(forward.Total));
            Assert.That(backward.Received, Is.EqualTo(backward.Total));
            Assert.That(forward.Mismatches + backward.Mismatches, Is.EqualTo(0));
            Assert.That(after - before, Is.EqualTo(0), "bytes allocated in steady state");
            Assert.That(pair.DeviceA.OffloadViolations + pair.DeviceB.OffloadViolations, Is.Zero);
            Assert.That(pair.DeviceA.TsoRequests > 0, Is.EqualTo(offloads));
            client.Abort();
            server.Abort();
            listener.Close();
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }
    }
}
