using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net.Conformance
{
    /// <summary>
    /// Congestion control (RFC 5681 with the initial window of RFC 6928), the retransmission timer (RFC 6298),
    /// RACK-TLP (RFC 8985) and delayed ACKs (RFC 1122 4.2.3.2, RFC 5681 4.2).
    /// </summary>
    public class CongestionAndTimerTests
    {
        private const uint P = TcpHarness.PeerIss;
        private const int M = 1000;

        private static TcpHarness Sender(int bytes, System.Action<NetConfig> configure = null)
        {
            TcpHarness h = new TcpHarness(c =>
            {
                c.TcpCongestionControl = TcpCongestionAlgorithm.NewReno;
                configure?.Invoke(c);
            });
            h.EstablishPassive(Seg.Syn(P, mss: M, ws: 7, sackOk: true), rttMs: 100);
            if (bytes > 0)
            {
                h.Write(bytes);
            }
            return h;
        }

        // ------------------------------------------------------------ RFC 5681

        [Test, Rfc("5681 3.1; 6928 2")]
        public void TheInitialWindowIsTenSegments()
        {
            TcpHarness h = Sender(30 * M);
            Assert.That(h.SentBytes(), Is.EqualTo(10 * M));
        }

        [Test, Rfc("5681 3.1 (slow start)")]
        public void SlowStartGrowsTheWindowByTheBytesAcked()
        {
            TcpHarness h = Sender(60 * M);
            h.OutAll();
            h.Advance(50);
            h.Send(Seg.Ack(P + 1, h.Iss + 1 + 10 * M));
            // cwnd grew from 10 to 20 segments: 20 more segments may leave.
            Assert.That(h.SentBytes(), Is.EqualTo(20 * M));
        }

        [Test, Rfc("5681 3.2 (fast retransmit)")]
        public void TheThirdDuplicateAckRetransmitsTheFirstSegment()
        {
            TcpHarness h = TcpHarnessWithoutSack(6 * M);
            h.OutAll();
            uint b = h.Iss + 1;
            h.Send(Seg.Ack(P + 1, b));
            h.Send(Seg.Ack(P + 1, b));
            h.ExpectNothing("two duplicates are not enough");
            h.Send(Seg.Ack(P + 1, b));
            Seg r = h.Out();
            Assert.That(r.Sequence, Is.EqualTo(b));
            Assert.That(r.PayloadLength, Is.EqualTo(M));
        }

        /// <remarks>
        /// A flight of the whole congestion window (10 segments): FlightSize / 2 and cwnd / 2 agree. With less in
        /// flight than cwnd allows, Keel halves cwnd as Linux does (tcp_reno_ssthresh) where RFC 5681 halves
        /// FlightSize: a deliberate Linux-like choice.
        /// </remarks>
        [Test, Rfc("5681 3.2 (step 2)")]
        public void SsthreshIsHalfTheFlightAfterFastRetransmit()
        {
            TcpHarness h = TcpHarnessWithoutSack(30 * M);
            Assert.That(h.OutAll().Count, Is.EqualTo(10));
            uint b = h.Iss + 1;
            for (int i = 0; i < 3; i++)
            {
                h.Send(Seg.Ack(P + 1, b));
            }
            h.OutAll();
            Assert.That(h.Info.SlowStartThreshold, Is.EqualTo(5 * M), "max(FlightSize / 2, 2 * SMSS)");
        }

        [Test, Rfc("5681 3.2 (step 6); 6582 3.2")]
        public void AFullAckEndsRecoveryWithCwndAtSsthresh()
        {
            TcpHarness h = TcpHarnessWithoutSack(8 * M);
            h.OutAll();
            uint b = h.Iss + 1;
            for (int i = 0; i < 3; i++)
            {
                h.Send(Seg.Ack(P + 1, b));
            }
            h.OutAll();
            h.Send(Seg.Ack(P + 1, b + 8 * M));
            Assert.That(h.Info.CongestionWindow, Is.LessThanOrEqualTo(h.Info.SlowStartThreshold + M), "deflated to about ssthresh");
        }

        [Test, Rfc("5681 4.2")]
        public void OutOfOrderDataIsAckedImmediately()
        {
            TcpHarness h = Sender(0);
            h.Send(Seg.Data(P + 1 + 1000, h.Iss + 1, 100));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 1), "a duplicate ACK at once");
        }

        [Test, Rfc("5681 4.2")]
        public void FillingAHoleIsAckedImmediately()
        {
            TcpHarness h = Sender(0);
            h.Send(Seg.Data(P + 1 + 100, h.Iss + 1, 100));
            h.Out();
            h.Send(Seg.Data(P + 1, h.Iss + 1, 100));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 201));
        }

        private static TcpHarness TcpHarnessWithoutSack(int bytes)
        {
            TcpHarness h = new TcpHarness(c =>
            {
                c.TcpCongestionControl = TcpCongestionAlgorithm.NewReno;
                c.TcpSack = false;
            });
            h.EstablishPassive(Seg.Syn(P, mss: M), rttMs: 100);
            h.Write(bytes);
            return h;
        }

        // ------------------------------------------------------------ RFC 6298

        [Test, Rfc("6298 2.1; 5.5")]
        public void TheSynIsRetransmittedAfterOneSecondThenTwo()
        {
            TcpHarness h = new TcpHarness();
            Seg syn = h.OpenActive();
            Assert.That(h.AdvanceUntilOut(1500), Is.EqualTo(1000), "initial RTO 1 s");
            Assert.That(h.Out().Sequence, Is.EqualTo(syn.Sequence));
            Assert.That(h.AdvanceUntilOut(3000), Is.EqualTo(2000), "backed off: 2 s");
            Assert.That(h.Out().Has(TcpFlags.Syn), Is.True);
        }

        /// <remarks>
        /// RFC 6298 5.7: when the SYN had to be retransmitted and the RTO in use is below 3 s, the RTO is set to 3 s
        /// when data transmission begins (no RTT sample was taken, by Karn's rule).
        /// </remarks>
        [Test, Rfc("6298 5.7")]
        public void AfterALostSynTheDataRtoIsThreeSeconds()
        {
            TcpHarness h = new TcpHarness(c => c.TcpTimestamps = false);
            Seg syn = h.OpenActive();
            Assert.That(h.AdvanceUntilOut(1500), Is.EqualTo(1000));
            h.Out();
            h.Send(Seg.SynAck(P, h.Iss + 1, win: 65535, mss: 1460));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 1));
            Assert.That(h.Info.RtoMicroseconds, Is.GreaterThanOrEqualTo(3000000));
        }

        /// <remarks>
        /// With one segment in flight the tail loss probe comes first, at 2 * SRTT plus an allowance for the peer's
        /// delayed ACK. RFC 8985 7.2 recommends 200 ms (WCDelAckT) for that allowance; Keel allows 40 ms, Linux's
        /// delayed ACK, a deliberate choice for the Linux peers it talks to. The probe re-arms the RTO (7.3).
        /// </remarks>
        [Test, Rfc("6298 2.2; 5.1; 8985 7.2, 7.3")]
        public void DataIsRetransmittedAfterTheRtoOfTheFirstSample()
        {
            TcpHarness h = Sender(0);
            // One sample (the handshake) R = 100 ms: SRTT = 100, RTTVAR = 50, RTO = SRTT + 4 * RTTVAR = 300 ms.
            Assert.That(h.Info.RtoMicroseconds, Is.EqualTo(300000));
            h.Write(M);
            h.Out();
            Assert.That(h.AdvanceUntilOut(1000), Is.EqualTo(2 * 100 + 40), "the probe: 2 * SRTT + 40 ms");
            Assert.That(h.Out().Sequence, Is.EqualTo(h.Iss + 1));
            Assert.That(h.AdvanceUntilOut(1000), Is.EqualTo(300), "then the RTO, restarted by the probe");
            Assert.That(h.Out().Sequence, Is.EqualTo(h.Iss + 1));
            Assert.That(h.Info.Timeouts, Is.EqualTo(1));
        }

        [Test, Rfc("6298 2.3")]
        public void LaterSamplesAreSmoothed()
        {
            TcpHarness h = Sender(0);
            h.Write(M);
            h.Out();
            h.Advance(200);
            h.Send(Seg.Ack(P + 1, h.Iss + 1 + M));
            // RTTVAR = 3/4 * 50 + 1/4 * |100 - 200| = 62.5; SRTT = 7/8 * 100 + 1/8 * 200 = 112.5.
            Assert.That(h.Info.RttMicroseconds, Is.EqualTo(112500).Within(1000));
            Assert.That(h.Info.RttVarMicroseconds, Is.EqualTo(62500).Within(1000));
        }

        [Test, Rfc("6298 5.5; 5.6")]
        public void TheRtoDoublesOnEachTimeout()
        {
            TcpHarness h = Sender(0);
            h.Write(M);
            h.Out();
            List<long> gaps = new List<long>();
            for (int i = 0; i < 4; i++)
            {
                long waited = h.AdvanceUntilOut(70000);
                h.OutAll();
                gaps.Add(waited);
            }
            // The last two timeouts follow RTO expiries (any tail loss probe comes first): the gap doubles.
            Assert.That(gaps[3], Is.EqualTo(2 * gaps[2]).Within(2), string.Join(",", gaps));
        }

        [Test, Rfc("6298 5.2")]
        public void TheTimerStopsWhenEverythingIsAcked()
        {
            TcpHarness h = Sender(0);
            h.Write(M);
            h.Out();
            h.Advance(10);
            h.Send(Seg.Ack(P + 1, h.Iss + 1 + M));
            Assert.That(h.AdvanceUntilOut(5000), Is.EqualTo(-1), "nothing outstanding, nothing retransmitted");
        }

        [Test, Rfc("6298 3 (Karn)")]
        public void AnAckOfARetransmissionGivesNoSample()
        {
            TcpHarness h = new TcpHarness(c => c.TcpTimestamps = false);
            h.EstablishPassive(Seg.Syn(P, mss: M));
            h.Write(M);
            h.Out();
            h.AdvanceUntilOut(5000);
            h.OutAll();
            long rto = h.Info.RtoMicroseconds;
            h.Advance(5);
            h.Send(Seg.Ack(P + 1, h.Iss + 1 + M));
            Assert.That(h.Info.RttMicroseconds, Is.Not.EqualTo(5000), "no 5 ms sample from the retransmitted segment");
        }

        // ------------------------------------------------------------ RFC 8985

        [Test, Rfc("8985 7.2; 7.3")]
        public void ATailLossProbeComesBeforeTheRto()
        {
            TcpHarness h = Sender(4 * M);
            Assert.That(h.OutAll().Count, Is.EqualTo(4));
            long waited = h.AdvanceUntilOut(1000);
            // PTO = 2 * SRTT = 200 ms (more than one segment in flight), below the RTO of 300 ms.
            Assert.That(waited, Is.EqualTo(200).Within(2));
            Seg probe = h.Out();
            Assert.That(probe.Sequence, Is.EqualTo(h.Iss + 1 + 3 * M), "no new data: the last segment is sent again");
            Assert.That(h.Info.TlpProbes, Is.EqualTo(1));
        }

        [Test, Rfc("8985 7.3")]
        public void TheProbeSendsNewDataWhenThereIsSome()
        {
            TcpHarness h = Sender(12 * M);
            Assert.That(h.OutAll().Count, Is.EqualTo(10), "the initial window");
            long waited = h.AdvanceUntilOut(1000);
            Assert.That(waited, Is.EqualTo(200).Within(2), "PTO = 2 * SRTT");
            Seg probe = h.Out();
            Assert.That(probe.Sequence, Is.EqualTo(h.Iss + 1 + 10 * M), "a previously unsent segment");
            Assert.That(h.Info.TlpProbes, Is.EqualTo(1));
        }

        [Test, Rfc("8985 6.2 (RACK reordering window)")]
        public void RackMarksAnEarlierSegmentLostAfterTheReorderingWindow()
        {
            TcpHarness h = Sender(3 * M);
            h.OutAll();
            uint b = h.Iss + 1;
            h.Advance(100);
            // Only the second segment is SACKed: one segment above the hole, fewer than DupThresh.
            h.Send(Seg.Ack(P + 1, b).WithSack((b + M, b + 2 * M)));
            long waited = h.AdvanceUntilOut(1000);
            Seg r = h.Out();
            Assert.That(r.Sequence, Is.EqualTo(b), "the first segment, sent before the SACKed one, is lost");
            Assert.That(waited, Is.LessThanOrEqualTo(100 / 4 + 2), "within RACK.reo_wnd = RACK.min_RTT / 4");
        }

        // ------------------------------------------------------------ RFC 1122 4.2.3.2

        /// <summary>A connection that has received 20 small segments 100 ms apart (past any quick-ACK phase): RCV.NXT = P + 201.</summary>
        private static TcpHarness PastQuickAcks()
        {
            TcpHarness h = Sender(0);
            for (uint i = 0; i < 20; i++)
            {
                h.Send(Seg.Data(P + 1 + i * 10, h.Iss + 1, 10));
                h.Advance(100);
            }
            h.OutAll();
            return h;
        }

        [Test, Rfc("1122 4.2.3.2")]
        public void AnAckIsNotDelayedMoreThanHalfASecond()
        {
            TcpHarness h = Sender(0);
            h.Send(Seg.Data(P + 1, h.Iss + 1, 10));
            h.Send(Seg.Data(P + 11, h.Iss + 1, 10));
            h.OutAll();
            h.Advance(1000);
            h.Send(Seg.Data(P + 21, h.Iss + 1, 10));
            long waited = h.AdvanceUntilOut(600);
            Assert.That(waited, Is.InRange(0, 500));
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 31));
        }

        [Test, Rfc("1122 4.2.3.2; 5681 4.2")]
        public void EverySecondFullSizedSegmentIsAcked()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(Seg.Syn(P, mss: 1460));
            for (uint i = 0; i < 6; i++)
            {
                h.Send(Seg.Data(P + 1 + i * 1460, h.Iss + 1, 1460));
            }
            List<Seg> acks = h.OutAll();
            Assert.That(acks.Count, Is.GreaterThanOrEqualTo(3), "at least one ACK per two full-sized segments");
            Assert.That(acks[acks.Count - 1].Acknowledgment, Is.EqualTo(P + 1 + 6 * 1460));
        }

        [Test, Rfc("1122 4.2.3.2")]
        public void TheAckRidesOnDataSentBeforeTheDelayEnds()
        {
            TcpHarness h = PastQuickAcks();
            h.Send(Seg.Data(P + 201, h.Iss + 1, 10));
            List<Seg> now = h.OutAll();
            h.Write(100);
            List<Seg> sent = h.OutAll();
            sent.InsertRange(0, now);
            Assert.That(sent[sent.Count - 1].PayloadLength, Is.EqualTo(100));
            Assert.That(sent[sent.Count - 1].Acknowledgment, Is.EqualTo(P + 211), "the data segment acknowledges");
            Assert.That(h.AdvanceUntilOut(200), Is.EqualTo(-1), "no separate ACK follows (before any loss probe of the data)");
        }

        [Test, Rfc("1122 4.2.3.2")]
        public void TheDelayedAckTimerSendsTheAck()
        {
            TcpHarness h = PastQuickAcks();
            h.Send(Seg.Data(P + 201, h.Iss + 1, 10));
            List<Seg> immediate = h.OutAll();
            if (immediate.Count == 0)
            {
                long waited = h.AdvanceUntilOut(600);
                Assert.That(waited, Is.InRange(1, 500));
                h.ExpectOut(Seg.Ack(h.Iss + 1, P + 211));
            }
            else
            {
                Assert.That(immediate[0].Acknowledgment, Is.EqualTo(P + 211));
            }
        }
    }
}
