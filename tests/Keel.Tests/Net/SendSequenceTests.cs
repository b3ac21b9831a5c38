using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The send sequence space alone: RFC 9293 sections 3.3.1 and 3.4 (the SYN takes ISS; SND.UNA, SND.NXT),
    /// 3.10.7.4 (the window update rule with SND.WL1 and SND.WL2), RFC 5961 section 5.2 (ACKs below
    /// SND.UNA − MAX.SND.WND are refused).
    /// </summary>
    public class SendSequenceTests
    {
        private static readonly uint Iss = 0xFFFFFF00; // near the wrap, to exercise modulo-2^32 comparisons

        private static SendSequence Established()
        {
            SendSequence s = new SendSequence();
            s.Start(Iss);
            s.SynSent();
            s.InitWindow(10_000, 5000, Iss + 1);
            s.Acknowledge(Iss + 1);
            return s;
        }

        [Test]
        public void TheSynTakesTheIssAndDataStartsAfterIt()
        {
            SendSequence s = new SendSequence();
            s.Start(Iss);
            Assert.That(s.SynSentBefore, Is.False);
            Assert.That(s.BufferStart, Is.EqualTo(Iss + 1));
            s.SynSent();
            Assert.That(s.Nxt, Is.EqualTo(Iss + 1));
            Assert.That(s.Max, Is.EqualTo(Iss + 1));
            Assert.That(s.Una, Is.EqualTo(Iss));
            Assert.That(s.SynSentBefore, Is.True, "another SYN is a retransmission");
            s.ForgetSyn();
            Assert.That(s.SynSentBefore, Is.False);
        }

        [Test]
        public void SendingAndAcknowledgingMoveTheEdges()
        {
            SendSequence s = Established();
            s.Sent(Iss + 1 + 3000);
            Assert.That(s.InFlight, Is.EqualTo(3000));
            Assert.That(s.WindowLeft, Is.EqualTo(7000));
            s.Acknowledge(Iss + 1 + 1000);
            Assert.That(s.Una, Is.EqualTo(Iss + 1001));
            Assert.That(s.InFlight, Is.EqualTo(2000));
            Assert.That(s.Nxt, Is.EqualTo(Iss + 3001), "SND.NXT stays ahead");
        }

        [Test]
        public void OnlyANewerSegmentUpdatesTheWindow()
        {
            // RFC 9293 3.10.7.4: update when SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK.
            SendSequence s = Established();
            Assert.That(s.UpdateWindow(4999, Iss + 1, 1, out _), Is.False, "an older segment");
            Assert.That(s.Window, Is.EqualTo(10_000));
            Assert.That(s.UpdateWindow(5000, Iss, 1, out _), Is.False, "same SEQ, older ACK");
            Assert.That(s.UpdateWindow(5000, Iss + 1, 10_000, out bool changed), Is.True, "same SEQ and ACK");
            Assert.That(changed, Is.False);
            Assert.That(s.UpdateWindow(5001, Iss + 1, 20_000, out changed), Is.True);
            Assert.That(changed, Is.True);
            Assert.That(s.Window, Is.EqualTo(20_000));
            Assert.That(s.MaxWindow, Is.EqualTo(20_000), "MAX.SND.WND follows the largest");
            s.UpdateWindow(5002, Iss + 1, 0, out _);
            Assert.That(s.Window, Is.Zero);
            Assert.That(s.MaxWindow, Is.EqualTo(20_000));
        }

        [Test]
        public void AnAckBelowUnaLessTheLargestWindowIsTooOld()
        {
            // RFC 5961 5.2: acceptable ACKs lie in [SND.UNA - MAX.SND.WND, SND.NXT].
            SendSequence s = Established();
            uint una = s.Una;
            Assert.That(s.AckTooOld(una - 10_000), Is.False, "exactly MAX.SND.WND below");
            Assert.That(s.AckTooOld(una - 10_001), Is.True);
            Assert.That(s.AckTooOld(una), Is.False);
        }

        [Test]
        public void TheSendBufferFollowsReleasesAndClears()
        {
            SendSequence s = Established();
            s.Sent(Iss + 1 + 5000);
            s.BufferReleased(Iss + 1 + 2000);
            Assert.That(s.BufferStart, Is.EqualTo(Iss + 2001));
            s.BufferCleared();
            Assert.That(s.BufferStart, Is.EqualTo(s.Max));
            s.Reset();
            Assert.That(s.Window, Is.Zero);
            Assert.That(s.MaxWindow, Is.Zero);
        }
    }
}
