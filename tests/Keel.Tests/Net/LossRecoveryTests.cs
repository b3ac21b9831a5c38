using Keel.Hal;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The loss-recovery part alone. Expected values are worked by hand from the RFCs' rules: RFC 6937 section 3.1
    /// (PRR and PRR-SSRB), RFC 5681 sections 3.1-3.2, RFC 6582 section 3.2, RFC 3042, RFC 5682 section 2 (F-RTO),
    /// RFC 8985 sections 6.2 and 7.2.
    /// </summary>
    public class LossRecoveryTests
    {
        private const long Mss = 1000;

        private static Duration Ms(long ms) => Duration.FromMilliseconds(ms);

        private static LossRecovery Started()
        {
            LossRecovery r = new LossRecovery();
            r.Start(0);
            return r;
        }

        [Test]
        public void PrrSendsSsthreshOverRecoverFsOfEachDeliveredByte()
        {
            // RFC 6937 3.1: while pipe > ssthresh, sndcnt = CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out.
            // 20 segments in flight, ssthresh 10: one segment goes out for every two delivered, 10 in all.
            LossRecovery r = Started();
            r.EnterRecovery(20 * Mss, long.MaxValue, 0, 20 * (uint)Mss);
            Assert.That(r.State, Is.EqualTo(TcpCaState.Recovery));
            Assert.That(r.RecoverFs, Is.EqualTo(20 * Mss), "RecoverFS = snd.nxt - snd.una");
            long ssthresh = 10 * Mss;
            long pipe = 19 * Mss; // one segment lost
            int sent = 0;
            string pattern = "";
            for (int ack = 0; ack < 9; ack++)
            {
                pipe -= Mss; // each ACK delivers one segment
                long cwnd = r.PrrCwnd(Mss, pipe, ssthresh, Mss, false);
                int now = 0;
                while (cwnd - pipe >= Mss)
                {
                    r.Sent(Mss);
                    pipe += Mss;
                    now++;
                }
                sent += now;
                pattern += now;
            }
            Assert.That(pattern, Is.EqualTo("010101010"), "one segment per two ACKs");
            Assert.That(r.PrrOut, Is.EqualTo(sent * Mss));
            // The first ACK: CEIL(1000 * 10000 / 20000) - 0 = 500 bytes.
            LossRecovery first = Started();
            first.EnterRecovery(20 * Mss, long.MaxValue, 0, 20 * (uint)Mss);
            Assert.That(first.PrrCwnd(Mss, 18 * Mss, ssthresh, Mss, false), Is.EqualTo(18 * Mss + 500));
        }

        [Test]
        public void PrrSlowStartReductionBoundCatchesUpToSsthresh()
        {
            // RFC 6937 3.1, pipe <= ssthresh: limit = MAX(prr_delivered - prr_out, DeliveredData) + MSS,
            // sndcnt = MIN(ssthresh - pipe, limit).
            LossRecovery r = Started();
            r.EnterRecovery(10 * Mss, long.MaxValue, 0, 10 * (uint)Mss);
            long ssthresh = 5 * Mss;
            Assert.That(r.PrrCwnd(Mss, 2 * Mss, ssthresh, Mss, false), Is.EqualTo(4 * Mss), "limit 2000: two segments for one");
            r.Sent(2 * Mss);
            Assert.That(r.PrrCwnd(Mss, 3 * Mss, ssthresh, Mss, false), Is.EqualTo(5 * Mss), "limit MAX(0, 1000) + 1000");
            r.Sent(2 * Mss);
            Assert.That(r.PrrCwnd(Mss, 4 * Mss, ssthresh, Mss, false), Is.EqualTo(5 * Mss), "ssthresh - pipe bounds it");
        }

        [Test]
        public void TheAckThatStartsRecoveryAlwaysLetsTheFastRetransmitOut()
        {
            // RFC 5681 3.2 step 2: the lost segment is retransmitted at once; PRR's count alone would give 0 here.
            LossRecovery r = Started();
            r.EnterRecovery(20 * Mss, long.MaxValue, 0, 20 * (uint)Mss);
            Assert.That(r.PrrCwnd(0, 18 * Mss, 10 * Mss, Mss, true), Is.EqualTo(19 * Mss));
        }

        [Test]
        public void SentBytesCountAsPrrOutOnlyInFastRecovery()
        {
            LossRecovery r = Started();
            r.Sent(Mss);
            r.EnterRecovery(10 * Mss, long.MaxValue, 0, 10 * (uint)Mss);
            Assert.That(r.PrrOut, Is.Zero, "prr_out starts at 0 (RFC 6937 3.1)");
            r.Sent(Mss);
            Assert.That(r.PrrOut, Is.EqualTo(Mss));
        }

        [Test]
        public void NewRenoFastRetransmitOnTheThirdDuplicateAck()
        {
            // RFC 5681 3.2: DupThresh = 3.
            LossRecovery r = Started();
            for (int i = 1; i <= 4; i++)
            {
                r.DuplicateAck();
                Assert.That(r.NewRenoMarksLoss(true, 0, 0), Is.EqualTo(i == 3), "duplicate ACK " + i);
            }
        }

        [Test]
        public void NewRenoPartialAckMarksTheNextHoleAndTheFullAckEndsRecovery()
        {
            // RFC 6582 3.2 steps 3 and 4: an ACK below "recover" retransmits the next hole; one at or above it ends
            // fast recovery.
            LossRecovery r = Started();
            r.EnterRecovery(10 * Mss, long.MaxValue, 0, 10_000);
            Assert.That(r.RecoveryPoint, Is.EqualTo(10_000u));
            Assert.That(r.NewRenoMarksLoss(false, Mss, 1000), Is.True, "partial ACK");
            Assert.That(r.TryComplete(9999), Is.False);
            Assert.That(r.TryComplete(10_000), Is.True, "full ACK");
            Assert.That(r.State, Is.EqualTo(TcpCaState.Open));
            Assert.That(r.NewRenoMarksLoss(false, Mss, 11_000), Is.False);
        }

        [Test]
        public void LimitedTransmitAllowsOneSegmentPerEarlyDuplicateAck()
        {
            // RFC 3042 section 2: a new segment for each of the first two duplicate ACKs.
            LossRecovery r = Started();
            Assert.That(r.LimitedTransmitBytes(Mss), Is.Zero);
            r.DuplicateAck();
            Assert.That(r.LimitedTransmitBytes(Mss), Is.EqualTo(Mss));
            r.DuplicateAck();
            Assert.That(r.LimitedTransmitBytes(Mss), Is.EqualTo(2 * Mss));
            r.DuplicateAck();
            Assert.That(r.LimitedTransmitBytes(Mss), Is.Zero, "the third starts fast retransmit instead");
            r.NewAck(Mss);
            Assert.That(r.DuplicateAcks, Is.Zero, "new data resets the count");
        }

        [Test]
        public void RackReorderWindowIsAQuarterMinRttTimesTheMultiplierAtMostSrtt()
        {
            // RFC 8985 6.2 step 4.
            LossRecovery r = Started();
            Assert.That(r.ReorderWindow(false, 1, Ms(40), Ms(50)), Is.EqualTo(Ms(10)), "min_RTT / 4");
            Assert.That(r.ReorderWindow(false, 3, Ms(40), Ms(50)), Is.EqualTo(Duration.Zero), "DupThresh SACKed, no reordering seen");
            Assert.That(r.ReorderWindow(true, 3, Ms(40), Ms(50)), Is.EqualTo(Ms(10)), "reordering seen");
            Assert.That(r.ReorderWindow(false, 1, Duration.MaxValue, Ms(50)), Is.EqualTo(Duration.Zero), "no RTT sample");
            r.DsackReceived(1);
            Assert.That(r.ReorderWindow(true, 1, Ms(40), Ms(50)), Is.EqualTo(Ms(20)), "reo_wnd_mult 2 after a D-SACK");
            for (int i = 0; i < 20; i++)
            {
                r.DsackReceived(1);
            }
            Assert.That(r.ReorderWindow(true, 1, Ms(40), Ms(50)), Is.EqualTo(Ms(50)), "at most SRTT");
            r.EnterRecovery(10 * Mss, long.MaxValue, 0, 10_000);
            Assert.That(r.ReorderWindow(false, 1, Ms(40), Ms(50)), Is.EqualTo(Duration.Zero), "in recovery, no reordering seen");
        }

        [Test]
        public void ProbeTimeoutIsTwoSrttPlusTheAckDelayForOneSegment()
        {
            // RFC 8985 7.2: PTO = 2 * SRTT, plus the peer's maximum ACK delay when FlightSize is one segment.
            Assert.That(LossRecovery.ProbeTimeout(Ms(50), 10, Ms(40), Ms(2)), Is.EqualTo(Ms(102)));
            Assert.That(LossRecovery.ProbeTimeout(Ms(50), 1, Ms(40), Ms(2)), Is.EqualTo(Ms(140)));
        }

        [Test]
        public void OneProbeAtATimeUntilItsDataIsAcknowledged()
        {
            // RFC 8985 7.3/7.4: no new probe while TLP.end_seq is not acknowledged; a repaired loss answers once.
            LossRecovery r = Started();
            Assert.That(r.MayProbe, Is.True);
            r.ProbeSent(5000, true);
            Assert.That(r.MayProbe, Is.False);
            r.Acknowledged(4000);
            Assert.That(r.MayProbe, Is.False);
            r.Acknowledged(5000);
            Assert.That(r.MayProbe, Is.True);
            Assert.That(r.ProbeRepairedLoss(6000, true), Is.True, "an ACK beyond the retransmitted probe");
            r.ProbeSent(7000, true);
            r.DsackReceived(7000);
            Assert.That(r.ProbeRepairedLoss(8000, true), Is.False, "a D-SACK of the probe: the original arrived");
        }

        [Test]
        public void TimeoutsRecomputeSsthreshOnlyForTheFirstRetransmission()
        {
            // RFC 5681 3.1: once a segment was retransmitted by the timer, ssthresh is held constant.
            LossRecovery r = Started();
            Assert.That(r.EnterLoss(20 * Mss, 30 * Mss, 20_000, false, 1), Is.True);
            Assert.That(r.State, Is.EqualTo(TcpCaState.Loss));
            Assert.That(r.PriorCwnd, Is.EqualTo(20 * Mss));
            Assert.That(r.PriorSsthresh, Is.EqualTo(30 * Mss));
            Assert.That(r.EnterLoss(Mss, 10 * Mss, 20_000, false, 2), Is.False, "backed-off timeout");
            Assert.That(r.PriorCwnd, Is.EqualTo(20 * Mss), "the undo values stay those from before the first");
            Assert.That(r.TryComplete(20_000), Is.True);
        }

        [Test]
        public void RepackagingEntersLossWithoutCountingAsATimeout()
        {
            LossRecovery r = Started();
            Assert.That(r.EnterLossForRepackaging(20 * Mss, 30 * Mss, 20_000), Is.True);
            Assert.That(r.State, Is.EqualTo(TcpCaState.Loss));
            Assert.That(r.EnterLossForRepackaging(20 * Mss, 30 * Mss, 20_000), Is.False, "already in loss");
            Assert.That(r.EnterLoss(20 * Mss, 30 * Mss, 20_000, false, 1), Is.True, "the first real timeout still reduces");
        }

        [Test]
        public void FrtoSpuriousTimeoutWhenTwoAcksAdvanceAfterNewData()
        {
            // RFC 5682 section 2: step 2b (the first ACK advances: send new data), step 3b (the next ACK
            // acknowledges new data: spurious, undo).
            LossRecovery r = Started();
            r.EnterLoss(20 * Mss, 30 * Mss, 20_000, true, 100);
            Assert.That(r.FrtoActive, Is.True, "step 1");
            Assert.That(r.FrtoAck(Mss, 1000, true), Is.EqualTo(FrtoVerdict.SendNewData));
            Assert.That(r.FrtoAck(Mss, 2000, true), Is.EqualTo(FrtoVerdict.Spurious));
            Assert.That(r.State, Is.EqualTo(TcpCaState.Open));
            Assert.That(r.FrtoActive, Is.False);
        }

        [Test]
        public void FrtoGenuineTimeoutWhenADuplicateAckFollowsTheNewData()
        {
            // RFC 5682 step 3a.
            LossRecovery r = Started();
            r.EnterLoss(20 * Mss, 30 * Mss, 20_000, true, 100);
            Assert.That(r.FrtoAck(Mss, 1000, true), Is.EqualTo(FrtoVerdict.SendNewData));
            Assert.That(r.FrtoAck(0, 1000, true), Is.EqualTo(FrtoVerdict.Genuine));
            Assert.That(r.State, Is.EqualTo(TcpCaState.Loss));
            Assert.That(r.FrtoActive, Is.False);
        }

        [Test]
        public void FrtoRevertsToConventionalRecovery()
        {
            // RFC 5682 step 2a: a duplicate ACK, an ACK of everything up to "recover", or no new data to send.
            foreach (long acked in new long[] { 0, 20 * Mss, Mss })
            {
                LossRecovery r = Started();
                r.EnterLoss(20 * Mss, 30 * Mss, 20_000, true, 100);
                uint una = acked == 20 * Mss ? 20_000u : (uint)acked;
                bool canSend = acked != Mss;
                Assert.That(r.FrtoAck(acked, una, canSend), Is.EqualTo(FrtoVerdict.None), "acked " + acked);
                Assert.That(r.FrtoActive, Is.False);
            }
        }

        [Test]
        public void FrtoOnlyAfterTheFirstTimeoutFromTheOpenState()
        {
            LossRecovery r = Started();
            r.EnterLoss(20 * Mss, 30 * Mss, 20_000, false, 100);
            r.EnterLoss(Mss, 10 * Mss, 20_000, true, 200);
            Assert.That(r.FrtoActive, Is.False);
        }

        [Test]
        public void AnEchoOlderThanTheRetransmissionShowsASpuriousTimeoutAtOnce()
        {
            // The Eifel test (RFC 3522) with F-RTO: the ACK echoes a timestamp sent before the retransmission.
            LossRecovery r = Started();
            r.EnterLoss(20 * Mss, 30 * Mss, 20_000, true, 100);
            r.NoteEcho(true, 90);
            Assert.That(r.FrtoAck(Mss, 1000, true), Is.EqualTo(FrtoVerdict.Spurious));
            LossRecovery late = Started();
            late.EnterLoss(20 * Mss, 30 * Mss, 20_000, true, 100);
            late.NoteEcho(true, 100);
            Assert.That(late.FrtoAck(Mss, 1000, true), Is.EqualTo(FrtoVerdict.SendNewData), "it echoes the retransmission");
        }
    }
}
