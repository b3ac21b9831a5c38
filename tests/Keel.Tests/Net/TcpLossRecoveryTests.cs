using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The two-stack link moving data through loss and reordering: recovery must come from SACK/RACK, and
    /// retransmission timeouts stay rare (counted, not timed: the clock is simulated and seeded).
    /// </summary>
    public class TcpLossRecoveryTests
    {

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
                // Step by step, checking the sender's invariants (sequence space, scoreboard inside the send window
                // with its counters matching its records, bytes in flight) throughout.
                for (int k = 0; k < 10000 && !done; k++)
                {
                    pair.Step();
                    done = transfer.Done();
                    Assert.That(client.Tcp.CheckInvariants(), Is.Null, "sender invariants");
                }
            }
            simMs = (pair.Clock.NowNanoseconds - start) / 1_000_000;
            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(transfer.Mismatches, Is.EqualTo(0));
            TestContext.Out.WriteLine("loss " + loss + " sim ms " + simMs + " received " + transfer.Received + " lost " + pair.Link.Lost +
                " retrans " + info.TotalRetransmits + " recoveries " + info.Recoveries + " rack " + info.RackLosses +
                " tlp " + info.TlpProbes + " rto " + info.Timeouts + " frto " + info.SpuriousTimeouts + " dsack " + info.DsacksReceived +
                " rtoOpen/Rec/Loss " + client.Tcp.Stats.RtoIn(TcpCaState.Open) + "/" + client.Tcp.Stats.RtoIn(TcpCaState.Recovery) + "/" + client.Tcp.Stats.RtoIn(TcpCaState.Loss) + " paws " + server.Tcp.Stats.PawsRejected +
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

        /// <summary>
        /// 10 MB byte-exact at 1 % and 5 % loss (each direction of the link) with 5 % reordering and 1 %
        /// duplication, minimum RTO 200 ms (the kernel's default). Losses must be repaired by SACK/RACK (and tail
        /// loss probes); stated bound: at most 60 retransmission timeouts per 1,000 segments lost on the link.
        /// </summary>
        [TestCase(0.01)]
        [TestCase(0.05)]
        public void TenMegabytesRecoverBySackAndRack(double loss)
        {
            NetConfig a = NetPair.TestConfig();
            NetConfig b = NetPair.TestConfig();
            a.TcpMinRto = b.TcpMinRto = Duration.FromMilliseconds(200);
            NetPair pair = new NetPair(a, b, 42);
            pair.Link.DuplicateRate = 0.01;
            bool done;
            long ms;
            TcpInfo info = Transfer(pair, 10 << 20, loss, 0.05, out done, out ms, 120_000);
            Assert.That(done, Is.True);
            Assert.That(info.SackPermitted && info.Timestamps, Is.True);
            Assert.That(info.Recoveries, Is.GreaterThan(0));
            Assert.That(info.RackLosses, Is.GreaterThan(0), "losses found by RACK / the SACK scoreboard");
            long losses = pair.Link.Lost;
            Assert.That(info.Timeouts * 1000, Is.LessThanOrEqualTo(60 * losses), "RTOs per 1,000 losses");
            Assert.That(info.FastRetransmits, Is.GreaterThan(info.Timeouts));
            if (loss >= 0.05)
            {
                Assert.That(info.TlpProbes, Is.GreaterThan(0), "tail loss probes sent");
            }
        }

        /// <summary>
        /// A delay spike longer than the RTO (RFC 5682's motivating case): the timeout fires although nothing was
        /// lost; the ACKs that then arrive acknowledge data that was never retransmitted, so F-RTO declares the
        /// timeout spurious and restores cwnd and ssthresh.
        /// </summary>
        [Test]
        public void FrtoUndoesASpuriousTimeoutAfterADelaySpike()
        {
            NetConfig a = NetPair.TestConfig();
            NetConfig b = NetPair.TestConfig();
            a.TcpMinRto = b.TcpMinRto = Duration.FromMilliseconds(200);
            NetPair pair = new NetPair(a, b, 11);
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server;
            Socket client = Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            BulkTransfer transfer = new BulkTransfer(client, server, 64L << 20);
            transfer.CloseWhenSent = false;
            pair.RunUntil(new Never(transfer), 300); // steady state
            long cwndBefore = client.Tcp.Cwnd;
            pair.Link.DelayNanoseconds = 400_000_000; // every frame sent now arrives 400 ms later
            pair.RunUntil(new Never(transfer), 20);
            pair.Link.DelayNanoseconds = 500_000;
            pair.RunUntil(new Never(transfer), 1500);
            TcpInfo info;
            client.GetTcpInfo(out info);
            TestContext.Out.WriteLine("cwnd before " + cwndBefore + " after " + info.CongestionWindow + " rto " + info.Timeouts + " spurious " + info.SpuriousTimeouts);
            Assert.That(info.Timeouts, Is.GreaterThan(0), "the spike caused a timeout");
            Assert.That(info.SpuriousTimeouts, Is.GreaterThan(0), "F-RTO found it spurious");
            Assert.That(transfer.Mismatches, Is.Zero);
        }

        private sealed class Never : ICondition
        {
            private readonly BulkTransfer _transfer;

            public Never(BulkTransfer transfer)
            {
                _transfer = transfer;
            }

            public bool Done()
            {
                _transfer.Pump();
                return false;
            }
        }

        [Test]
        public void NewRenoFallbackWithoutSack()
        {
            NetConfig a = NetPair.TestConfig();
            NetConfig b = NetPair.TestConfig();
            b.TcpSack = false; // the receiver does not offer SACK: the sender recovers by duplicate ACKs
            a.TcpCongestionControl = TcpCongestionAlgorithm.NewReno;
            NetPair pair = new NetPair(a, b, 3);
            bool done;
            long ms;
            TcpInfo info = Transfer(pair, 2 << 20, 0.01, 0, out done, out ms, 60_000);
            Assert.That(done, Is.True);
            Assert.That(info.SackPermitted, Is.False);
            Assert.That(info.Timestamps, Is.True);
            Assert.That(info.CongestionControl, Is.EqualTo("newreno"));
            Assert.That(info.FastRetransmits, Is.GreaterThan(0), "three duplicate ACKs");
            Assert.That(info.TlpProbes, Is.Zero, "no tail loss probes without SACK");
        }

        [Test]
        public void CubicIsTheDefault()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 5);
            bool done;
            long ms;
            TcpInfo info = Transfer(pair, 1 << 20, 0, 0, out done, out ms, 10_000);
            Assert.That(done, Is.True);
            Assert.That(info.CongestionControl, Is.EqualTo("cubic"));
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
