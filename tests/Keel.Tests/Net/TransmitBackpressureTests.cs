using System;
using System.Threading;
using Keel.Buffers;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The sending side when the device pushes back: a refusing or small transmit ring, an exhausted transmit
    /// packet pool, a closed peer window, with the application sending from its poll as apps/Iperf3 does. Every
    /// stack entry point must return (the kernel main loop has to get back to the driver, which is what frees
    /// the ring), and the transfer must finish once the device drains.
    /// A livelock would hang the test process, so each scenario runs on its own thread with a deadline.
    /// </summary>
    public class TransmitBackpressureTests
    {
        private const int DeadlineSeconds = 30;

        private static void WithDeadline(ThreadStart scenario)
        {
            Exception failure = null;
            Thread thread = new Thread(() =>
            {
                try
                {
                    scenario();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }, 16 * 1024 * 1024);
            thread.IsBackground = true;
            thread.Start();
            bool finished = thread.Join(TimeSpan.FromSeconds(DeadlineSeconds));
            Assert.That(finished, Is.True, "a stack call did not return: livelock in the send path");
            if (failure != null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }

        private static void Connected(NetPair pair, out Socket client, out Socket server, out Socket listener)
        {
            listener = pair.Listen(pair.B, 5201);
            client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(client.Connect(new IPEndPoint(NetPair.AddressB, 5201)), Is.EqualTo(SocketError.InProgress));
            server = null;
            for (int i = 0; i < 20000 && server == null; i++)
            {
                pair.Step();
                Socket s;
                if (listener.Accept(out s) == SocketError.Success)
                {
                    server = s;
                }
            }
            Assert.That(server, Is.Not.Null, "accept");
        }

        private static void CloseAndCheck(NetPair pair, Socket client, Socket server, Socket listener)
        {
            client.Close();
            server.Close();
            listener.Close();
            pair.Run(1500);
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }

        /// <summary>
        /// The reported bug: the device refuses every frame while the guest sends. Send, Poll and
        /// ReceiveBatchDone must all return; the data goes out once the device takes frames again.
        /// </summary>
        [Test]
        public void RefusingDeviceDoesNotLivelockPollOrBatchDone()
        {
            WithDeadline(() =>
            {
                NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
                Socket client;
                Socket server;
                Socket listener;
                Connected(pair, out client, out server, out listener);
                BulkTransfer transfer = new BulkTransfer(server, client, 4 * 1024 * 1024);
                transfer.Pump();
                pair.Run(20);
                pair.DeviceB.Busy = true;
                long sentBefore = pair.DeviceB.FramesSent;
                for (int i = 0; i < 200; i++)
                {
                    transfer.Pump();       // Send → Output while the device refuses
                    pair.B.Poll();         // timers, backlog, batched output
                    pair.B.ReceiveBatchDone();
                    pair.Step();           // ACKs from A arrive: ReceiveBatchDone on B
                }
                Assert.That(pair.DeviceB.FramesSent, Is.EqualTo(sentBefore), "nothing left while the device refused");
                Assert.That(transfer.Sent, Is.LessThan(transfer.Total), "the sender is held back");
                pair.DeviceB.Busy = false;
                Assert.That(pair.RunUntil(transfer, 60_000), Is.True, "received " + transfer.Received);
                Assert.That(transfer.Mismatches, Is.EqualTo(0));
                CloseAndCheck(pair, client, server, listener);
            });
        }

        /// <summary>
        /// A virtio-like ring of 16 frames that is only drained between main-loop passes (as with a transmit batch
        /// open around the receive poll): iperf3 -R style, the sender refills from its poll every pass.
        /// </summary>
        [Test]
        public void SmallTransmitRingWithSenderPollingKeepsMovingData()
        {
            WithDeadline(() =>
            {
                NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
                pair.DeviceB.RingSize = 16;
                Socket client;
                Socket server;
                Socket listener;
                Connected(pair, out client, out server, out listener);
                BulkTransfer transfer = new BulkTransfer(server, client, 8 * 1024 * 1024);
                Assert.That(pair.RunUntil(transfer, 60_000), Is.True, "received " + transfer.Received);
                Assert.That(transfer.Mismatches, Is.EqualTo(0));
                Assert.That(pair.DeviceB.RingFull, Is.GreaterThan(0), "the ring did fill");
                TestContext.Out.WriteLine("sim ms " + (pair.Clock.NowNanoseconds / 1_000_000) + " ring full " + pair.DeviceB.RingFull + " refusals " + pair.DeviceB.TransmitRefusals +
                    " tx_busy_queued " + pair.B.Counter(NetStatistics.TxBusyQueued) + " tx_dropped " + pair.B.Counter(NetStatistics.TxDropped));
                CloseAndCheck(pair, client, server, listener);
            });
        }

        /// <summary>
        /// The transmit packet pool runs dry before the ring does (packets held by the ring): segment building
        /// fails; output must give up until packets come back, not spin.
        /// </summary>
        [Test]
        public void TransmitPacketPoolExhaustionDoesNotLivelock()
        {
            WithDeadline(() =>
            {
                NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
                pair.DeviceB.RingSize = 256;
                Socket client;
                Socket server;
                Socket listener;
                Connected(pair, out client, out server, out listener);
                PacketPool pool = pair.DeviceB.TransmitPackets;
                Packet[] held = new Packet[pool.Available - 12];
                for (int i = 0; i < held.Length; i++)
                {
                    held[i] = pool.TryAllocate(0);
                }
                BulkTransfer transfer = new BulkTransfer(server, client, 4 * 1024 * 1024);
                Assert.That(pair.RunUntil(transfer, 60_000), Is.True, "received " + transfer.Received);
                Assert.That(transfer.Mismatches, Is.EqualTo(0));
                Assert.That(pair.B.Counter(NetStatistics.TxPacketAllocFailures), Is.GreaterThan(0), "the pool did run dry");
                for (int i = 0; i < held.Length; i++)
                {
                    held[i].Free();
                }
                CloseAndCheck(pair, client, server, listener);
            });
        }

        /// <summary>Shutdown(Send) with all data acknowledged and no packet to build the FIN with.</summary>
        [Test]
        public void FinWithEmptyPacketPoolDoesNotSpin()
        {
            WithDeadline(() =>
            {
                NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
                Socket client;
                Socket server;
                Socket listener;
                Connected(pair, out client, out server, out listener);
                BulkTransfer transfer = new BulkTransfer(server, client, 100 * 1000);
                transfer.CloseWhenSent = false;
                Assert.That(pair.RunUntil(transfer, 10_000), Is.True);
                pair.Run(100);
                PacketPool pool = pair.DeviceB.TransmitPackets;
                Packet[] held = new Packet[pool.Available];
                for (int i = 0; i < held.Length; i++)
                {
                    held[i] = pool.TryAllocate(0);
                }
                server.Shutdown(SocketShutdown.Send); // FIN cannot be built
                pair.Run(50);
                for (int i = 0; i < held.Length; i++)
                {
                    held[i].Free();
                }
                byte[] buffer = new byte[16];
                SocketError error = SocketError.WouldBlock;
                for (int i = 0; i < 100000 && error == SocketError.WouldBlock; i++)
                {
                    pair.Step();
                    client.Receive(buffer, out error);
                }
                Assert.That(error, Is.EqualTo(SocketError.Success), "FIN arrived (end of stream)");
                CloseAndCheck(pair, client, server, listener);
            });
        }

        /// <summary>
        /// Receiver with a small buffer that stops reading: the window closes while the sender keeps writing
        /// from its poll into a tiny ring. Nothing may spin; reading again resumes the transfer.
        /// </summary>
        [Test]
        public void ZeroWindowWithSenderPollingAndSmallRing()
        {
            WithDeadline(() =>
            {
                NetConfig configA = NetPair.TestConfig();
                configA.TcpReceiveBufferSize = 16 * 1024;
                NetPair pair = new NetPair(configA, NetPair.TestConfig());
                pair.DeviceB.RingSize = 8;
                Socket client;
                Socket server;
                Socket listener;
                Connected(pair, out client, out server, out listener);
                BulkTransfer transfer = new BulkTransfer(server, client, 2 * 1024 * 1024);
                transfer.ReceiverReads = false;
                for (int i = 0; i < 20000; i++)
                {
                    transfer.Pump();
                    pair.Step();
                }
                TcpInfo info;
                server.GetTcpInfo(out info);
                Assert.That(info.SendWindow, Is.EqualTo(0), "peer window closed");
                transfer.ReceiverReads = true;
                Assert.That(pair.RunUntil(transfer, 60_000), Is.True, "received " + transfer.Received);
                Assert.That(transfer.Mismatches, Is.EqualTo(0));
                CloseAndCheck(pair, client, server, listener);
            });
        }

        /// <summary>Four senders share one small ring (iperf3 -R -P 4): each one finishes.</summary>
        [Test]
        public void FourSendersShareASmallRing()
        {
            WithDeadline(() =>
            {
                NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
                pair.DeviceB.RingSize = 24;
                Socket listener = pair.Listen(pair.B, 5201);
                BulkTransfer[] transfers = new BulkTransfer[4];
                Socket[] clients = new Socket[4];
                Socket[] servers = new Socket[4];
                for (int k = 0; k < 4; k++)
                {
                    clients[k] = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
                    clients[k].Connect(new IPEndPoint(NetPair.AddressB, 5201));
                    for (int i = 0; i < 20000 && servers[k] == null; i++)
                    {
                        pair.Step();
                        Socket s;
                        if (listener.Accept(out s) == SocketError.Success)
                        {
                            servers[k] = s;
                        }
                    }
                    Assert.That(servers[k], Is.Not.Null);
                }
                for (int k = 0; k < 4; k++)
                {
                    // Accept order follows the connects here (one at a time), so servers[k] talks to clients[k].
                    transfers[k] = new BulkTransfer(servers[k], clients[k], 3 * 1024 * 1024);
                }
                bool done = false;
                for (int i = 0; i < 600000 && !done; i++)
                {
                    done = true;
                    for (int k = 0; k < 4; k++)
                    {
                        done &= transfers[k].Done();
                    }
                    pair.Step();
                }
                for (int k = 0; k < 4; k++)
                {
                    Assert.That(transfers[k].Received, Is.EqualTo(3 * 1024 * 1024), "stream " + k);
                    Assert.That(transfers[k].Mismatches, Is.EqualTo(0));
                    clients[k].Close();
                    servers[k].Close();
                }
                listener.Close();
                pair.Run(1500);
                string detail;
                Assert.That(pair.AllReturned(out detail), Is.True, detail);
            });
        }

        /// <summary>
        /// The driver's receive packets are few (as virtio-net's 2 × ring size): a connection whose application
        /// stops reading must not take them all, or the host goes deaf (no ACKs, no ARP, no other connection).
        /// </summary>
        [Test]
        public void ReceiverThatStopsReadingDoesNotStarveTheDriver()
        {
            WithDeadline(() =>
            {
                NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 1, 96);
                Socket listener = pair.Listen(pair.B, 5201);
                Socket[] clients = new Socket[2];
                Socket[] servers = new Socket[2];
                for (int k = 0; k < 2; k++)
                {
                    clients[k] = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
                    clients[k].Connect(new IPEndPoint(NetPair.AddressB, 5201));
                    for (int i = 0; i < 20000 && servers[k] == null; i++)
                    {
                        pair.Step();
                        Socket s;
                        if (listener.Accept(out s) == SocketError.Success)
                        {
                            servers[k] = s;
                        }
                    }
                    Assert.That(servers[k], Is.Not.Null);
                }
                BulkTransfer stuck = new BulkTransfer(clients[0], servers[0], 2 * 1024 * 1024);
                stuck.ReceiverReads = false;
                for (int i = 0; i < 5000; i++)
                {
                    stuck.Pump();
                    pair.Step();
                }
                // Either the memory-pressure rule refused segments, or (payload in page fragments) the unread
                // segments were joined into few descriptors (tcp_rcv_coalesced): the driver keeps buffers both ways.
                Assert.That(pair.B.Counter(NetStatistics.TcpRcvMemoryPressure) + pair.B.Counter(NetStatistics.TcpRcvCoalesced),
                    Is.GreaterThan(0), "pressure seen or segments coalesced");
                Assert.That(pair.DeviceB.ReceivePackets.Available, Is.GreaterThan(0), "the driver keeps buffers");
                // Another connection still works while the first one's application sleeps.
                BulkTransfer other = new BulkTransfer(clients[1], servers[1], 512 * 1024);
                for (int i = 0; i < 200000 && !other.Done(); i++)
                {
                    stuck.Pump();
                    pair.Step();
                }
                Assert.That(other.Received, Is.EqualTo(512 * 1024), "the second connection finished");
                Assert.That(other.Mismatches, Is.EqualTo(0));
                stuck.ReceiverReads = true;
                Assert.That(pair.RunUntil(stuck, 120_000), Is.True, "received " + stuck.Received);
                Assert.That(stuck.Mismatches, Is.EqualTo(0));
                for (int k = 0; k < 2; k++)
                {
                    clients[k].Close();
                    servers[k].Close();
                }
                listener.Close();
                pair.Run(1500);
                string detail;
                Assert.That(pair.AllReturned(out detail), Is.True, detail);
            });
        }

        /// <summary>
        /// The application read everything and closed while the peer still sends: the late data is acknowledged
        /// and dropped, never queued on the orphan (it would hold the driver's buffers until the close finishes).
        /// </summary>
        [Test]
        public void DataAfterCloseIsDroppedNotQueued()
        {
            WithDeadline(() =>
            {
                NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
                Socket client;
                Socket server;
                Socket listener;
                Connected(pair, out client, out server, out listener);
                BulkTransfer transfer = new BulkTransfer(client, server, 64 * 1024 * 1024);
                transfer.CloseWhenSent = false;
                for (int i = 0; i < 2000; i++)
                {
                    transfer.Pump();
                    pair.Step();
                }
                Assert.That(transfer.Received, Is.GreaterThan(0));
                SocketError error;
                server.Discard(int.MaxValue, out error);
                server.Close(); // nothing unread: FIN, not RST
                long sentAtClose = transfer.Sent;
                transfer.ReceiverReads = false;
                for (int i = 0; i < 2000; i++)
                {
                    transfer.Pump();
                    pair.Step();
                }
                Assert.That(transfer.Sent, Is.GreaterThan(sentAtClose), "the peer kept sending");
                Assert.That(pair.DeviceB.ReceivePackets.InUse, Is.EqualTo(0), "nothing queued on the closed connection");
                Assert.That(client.PendingError, Is.EqualTo(SocketError.Success), "no reset");
                client.Close();
                listener.Close();
                pair.Run(2000);
                string detail;
                Assert.That(pair.AllReturned(out detail), Is.True, detail);
            });
        }
    }
}
