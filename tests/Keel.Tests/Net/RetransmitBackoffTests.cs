using Keel.Hal;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The backoff part alone: RFC 6298 sections 5.5 (double the RTO on each timeout), 2.5 (a maximum may be placed
    /// on it) and 3 (Karn: no RTT sample from a retransmitted segment), RFC 1122 section 4.2.3.5 (give up after a
    /// limit, R2), RFC 9293 section 3.8.6.1 (zero-window probes back off too).
    /// </summary>
    public class RetransmitBackoffTests
    {
        private static Duration Ms(long ms) => Duration.FromMilliseconds(ms);

        [Test]
        public void EachTimeoutDoublesTheRtoUntilNewDataIsAcknowledged()
        {
            RetransmitBackoff b = new RetransmitBackoff();
            Assert.That(b.Apply(Ms(200)), Is.EqualTo(Ms(200)));
            Assert.That(b.TimedOut(15), Is.True);
            Assert.That(b.TimedOut(15), Is.True);
            Assert.That(b.TimedOut(15), Is.True);
            Assert.That(b.Apply(Ms(200)), Is.EqualTo(Ms(1600)), "200 ms doubled three times");
            Assert.That(b.Apply(Ms(200), Ms(1000)), Is.EqualTo(Ms(1000)), "capped at the maximum");
            b.Acknowledged();
            Assert.That(b.Shift, Is.Zero);
            Assert.That(b.Apply(Ms(200)), Is.EqualTo(Ms(200)));
        }

        [Test]
        public void TheDoublingStopsAtTheMaximumShift()
        {
            RetransmitBackoff b = new RetransmitBackoff();
            for (int i = 0; i < 20; i++)
            {
                b.TimedOut(100);
            }
            Assert.That(b.Shift, Is.EqualTo(RetransmitBackoff.MaxShift));
        }

        [Test]
        public void TheTimeoutPastTheLimitGivesUp()
        {
            RetransmitBackoff b = new RetransmitBackoff();
            Assert.That(b.TimedOut(2), Is.True);
            Assert.That(b.TimedOut(2), Is.True);
            Assert.That(b.TimedOut(2), Is.False, "the third timeout with a limit of two retransmissions");
            b.Acknowledged();
            Assert.That(b.TimedOut(2), Is.True, "the count starts again after an acknowledgment");
        }

        [Test]
        public void UnansweredZeroWindowProbesBackOffAndGiveUp()
        {
            RetransmitBackoff b = new RetransmitBackoff();
            Assert.That(b.ProbeDue(2), Is.True);
            Assert.That(b.Shift, Is.EqualTo(1));
            Assert.That(b.ProbeDue(2), Is.True);
            Assert.That(b.ProbeDue(2), Is.False);
            b.PeerAnswered();
            Assert.That(b.ProbeDue(2), Is.True, "an answer resets the count");
            b.WindowOpened();
            Assert.That(b.Shift, Is.Zero);
        }

        [Test]
        public void OnlyASynSentOnceGivesAnRttSample()
        {
            Instant sent = Instant.FromNanoseconds(1_000_000_000);
            RetransmitBackoff once = new RetransmitBackoff();
            once.SynSent(sent);
            Assert.That(once.TrySynRtt(sent + Ms(30), out Duration rtt), Is.True);
            Assert.That(rtt, Is.EqualTo(Ms(30)));
            Assert.That(once.TrySynRtt(sent + Ms(40), out _), Is.False, "one sample per handshake");

            RetransmitBackoff again = new RetransmitBackoff();
            again.SynSent(sent);
            again.TimedOut(5);
            Assert.That(again.TrySynRtt(sent + Ms(1030), out _), Is.False, "Karn: the SYN was retransmitted");
        }
    }
}
