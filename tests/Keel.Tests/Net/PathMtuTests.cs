using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// Path-MTU discovery for TCP (RFC 1191) with RFC 5927's checks: ICMP fragmentation needed quoting a segment in
    /// flight lowers the MSS and resends the flight at once in smaller segments without a cwnd reduction; messages
    /// that do not fit a connection are counted and ignored; the MTU is clamped at 552 bytes.
    /// </summary>
    public class PathMtuTests
    {
        private const int Ipv4Header = 20;
        private const int TcpHeader = 20;
        private const int TimestampOption = 12; // RFC 7323 appendix A layout: NOP, NOP, kind 8 length 10

        /// <summary>
        /// A connection from A to B whose initial window was sent in full-sized segments (1500-byte datagrams) and
        /// dropped by a router on the link with a 1000-byte MTU that has not answered yet.
        /// </summary>
        private static Socket FlightDropped(NetPair pair, out BulkTransfer transfer)
        {
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server;
            Socket client = TcpLossRecoveryTests.Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(info.PathMtu, Is.EqualTo(1500), "the device's MTU until ICMP says otherwise");
            Assert.That(info.SendMss, Is.EqualTo(1500 - Ipv4Header - TcpHeader - TimestampOption));
            pair.Link.PathMtu = 1000;
            pair.Link.AnswerFragmentationNeeded = false;
            transfer = new BulkTransfer(client, server, 300_000);
            for (int i = 0; i < 100 && pair.Link.TooBig == 0; i++)
            {
                transfer.Done();
                pair.Step();
            }
            Assert.That(pair.Link.TooBig, Is.GreaterThan(1), "the initial window was dropped by the narrower hop");
            Assert.That(client.Tcp.Stats.Timeouts + client.Tcp.Stats.LossProbes, Is.Zero, "nothing resent yet");
            return client;
        }

        private static void InjectIntoA(NetPair pair, byte[] frame)
        {
            pair.DeviceA.Inject(frame);
            pair.A.ReceiveBatchDone();
        }

        private static int TotalLength(byte[] f) => (f[16] << 8) | f[17];

        private static bool DontFragment(byte[] f) => (f[20] & 0x40) != 0;

        private static uint Sequence(byte[] f) => Frames.Get32(f, 14 + (f[14] & 15) * 4 + 4);

        private static int Payload(byte[] f)
        {
            int ihl = (f[14] & 15) * 4;
            return TotalLength(f) - ihl - (f[14 + ihl + 12] >> 4) * 4;
        }

        /// <summary>The TCP data frames A sent (source address 198.18.0.1, protocol 6, with payload).</summary>
        private static List<byte[]> DataFromA(List<byte[]> frames)
        {
            List<byte[]> result = new List<byte[]>();
            foreach (byte[] f in frames)
            {
                if (f.Length >= 54 && f[12] == 8 && f[13] == 0 && f[23] == 6 && f[26] == 198 && f[29] == 1 && Payload(f) > 0)
                {
                    result.Add(f);
                }
            }
            return result;
        }

        [TestCase(false)]
        [TestCase(true)]
        public void FragmentationNeededLowersTheMssAndResendsTheFlightAtOnceWithCwndUnchanged(bool offloads)
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 3, offloads: offloads);
            BulkTransfer transfer;
            Socket client = FlightDropped(pair, out transfer);
            TcpConnection c = client.Tcp;
            uint una = c.Snd.Una;
            uint max = c.Snd.Max;
            long cwnd = c.Cwnd;
            Assert.That(max - una, Is.GreaterThan(2u * 1448), "several full-sized segments in flight");

            pair.Link.Record = new List<byte[]>();
            InjectIntoA(pair, Frames.FragmentationNeeded(pair.Link.TooBigFrames[0], 1000));

            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(info.PathMtu, Is.EqualTo(1000));
            Assert.That(info.SendMss, Is.EqualTo(1000 - Ipv4Header - TcpHeader - TimestampOption), "MTU less headers less the timestamps option");
            Assert.That(c.Cwnd, Is.EqualTo(cwnd), "no congestion-window reduction (Linux tcp_simple_retransmit)");
            Assert.That(info.Recoveries, Is.Zero);
            Assert.That(pair.A.Counter(NetStatistics.IcmpFragNeededRx), Is.EqualTo(1));
            Assert.That(pair.A.Counter(NetStatistics.IcmpFragNeededIgnored), Is.Zero);
            Assert.That(pair.A.Counter(NetStatistics.TcpPmtuReductions), Is.EqualTo(1));

            // Resent at once (before any timer), in pieces of the new MSS that cover the whole flight.
            List<byte[]> sent = DataFromA(pair.Link.Record);
            Assert.That(sent.Count, Is.GreaterThan(0), "retransmitted without waiting for a timer");
            sent.Sort((x, y) => TcpSequence.Lt(Sequence(x), Sequence(y)) ? -1 : Sequence(x) == Sequence(y) ? 0 : 1);
            uint next = una;
            foreach (byte[] f in sent)
            {
                Assert.That(TotalLength(f), Is.LessThanOrEqualTo(1000), "no datagram above the path MTU");
                Assert.That(Payload(f), Is.LessThanOrEqualTo(1000 - Ipv4Header - TcpHeader - TimestampOption));
                Assert.That(DontFragment(f), Is.True, "DF stays set above the minimum");
                Assert.That(Sequence(f), Is.EqualTo(next), "contiguous from SND.UNA");
                next = Sequence(f) + (uint)Payload(f);
            }
            Assert.That(next, Is.EqualTo(max), "everything in flight was resent");
            Assert.That(c.Board.CountersConsistent(), Is.True);

            // The rest of the transfer fits the path: nothing more is dropped and no timer had to fire.
            long tooBig = pair.Link.TooBig;
            pair.Link.Record = null;
            pair.Link.AnswerFragmentationNeeded = true;
            Assert.That(pair.RunUntil(transfer, 30_000), Is.True);
            Assert.That(transfer.Mismatches, Is.Zero);
            Assert.That(pair.Link.TooBig, Is.EqualTo(tooBig), "every later segment fits the path MTU");
            client.GetTcpInfo(out info);
            Assert.That(info.Timeouts, Is.Zero);
            Assert.That(info.Recoveries, Is.Zero, "the resent pieces did not start fast recovery (no reduction later either)");
        }

        /// <summary>
        /// The loss state the resend entered is not a timeout's: a real timeout right after it (the path went dead)
        /// still takes ssthresh from the congestion control and cuts cwnd to one segment (RFC 5681 section 3.1).
        /// </summary>
        [Test]
        public void TimeoutAfterTheResendStillReducesSsthresh()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 8);
            BulkTransfer transfer;
            Socket client = FlightDropped(pair, out transfer);
            TcpConnection c = client.Tcp;
            InjectIntoA(pair, Frames.FragmentationNeeded(pair.Link.TooBigFrames[0], 1000));
            Assert.That(c.Ssthresh, Is.EqualTo(CongestionControl.MaxCongestionWindow), "slow start goes on after the resend");
            pair.Link.Cut = true;
            for (int i = 0; i < 100_000 && c.Stats.Timeouts == 0; i++)
            {
                pair.Step();
            }
            Assert.That(c.Stats.Timeouts, Is.EqualTo(1));
            Assert.That(c.Ssthresh, Is.LessThan(CongestionControl.MaxCongestionWindow));
            Assert.That(c.Cwnd, Is.EqualTo(c.SendMss));
        }

        [Test]
        public void FragmentationNeededThatFitsNoSegmentInFlightIsCountedAndIgnored()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 4);
            BulkTransfer transfer;
            Socket client = FlightDropped(pair, out transfer);
            TcpConnection c = client.Tcp;
            long cwnd = c.Cwnd;
            int mss = c.SendMss;
            byte[] quoted = pair.Link.TooBigFrames[0];
            int tcp = 14 + (quoted[14] & 15) * 4;

            // RFC 5927 section 4.1: the quoted sequence number must be in [SND.UNA, SND.MAX).
            byte[] beyond = (byte[])quoted.Clone();
            Frames.Put32(beyond, tcp + 4, c.Snd.Max);
            byte[] acked = (byte[])quoted.Clone();
            Frames.Put32(acked, tcp + 4, c.Snd.Una - 1);
            // A connection that does not exist (another local port).
            byte[] unknown = (byte[])quoted.Clone();
            unknown[tcp] ^= 0x40;
            pair.Link.Record = new List<byte[]>();
            InjectIntoA(pair, Frames.FragmentationNeeded(beyond, 1000));
            InjectIntoA(pair, Frames.FragmentationNeeded(acked, 1000));
            InjectIntoA(pair, Frames.FragmentationNeeded(unknown, 1000));
            // Too short: RFC 792 asks for 8 bytes of the datagram after the IP header; 4 hold no sequence number.
            InjectIntoA(pair, Frames.FragmentationNeeded(quoted, 1000, 4));

            Assert.That(pair.A.Counter(NetStatistics.IcmpFragNeededRx), Is.EqualTo(4));
            Assert.That(pair.A.Counter(NetStatistics.IcmpFragNeededIgnored), Is.EqualTo(4));
            Assert.That(pair.A.Counter(NetStatistics.TcpPmtuReductions), Is.Zero);
            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(info.PathMtu, Is.EqualTo(1500));
            Assert.That(info.SendMss, Is.EqualTo(mss));
            Assert.That(c.Cwnd, Is.EqualTo(cwnd));
            Assert.That(DataFromA(pair.Link.Record), Is.Empty, "nothing resent");

            // An MTU not below the current path MTU is taken (in window) but changes nothing.
            InjectIntoA(pair, Frames.FragmentationNeeded(quoted, 1500));
            Assert.That(pair.A.Counter(NetStatistics.IcmpFragNeededIgnored), Is.EqualTo(4));
            client.GetTcpInfo(out info);
            Assert.That(info.PathMtu, Is.EqualTo(1500));
            Assert.That(pair.A.Counter(NetStatistics.TcpPmtuReductions), Is.Zero);
        }

        /// <summary>
        /// Below 552 the MTU is clamped (and DF cleared, so a router below it may fragment); a router that reports no
        /// MTU (0, before RFC 1191) gives the plateau below the quoted 1500-byte datagram, 1492 (section 7).
        /// </summary>
        [TestCase(300, 552, false)]
        [TestCase(68, 552, false)]
        [TestCase(0, 1492, true)]
        public void ReportedMtuIsClampedOrGuessed(int reported, int pathMtu, bool dontFragment)
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 5);
            BulkTransfer transfer;
            Socket client = FlightDropped(pair, out transfer);
            pair.Link.Record = new List<byte[]>();
            InjectIntoA(pair, Frames.FragmentationNeeded(pair.Link.TooBigFrames[0], reported));
            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(info.PathMtu, Is.EqualTo(pathMtu));
            Assert.That(info.SendMss, Is.EqualTo(pathMtu - Ipv4Header - TcpHeader - TimestampOption));
            Assert.That(pair.A.Counter(NetStatistics.TcpPmtuReductions), Is.EqualTo(1));
            List<byte[]> sent = DataFromA(pair.Link.Record);
            Assert.That(sent.Count, Is.GreaterThan(0));
            foreach (byte[] f in sent)
            {
                Assert.That(TotalLength(f), Is.LessThanOrEqualTo(pathMtu));
                Assert.That(DontFragment(f), Is.EqualTo(dontFragment));
            }
            // The narrower hop (1000) passes datagrams without DF and answers those with it: either way it completes.
            pair.Link.Record = null;
            pair.Link.AnswerFragmentationNeeded = true;
            Assert.That(pair.RunUntil(transfer, 30_000), Is.True);
            Assert.That(transfer.Mismatches, Is.Zero);
        }

        /// <summary>RFC 1191 section 7, table 7-1: the plateaus 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68.</summary>
        [TestCase(65535, 32000)]
        [TestCase(32000, 17914)]
        [TestCase(17914, 8166)]
        [TestCase(9000, 8166)]
        [TestCase(4464, 4352)]
        [TestCase(4352, 2002)]
        [TestCase(2002, 1492)]
        [TestCase(1500, 1492)]
        [TestCase(1492, 1006)]
        [TestCase(1006, 508)]
        [TestCase(576, 508)]
        [TestCase(508, 296)]
        [TestCase(296, 68)]
        public void PlateauBelowTheDatagram(int totalLength, int plateau)
        {
            Assert.That(PathMtuDiscovery.PlateauBelow(totalLength), Is.EqualTo(plateau));
        }

        /// <summary>
        /// The same hop with 3 % loss and 3 % reordering each way (the ICMP answers and the resent pieces can be lost
        /// too): byte-exact, one reduction, the scoreboard's counters consistent after every step.
        /// </summary>
        [TestCase(false)]
        [TestCase(true)]
        public void NarrowerHopWithLossAndReorderingCompletesByteExact(bool offloads)
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 3, offloads: offloads);
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server;
            Socket client = TcpLossRecoveryTests.Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            pair.Link.PathMtu = 1000;
            pair.Link.LossRate = 0.03;
            pair.Link.ReorderRate = 0.03;
            BulkTransfer transfer = new BulkTransfer(client, server, 2 << 20);
            bool done = false;
            for (int k = 0; k < 600_000 && !done; k++)
            {
                pair.Step();
                done = transfer.Done();
                Assert.That(client.Tcp.Board.CountersConsistent(), Is.True, "scoreboard counters");
            }
            Assert.That(done, Is.True);
            Assert.That(transfer.Received, Is.EqualTo(2 << 20));
            Assert.That(transfer.Mismatches, Is.Zero);
            Assert.That(pair.Link.Lost, Is.GreaterThan(0));
            Assert.That(pair.A.Counter(NetStatistics.TcpPmtuReductions), Is.EqualTo(1));
            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(info.PathMtu, Is.EqualTo(1000));
        }

        /// <summary>
        /// A megabyte over a link whose middle hop has a 1000-byte MTU and answers bigger DF datagrams with ICMP
        /// fragmentation needed (the path a tunnel or PPPoE link makes): one reduction, no black hole, no timeout.
        /// </summary>
        [TestCase(false, true)]
        [TestCase(true, true)]
        [TestCase(false, false)]
        public void BulkTransferOverANarrowerHopCompletesByteExact(bool offloads, bool sackAndTimestamps)
        {
            NetConfig config = NetPair.TestConfig();
            config.TcpSack = sackAndTimestamps;
            config.TcpTimestamps = sackAndTimestamps;
            NetPair pair = new NetPair(config, NetPair.TestConfig(), 6, offloads: offloads);
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server;
            Socket client = TcpLossRecoveryTests.Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            pair.Link.PathMtu = 1000;
            BulkTransfer transfer = new BulkTransfer(client, server, 1 << 20);
            Assert.That(pair.RunUntil(transfer, 60_000), Is.True);
            Assert.That(transfer.Received, Is.EqualTo(1 << 20));
            Assert.That(transfer.Mismatches, Is.Zero);
            TcpInfo info;
            client.GetTcpInfo(out info);
            Assert.That(info.PathMtu, Is.EqualTo(1000));
            Assert.That(info.SendMss, Is.EqualTo(1000 - Ipv4Header - TcpHeader - (sackAndTimestamps ? TimestampOption : 0)));
            Assert.That(info.Timeouts, Is.Zero, "repaired by the ICMP message, not by a timeout");
            Assert.That(pair.A.Counter(NetStatistics.TcpPmtuReductions), Is.EqualTo(1));
            Assert.That(pair.Link.TooBig, Is.GreaterThan(0));
            Assert.That(pair.Link.TooBig, Is.LessThanOrEqualTo(NetPair.TestConfig().TcpInitialWindowSegments), "only the first flight was too big");
            Assert.That(pair.A.Counter(NetStatistics.IcmpFragNeededRx), Is.EqualTo(pair.Link.TooBig));

            TextCapture net = new TextCapture();
            pair.A.PrintStatus(net);
            Assert.That(net.Text, Does.Contain(" pmtu 1000 "));
            string detail;
            Assert.That(pair.AllReturned(out detail), Is.True, detail);
        }
    }
}
