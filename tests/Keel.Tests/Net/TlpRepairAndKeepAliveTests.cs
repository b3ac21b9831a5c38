using Keel.Hal;
using Keel.Net;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>Two small parts of the connection alone: TLP loss repair (RFC 8985 7.4) and keepalive (RFC 9293 3.8.4).</summary>
    public class TlpRepairAndKeepAliveTests
    {
        private static Instant At(long s) => Instant.FromNanoseconds(1_000_000_000L + s * 1_000_000_000L);

        [Test]
        public void AnAckBeyondTheProbeMeansItRepairedALoss()
        {
            TlpRepair t = default;
            t.Retransmitted(5000);
            Assert.That(t.Ack(4000, true), Is.False, "below the probe: nothing known yet");
            Assert.That(t.Ack(6000, true), Is.True, "the probe filled a hole");
            Assert.That(t.Ack(7000, true), Is.False, "once per probe");
        }

        [Test]
        public void ADsackOfTheProbeMeansNoLoss()
        {
            TlpRepair t = default;
            t.Retransmitted(5000);
            t.DsackSeen(5000);
            Assert.That(t.Ack(6000, true), Is.False);
        }

        [Test]
        public void ADuplicateAckAtTheProbesEndClosesTheEpisode()
        {
            TlpRepair t = default;
            t.Retransmitted(5000);
            Assert.That(t.Ack(5000, true), Is.False, "an ACK to exactly the end may answer the original: wait");
            Assert.That(t.Ack(5000, false), Is.False, "a duplicate ACK there: both copies arrived");
            Assert.That(t.Ack(6000, true), Is.False, "episode over");
        }

        private static TcpKeepAlive KeepAlive(int idle, int interval, int count)
        {
            TcpKeepAlive k = new TcpKeepAlive();
            k.Reset(NetConfig.Create(new IPv4Address(198, 18, 0, 2), 24, IPv4Address.Any));
            k.Enabled = true;
            k.Configure(Duration.FromSeconds(idle), Duration.FromSeconds(interval), count);
            return k;
        }

        [Test]
        public void ProbesStartAfterIdleAndComeEveryIntervalUntilTheCount()
        {
            TcpKeepAlive k = KeepAlive(60, 10, 2);
            Instant heard = At(0);
            Assert.That(k.FirstDeadline(heard, At(1)), Is.EqualTo(At(60)));
            Assert.That(k.OnTimer(At(60), heard, false, out Instant next), Is.EqualTo(KeepAliveAction.Probe));
            Assert.That(next, Is.EqualTo(At(70)));
            Assert.That(k.OnTimer(At(70), heard, false, out next), Is.EqualTo(KeepAliveAction.Probe));
            Assert.That(k.OnTimer(At(80), heard, false, out _), Is.EqualTo(KeepAliveAction.GiveUp));
        }

        [Test]
        public void AnAnswerStartsTheIdleTimeAgain()
        {
            TcpKeepAlive k = KeepAlive(60, 10, 2);
            Assert.That(k.OnTimer(At(60), At(0), false, out _), Is.EqualTo(KeepAliveAction.Probe));
            Instant answered = At(61);
            Assert.That(k.OnTimer(At(70), answered, false, out Instant next), Is.EqualTo(KeepAliveAction.Wait));
            Assert.That(next, Is.EqualTo(At(121)));
        }

        [Test]
        public void OffOrBusyConnectionsAreNotProbed()
        {
            TcpKeepAlive k = KeepAlive(60, 10, 2);
            Assert.That(k.OnTimer(At(60), At(0), true, out Instant next), Is.EqualTo(KeepAliveAction.Wait));
            Assert.That(next, Is.EqualTo(At(120)), "data outstanding: the retransmission timer watches");
            k.Enabled = false;
            Assert.That(k.FirstDeadline(At(0), At(1)), Is.EqualTo(Instant.None));
        }
    }
}
