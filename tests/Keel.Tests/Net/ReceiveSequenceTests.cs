using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The receive sequence space alone: RFC 9293 section 3.3.1 (RCV.NXT = IRS + 1 after the SYN; a FIN takes one
    /// sequence number), section 3.10.7.4 (the acceptability table), section 3.8.6.2.2 (receiver SWS avoidance: the
    /// right edge moves by at least min(half the buffer, one MSS)) and section 3.8.6 (the window is not shrunk).
    /// </summary>
    public class ReceiveSequenceTests
    {
        private const int Mss = 1000;

        private static readonly uint Irs = 0xFFFFFFF0; // RCV.NXT wraps through 0 below

        private static ReceiveSequence Started(int window)
        {
            ReceiveSequence r = new ReceiveSequence();
            r.Start(Irs, window);
            return r;
        }

        [Test]
        public void TheSynAndTheFinEachTakeOneSequenceNumber()
        {
            ReceiveSequence r = Started(65535);
            Assert.That(r.Irs, Is.EqualTo(Irs));
            Assert.That(r.Nxt, Is.EqualTo(Irs + 1));
            Assert.That(r.Window, Is.EqualTo(65535u));
            r.Advance(100);
            r.Advance(1);
            Assert.That(r.Nxt, Is.EqualTo(Irs + 102));
            Assert.That(r.Window, Is.EqualTo(65535u - 101), "the right edge stays where it was advertised");
        }

        [Test]
        public void EmptySegmentsAreAcceptableFromRcvNxtToTheRightEdge()
        {
            // RFC 9293 3.10.7.4, segment length 0, RCV.WND > 0: RCV.NXT =< SEG.SEQ =< RCV.NXT + RCV.WND.
            ReceiveSequence r = Started(1000);
            uint nxt = r.Nxt;
            Assert.That(r.IsAcceptable(nxt - 1, 0), Is.False);
            Assert.That(r.IsAcceptable(nxt, 0), Is.True);
            Assert.That(r.IsAcceptable(nxt + 1000, 0), Is.True);
            Assert.That(r.IsAcceptable(nxt + 1001, 0), Is.False);
        }

        [Test]
        public void DataIsAcceptableWhenAnyPartFallsInTheWindow()
        {
            // RFC 9293 3.10.7.4, segment length > 0: the first or the last byte in the window.
            ReceiveSequence r = Started(1000);
            uint nxt = r.Nxt;
            Assert.That(r.IsAcceptable(nxt - 100, 100), Is.False, "all old");
            Assert.That(r.IsAcceptable(nxt - 100, 101), Is.True, "its last byte is RCV.NXT");
            Assert.That(r.IsAcceptable(nxt + 999, 100), Is.True, "its first byte is the last in the window");
            Assert.That(r.IsAcceptable(nxt + 1001, 100), Is.False, "beyond the window");
        }

        [Test]
        public void WithAZeroWindowOnlyRcvNxtIsAcceptableForAnEmptySegment()
        {
            // RFC 9293 3.10.7.4, length 0 and RCV.WND = 0: SEG.SEQ = RCV.NXT.
            ReceiveSequence r = Started(0);
            Assert.That(r.Window, Is.Zero);
            Assert.That(r.IsAcceptable(r.Nxt, 0), Is.True);
            Assert.That(r.IsAcceptable(r.Nxt + 1, 0), Is.False);
        }

        [Test]
        public void TheRightEdgeMovesOnlyByUsefulAmounts()
        {
            // RFC 9293 3.8.6.2.2: move the edge when it can grow by min(Fr * RCV.BUFF, Eff.snd.MSS), Fr = 1/2.
            ReceiveSequence r = Started(10_000);
            r.Advance(500);
            Assert.That(r.Advertise(10_000, Mss, 10_000), Is.EqualTo(9_500u), "500 bytes of growth: less than an MSS");
            r.Advance(500);
            Assert.That(r.Advertise(10_000, Mss, 10_000), Is.EqualTo(10_000u), "1000: one MSS");
            Assert.That(r.Advertise(2_000, Mss, 10_000), Is.EqualTo(10_000u), "never left (RFC 9293 3.8.6)");
            Assert.That(r.Advertise(-5, Mss, 10_000), Is.EqualTo(10_000u));
        }

        [Test]
        public void AClosedWindowReopensAtOnce()
        {
            ReceiveSequence r = Started(1000);
            r.Advance(1000);
            Assert.That(r.Window, Is.Zero);
            Assert.That(r.Advertise(10, Mss, 10_000), Is.EqualTo(10u), "any room once the window was closed");
            r.SynWindowSent(300);
            Assert.That(r.Window, Is.EqualTo(300u));
        }
    }
}
