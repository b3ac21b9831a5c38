using System.Collections.Generic;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net.Conformance
{
    /// <summary>RFC 7323: window scale (section 2), timestamps and RTTM (sections 3, 4), PAWS (section 5).</summary>
    public class Rfc7323Tests
    {
        private const uint P = TcpHarness.PeerIss;

        private static Seg SynWithTs(uint tsVal, int ws = 7)
        {
            return Seg.Syn(P, mss: 1460, ws: ws, sackOk: true).WithTs(tsVal, 0);
        }

        [Test, Rfc("7323 2.2")]
        public void WindowScaleIsOfferedOnTheSynAckOnlyWhenTheSynHadIt()
        {
            TcpHarness with = new TcpHarness();
            Seg synAck = with.OpenPassive(Seg.Syn(P, mss: 1460, ws: 7));
            Assert.That(synAck.WindowScale, Is.InRange(0, 14), "shift count 0..14");
            TcpHarness without = new TcpHarness();
            Assert.That(without.OpenPassive(Seg.Syn(P, mss: 1460)).WindowScale, Is.EqualTo(-1));
        }

        [Test, Rfc("7323 2.2")]
        public void AnActiveOpenOffersWindowScale()
        {
            TcpHarness h = new TcpHarness();
            Seg syn = h.OpenActive();
            Assert.That(syn.WindowScale, Is.InRange(0, 14));
        }

        [Test, Rfc("7323 2.2")]
        public void TheWindowInASynSegmentIsNeverScaled()
        {
            TcpHarness h = new TcpHarness();
            Seg synAck = h.OpenPassive(Seg.Syn(P, mss: 1460, ws: 7));
            Assert.That(synAck.Window, Is.LessThanOrEqualTo(65535));
            Assert.That(synAck.Window, Is.GreaterThan(0));
        }

        [Test, Rfc("7323 2.3")]
        public void ThePeersWindowIsShiftedByItsScale()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(Seg.Syn(P, win: 65535, mss: 1000, ws: 2));
            // Window field 1000 with shift 2: 4000 bytes may be sent.
            h.Send(Seg.Ack(P + 1, h.Iss + 1, win: 1000));
            h.Write(10000);
            Assert.That(h.SentBytes(), Is.EqualTo(4000));
        }

        [Test, Rfc("7323 2.2")]
        public void WithoutTheOptionFromThePeerNeitherSideScales()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(Seg.Syn(P, mss: 1000));
            // The window field is taken as is: 3000 bytes.
            h.Send(Seg.Ack(P + 1, h.Iss + 1, win: 3000));
            h.Write(10000);
            Assert.That(h.SentBytes(), Is.EqualTo(3000));
        }

        [Test, Rfc("7323 2.3")]
        public void AShiftCountAbove14IsTakenAs14()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(Seg.Syn(P, win: 65535, mss: 1000, ws: 15));
            // Window field 1 with shift 14 (not 15): 16384 bytes may be sent.
            h.Send(Seg.Ack(P + 1, h.Iss + 1, win: 1));
            h.Write(40000);
            Assert.That(h.SentBytes(), Is.LessThanOrEqualTo(16384));
        }

        [Test, Rfc("7323 3.2")]
        public void TimestampsAreEchoedOnTheSynAckOnlyWhenTheSynHadThem()
        {
            TcpHarness with = new TcpHarness();
            Seg synAck = with.OpenPassive(SynWithTs(5000));
            Assert.That(synAck.HasTs, Is.True);
            Assert.That(synAck.TsEcr, Is.EqualTo(5000u), "TSecr = the SYN's TSval");
            TcpHarness without = new TcpHarness();
            Assert.That(without.OpenPassive(Seg.Syn(P, mss: 1460)).HasTs, Is.False);
        }

        [Test, Rfc("7323 3.2")]
        public void AnActiveOpenSendsTimestampsWithZeroEcr()
        {
            TcpHarness h = new TcpHarness();
            Seg syn = h.OpenActive();
            Assert.That(syn.HasTs, Is.True);
            Assert.That(syn.TsEcr, Is.EqualTo(0u), "TSecr of a SYN is zero");
        }

        [Test, Rfc("7323 3.2")]
        public void OnceAgreedEveryNonResetSegmentCarriesTimestamps()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Send(Seg.Data(P + 1, h.Iss + 1, 100).WithTs(5002, h.IssTsVal));
            h.Write(3000);
            h.Advance(300);
            List<Seg> sent = h.OutAll();
            Assert.That(sent, Is.Not.Empty);
            foreach (Seg s in sent)
            {
                Assert.That(s.HasTs, Is.True, s.ToString());
            }
        }

        [Test, Rfc("7323 3.2")]
        public void TheTimestampClockIsMonotonic()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Send(Seg.Data(P + 1, h.Iss + 1, 100).WithTs(5002, h.IssTsVal));
            h.AdvanceUntilOut(500);
            Seg first = h.Out();
            h.Advance(1000);
            h.Send(Seg.Data(P + 101, h.Iss + 1, 100).WithTs(6002, h.IssTsVal));
            long elapsed = 1000 + h.AdvanceUntilOut(500);
            Seg second = h.Out();
            int delta = (int)(second.TsVal - first.TsVal);
            Assert.That(delta, Is.InRange(elapsed / 1000, elapsed), "a clock of 1 ms to 1 s per tick (section 5.4)");
        }

        [Test, Rfc("7323 4.3")]
        public void TsEcrEchoesTheLatestInOrderTsVal()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Send(Seg.Data(P + 1, h.Iss + 1, 100).WithTs(6000, h.IssTsVal));
            h.AdvanceUntilOut(500);
            Assert.That(h.Out().TsEcr, Is.EqualTo(6000u));
        }

        [Test, Rfc("7323 4.3")]
        public void OutOfOrderSegmentsDoNotAdvanceTsRecent()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Send(Seg.Data(P + 101, h.Iss + 1, 100).WithTs(7000, h.IssTsVal));
            Seg ack = h.Out();
            Assert.That(ack.Acknowledgment, Is.EqualTo(P + 1));
            Assert.That(ack.TsEcr, Is.EqualTo(5001u), "TS.Recent stays (SEG.SEQ > Last.ACK.sent)");
        }

        [Test, Rfc("7323 5.3 (R1)")]
        public void PawsDropsASegmentWithAnOlderTimestampAndAcks()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Send(Seg.Data(P + 1, h.Iss + 1, 100).WithTs(6000, h.IssTsVal));
            h.AdvanceUntilOut(500);
            h.OutAll();
            h.Send(Seg.Data(P + 101, h.Iss + 1, 100).WithTs(5999, h.IssTsVal));
            Seg ack = h.ExpectOut(Seg.Ack(h.Iss + 1, P + 101), "dropped and acknowledged");
            Assert.That(ack.TsEcr, Is.EqualTo(6000u));
            Assert.That(h.Info.PawsRejected, Is.EqualTo(1));
        }

        [Test, Rfc("7323 5.3")]
        public void PawsDoesNotApplyToResets()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Send(new Seg { Sequence = P + 1, Flags = TcpFlags.Rst }.WithTs(1, 0));
            Assert.That(h.State, Is.EqualTo(TcpState.Closed));
        }

        [Test, Rfc("7323 5.3 (R1)")]
        public void AnEqualTimestampPassesPaws()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Send(Seg.Data(P + 1, h.Iss + 1, 100).WithTs(5001, h.IssTsVal));
            h.AdvanceUntilOut(500);
            h.ExpectOut(Seg.Ack(h.Iss + 1, P + 101));
            Assert.That(h.Info.PawsRejected, Is.EqualTo(0));
        }

        [Test, Rfc("7323 4.1 (RTTM)")]
        public void TheEchoedTimestampMeasuresTheRoundTrip()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Advance(1000);
            h.Write(1000);
            Seg data = h.Out();
            h.Advance(80);
            h.Send(Seg.Ack(P + 1, h.Iss + 1001).WithTs(5100, data.TsVal));
            Assert.That(h.Info.RttMicroseconds, Is.InRange(1000, 80000), "an 80 ms sample from TSecr moved SRTT (RFC 6298 2.3)");
        }

        /// <remarks>
        /// RFC 7323 3.2 says a non-RST segment without timestamps on a connection that agreed on them SHOULD be
        /// dropped. Keel accepts it, as Linux does, a deliberate choice (middleboxes that strip the option on
        /// some segments would otherwise stall the connection); it does not update TS.Recent.
        /// </remarks>
        [Test, Rfc("7323 3.2")]
        public void ASegmentWithoutTimestampsIsAcceptedAfterAgreement()
        {
            TcpHarness h = new TcpHarness();
            h.EstablishPassive(SynWithTs(5000), tsVal: 5001);
            h.Send(Seg.Data(P + 1, h.Iss + 1, 100));
            h.AdvanceUntilOut(500);
            Seg ack = h.ExpectOut(Seg.Ack(h.Iss + 1, P + 101));
            Assert.That(ack.TsEcr, Is.EqualTo(5001u), "TS.Recent unchanged");
        }
    }
}
