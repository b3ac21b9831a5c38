using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The two-stack link moving data through loss and reordering: recovery must come from SACK/RACK, and
    /// retransmission timeouts stay rare (counted, not timed: the clock is simulated and seeded).
    /// </summary>
    public class TcpLossRecoveryTests
    {
        internal static bool Debug;

        internal static Socket Connect(NetPair pair, NetStack from, IPv4Address to, int port, out Socket accepted, Socket listener)
        {
            Socket client = from.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(client.Connect(new IPEndPoint(to, port)), Is.EqualTo(SocketError.InProgress));
            accepted = null;
            for (int i = 0; i < 20000 && accepted == null; i++)
            {
                pair.Step();
                Socket s;
                if (listener.Accept(out s) == SocketError.Success)
                {
                    accepted = s;
                }
            }
            Assert.That(accepted, Is.Not.Null, "accept");
            return client;
        }

        internal static TcpInfo Transfer(NetPair pair, int bytes, double loss, double reorder, out bool done, out long simMs, int limitMs = 600_000)
        {
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server;
            Socket client = Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            pair.Link.LossRate = loss;
            pair.Link.ReorderRate = reorder;
            long start = pair.Clock.NowNanoseconds;
            BulkTransfer transfer = new BulkTransfer(client, server, bytes);
            done = false;
            for (int chunk = 0; chunk < limitMs / 1000 && !done; chunk++)
            {
                if (Debug)
                {
                    for (int k = 0; k < 10000 && !done; k++)
                    {
                        pair.Step();
                        done = transfer.Done();
                        if (!client.Tcp.Board.CountersConsistent())
                        {
                            var bd = client.Tcp.Board;
                            string fl = "";
                            for (int q = 0; q < bd.Count; q++) { fl += (bd.Start(q) - client.Tcp.SndUna) + ":" + bd.Length(q) + ":" + bd.Flags(q) + " "; }
                            Assert.Fail(fl + " inconsistent at " + pair.Clock.NowNanoseconds + " ca " + client.Tcp.CaState + " frto " + client.Tcp.Frto + " retr " + client.Tcp.Board.RetransBytes + " count " + client.Tcp.Board.Count);
                        }
                    }
                }
                else
                {
                    done = pair.RunUntil(transfer, 1000);
                }
                if (Debug)
                {
                    TcpInfo d;
                    client.GetTcpInfo(out d);
                    TestContext.Out.WriteLine("t " + chunk + "s received " + transfer.Received + " cwnd " + d.CongestionWindow + " ssthresh " + d.SlowStartThreshold +
                        " inflight " + d.BytesInFlight + " rto " + d.RtoMicroseconds + " timeouts " + d.Timeouts + " state " + d.State + " wnd " + d.SendWindow);
                    var c = client.Tcp;
                    var r = server.Tcp;
                    TestContext.Out.WriteLine("  snd una " + c.SndUna + " max " + c.SndMax + " dataend " + (c.SendBufferSequence + (uint)c.Send.Length) + " sendlen " + c.Send.Length +
                        " ca " + c.CaState + " frto " + c.Frto + " board " + c.Board.Count + " lost " + c.Board.LostBytes + " sacked " + c.Board.SackedBytes + " retr " + c.Board.RetransBytes +
                        " rto@ " + c.RtoDeadline + " tlp@ " + c.TlpDeadline + " rack@ " + c.RackDeadline + " persist@ " + c.PersistDeadline + " now " + pair.Clock.NowNanoseconds +
                        " | rcv nxt " + r.RcvNxt + " adv " + r.RcvAdv + " q " + r.ReceiveQueue.Bytes + " ooo " + r.OooBytes + " sent " + transfer.Sent + " pend " + c.OutputPending + " canTx " + pair.A.CanTransmit);
                }
            }
            simMs = (pair.Clock.NowNanoseconds - start) / 1_000_000;
            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(transfer.Mismatches, Is.EqualTo(0));
            TestContext.Out.WriteLine("loss " + loss + " sim ms " + simMs + " received " + transfer.Received + " lost " + pair.Link.Lost +
                " retrans " + info.TotalRetransmits + " recoveries " + info.Recoveries + " rack " + info.RackLosses +
                " tlp " + info.TlpProbes + " rto " + info.Timeouts + " frto " + info.SpuriousTimeouts + " dsack " + info.DsacksReceived +
                " rtoOpen/Rec/Loss " + client.Tcp.RtoByState[0] + "/" + client.Tcp.RtoByState[1] + "/" + client.Tcp.RtoByState[2] + " paws " + server.Tcp.PawsRejected +
                " sack " + info.SackPermitted + " ts " + info.Timestamps + " cwnd " + info.CongestionWindow + " srtt " + info.RttMicroseconds);
            return info;
        }

        [TestCase(0.0)]
        [TestCase(0.01)]
        [TestCase(0.05)]
        public void OneMegabyte(double loss)
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 7);
            bool done;
            long ms;
            Transfer(pair, 1 << 20, loss, 0, out done, out ms, 60_000);
            Assert.That(done, Is.True);
        }

        [Test]
        public void TenDebug()
        {
            Debug = true;
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 42);
            pair.Link.DuplicateRate = 0.01;
            bool done;
            long ms;
            Transfer(pair, 10 << 20, 0.05, 0.05, out done, out ms, 30_000);
            Debug = false;
            Assert.That(done, Is.True);
        }

        [TestCase(0.0)]
        [TestCase(0.05)]
        public void OneMegabyteReordered(double loss)
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 42);
            pair.Link.DuplicateRate = 0.01;
            bool done;
            long ms;
            Transfer(pair, 1 << 20, loss, 0.05, out done, out ms, 60_000);
            Assert.That(done, Is.True);
        }
    }
}
