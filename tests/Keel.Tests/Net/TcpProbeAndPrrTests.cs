using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;
using static Keel.Tests.Net.TcpSackTimestampGoldenTests;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The sender with a hand-built receiver: the tail loss probe (RFC 8985 section 7: PTO = 2 SRTT + 2 ms with more
    /// than one segment in flight, + the worst-case delayed ACK, 40 ms here, with one; new data when there is some,
    /// else the last segment again) and Proportional Rate Reduction (RFC 6937 section 3.1) checked ACK by ACK against
    /// the RFC's equations, with pipe from RFC 6675 and ssthresh from RFC 5681 (NewReno).
    /// </summary>
    public class TcpProbeAndPrrTests
    {
        private const int RttMs = 10;
        private const long Ms = 1_000_000;
        private const int M = 1460 - 12; // the host's MSS less the timestamps option (RFC 6691)

        private static SingleStack Sender(NetConfig config, out uint iss, out uint ts, out TcpConnection c, out Socket server)
        {
            config ??= NetConfig.Create(NetPair.AddressB, 24, IPv4Address.Any);
            SingleStack s = Established(out iss, out ts, out server, out _, config, RttMs);
            c = server.Tcp;
            Assert.That(c.Rtt.Srtt.Microseconds, Is.EqualTo(RttMs * 1000), "first RTT sample: SRTT = R (RFC 6298 2.2)");
            return s;
        }

        private static void Write(SingleStack s, Socket server, int bytes)
        {
            byte[] data = new byte[bytes];
            Assert.That(server.Send(data, out SocketError error), Is.EqualTo(bytes), error.ToString());
            s.Stack.Poll();
        }

        private static List<Seg> Sent(SingleStack s)
        {
            List<Seg> frames = new List<Seg>();
            foreach (byte[] f in s.Capture.Frames)
            {
                if (Frames.IsTcp(f))
                {
                    frames.Add(Parse(f)); // TCP only (the first poll also announces the address by ARP)
                }
            }
            s.Capture.Frames.Clear();
            return frames;
        }

        /// <summary>An ACK from the host with timestamps and SACK blocks (RFC 2018 section 3).</summary>
        private static byte[] AckFrame(uint ack, uint tsVal, uint tsEcr, params (uint, uint)[] blocks) =>
            Frames.Tcp(Seg.Ack(ClientIsn + 1, ack, 65535).WithTs(tsVal, tsEcr).WithSack(blocks));

        /// <summary>Sends <paramref name="segments"/> full segments, lets the probe fire at exactly the PTO; returns its frames.</summary>
        private static List<Seg> Probe(int segments, long expectedPtoNs, out uint first) =>
            Probe(segments, expectedPtoNs, out first, out _, out _, out _);

        private static List<Seg> Probe(int segments, long expectedPtoNs, out uint first, out SingleStack s, out TcpConnection c, out Socket server)
        {
            s = Sender(null, out uint iss, out _, out c, out server);
            first = iss + 1;
            long sentAt = s.Clock.NowNanoseconds;
            Write(s, server, segments * M);
            int window = System.Math.Min(segments, 10); // RFC 6928 initial window: 10 segments
            Assert.That(Sent(s).Count, Is.EqualTo(window));
            Assert.That(c.Timers.Deadline(TcpTimer.LossProbe).Nanoseconds, Is.EqualTo(sentAt + expectedPtoNs), "PTO");
            s.Clock.NowNanoseconds = sentAt + expectedPtoNs - 1;
            s.Stack.Poll();
            Assert.That(s.Capture.Frames, Is.Empty, "nothing before the PTO");
            s.Clock.NowNanoseconds = sentAt + expectedPtoNs;
            s.Stack.Poll();
            Assert.That(s.Counter(NetStatistics.TcpLossProbes), Is.EqualTo(1));
            return Sent(s);
        }

        [Test]
        public void TheProbeSendsTwoNewSegmentsWhenTwoAreWaiting()
        {
            List<Seg> probe = Probe(12, (2 * RttMs + 2) * Ms, out uint first);
            Assert.That(probe.Count, Is.EqualTo(2));
            Assert.That(probe[0].Sequence, Is.EqualTo(first + 10 * M));
            Assert.That(probe[0].PayloadLength, Is.EqualTo(M));
            Assert.That(probe[1].Sequence, Is.EqualTo(first + 11 * M));
            Assert.That(probe[1].PayloadLength, Is.EqualTo(M));
        }

        [Test]
        public void TheProbeSendsTheOneNewSegmentWaiting()
        {
            List<Seg> probe = Probe(11, (2 * RttMs + 2) * Ms, out uint first);
            Assert.That(probe.Count, Is.EqualTo(1));
            Assert.That(probe[0].Sequence, Is.EqualTo(first + 10 * M));
            Assert.That(probe[0].PayloadLength, Is.EqualTo(M));
        }

        [Test]
        public void ThePeersWindowLimitsTheProbeToOneNewSegment()
        {
            SingleStack s = Sender(null, out uint iss, out uint ts, out TcpConnection c, out Socket server);
            uint first = iss + 1;
            // The host's window (scale 7 from its SYN): 125 << 7 = 16,000 bytes, room for 11 segments of 1,448.
            s.Inject(Frame(ClientIsn + 1, first, 0x10, Ts(500, ts), 0, 0x55, 125));
            Assert.That(c.Snd.Window, Is.EqualTo(125 << 7));
            long sentAt = s.Clock.NowNanoseconds;
            Write(s, server, 12 * M);
            Assert.That(Sent(s).Count, Is.EqualTo(10), "initial window");
            s.Clock.NowNanoseconds = sentAt + (2 * RttMs + 2) * Ms;
            s.Stack.Poll();
            List<Seg> probe = Sent(s);
            Assert.That(probe.Count, Is.EqualTo(1), "the second new segment does not fit the peer's window");
            Assert.That(probe[0].Sequence, Is.EqualTo(first + 10 * M));
            Assert.That(probe[0].PayloadLength, Is.EqualTo(M));
        }

        /// <summary>
        /// RFC 8985 7.2: the probe timer restarts when new data is sent. An ACK that leaves one segment in flight arms
        /// it for 2 SRTT + 40 ms, but the same ACK lets new data out: the flight is then several segments again.
        /// </summary>
        [Test]
        public void NewDataRestartsTheProbeTimer()
        {
            SingleStack s = Sender(null, out uint iss, out uint ts, out TcpConnection c, out Socket server);
            uint first = iss + 1;
            Write(s, server, 14 * M);
            Assert.That(Sent(s).Count, Is.EqualTo(10));
            s.Clock.AdvanceMilliseconds(RttMs);
            long ackAt = s.Clock.NowNanoseconds;
            s.Inject(Frame(ClientIsn + 1, first + 9 * M, 0x10, Ts(500, ts), 0)); // RTT sample 10 ms: SRTT stays 10 ms
            Assert.That(c.Rtt.Srtt.Microseconds, Is.EqualTo(RttMs * 1000));
            Assert.That(Sent(s).Count, Is.GreaterThan(0), "the ACK let new data out");
            Assert.That(c.Board.Count, Is.GreaterThan(1));
            Assert.That(c.Timers.Deadline(TcpTimer.LossProbe).Nanoseconds, Is.EqualTo(ackAt + (2 * RttMs + 2) * Ms));
        }

        [Test]
        public void WithoutNewDataTheProbeSendsTheLastSegmentAgain()
        {
            List<Seg> probe = Probe(10, (2 * RttMs + 2) * Ms, out uint first);
            Assert.That(probe.Count, Is.EqualTo(1));
            Assert.That(probe[0].Sequence, Is.EqualTo(first + 9 * M), "RFC 8985 7.3: the highest-sequence segment");
            Assert.That(probe[0].PayloadLength, Is.EqualTo(M));
        }

        [Test]
        public void WithOneSegmentInFlightThePtoAddsTheDelayedAckTime()
        {
            SingleStack s = Sender(null, out uint iss, out _, out TcpConnection c, out Socket server);
            long sentAt = s.Clock.NowNanoseconds;
            Write(s, server, 100);
            Assert.That(Sent(s).Count, Is.EqualTo(1));
            long pto = (2 * RttMs + 40) * Ms; // RFC 8985 7.2: 2 SRTT + WCDelAckT
            Assert.That(c.Timers.Deadline(TcpTimer.LossProbe).Nanoseconds, Is.EqualTo(sentAt + pto));
            s.Clock.NowNanoseconds = sentAt + pto;
            s.Stack.Poll();
            List<Seg> probe = Sent(s);
            Assert.That(probe.Count, Is.EqualTo(1));
            Assert.That(probe[0].Sequence, Is.EqualTo(iss + 1));
            Assert.That(probe[0].PayloadLength, Is.EqualTo(100));
        }

        /// <summary>
        /// RFC 8985 7.4: a probe that resent the last segment. A D-SACK of it says the original had arrived (no
        /// loss, cwnd kept); an ACK exactly at its end may still be answered by that D-SACK, so nothing is decided;
        /// an ACK beyond it without one says the probe repaired a loss: cwnd and ssthresh are cut once.
        /// </summary>
        [Test]
        public void ADsackOfTheProbeMeansNoLoss()
        {
            Probe(10, (2 * RttMs + 2) * Ms, out uint first, out SingleStack s, out TcpConnection c, out _);
            long cwnd = c.Cwnd;
            s.Inject(AckFrame(first + 10 * M, 600, 0, (first + 9 * M, first + 10 * M)));
            Assert.That(c.Stats.DsacksReceived, Is.EqualTo(1));
            Assert.That(c.Stats.TlpRepairs, Is.Zero);
            Assert.That(c.Cwnd, Is.GreaterThanOrEqualTo(cwnd), "no reduction");
            Assert.That(s.Counter(NetStatistics.TcpTlpRepairs), Is.Zero);
        }

        [Test]
        public void AnAckBeyondTheProbeWithoutDsackCutsCwndOnce()
        {
            Probe(10, (2 * RttMs + 2) * Ms, out uint first, out SingleStack s, out TcpConnection c, out Socket server);
            s.Inject(AckFrame(first + 10 * M, 600, 0));
            Assert.That(c.Stats.TlpRepairs, Is.Zero, "an ACK exactly at the probe's end decides nothing yet");
            long cwnd = c.Cwnd;
            Write(s, server, 2 * M);
            Sent(s);
            s.Inject(AckFrame(first + 12 * M, 700, 0));
            Assert.That(c.Stats.TlpRepairs, Is.EqualTo(1));
            Assert.That(s.Counter(NetStatistics.TcpTlpRepairs), Is.EqualTo(1));
            Assert.That(c.Cwnd, Is.LessThan(cwnd + 2 * M), "cut, not grown by the ACK");
            Assert.That(c.Cwnd, Is.EqualTo(c.Ssthresh));
            s.Inject(AckFrame(first + 12 * M, 800, 0));
            Assert.That(c.Stats.TlpRepairs, Is.EqualTo(1), "once per probe");
        }

        [Test]
        public void ADuplicateAckAtTheProbesEndMeansBothCopiesArrived()
        {
            Probe(10, (2 * RttMs + 2) * Ms, out uint first, out SingleStack s, out TcpConnection c, out Socket server);
            s.Inject(AckFrame(first + 10 * M, 600, 0));
            s.Inject(AckFrame(first + 10 * M, 700, 0));
            Write(s, server, 2 * M);
            Sent(s);
            s.Inject(AckFrame(first + 12 * M, 800, 0));
            Assert.That(c.Stats.TlpRepairs, Is.Zero);
        }

        /// <summary>The sender's state as RFC 6675 / RFC 6937 describe it, segment by segment (all of size M).</summary>
        private sealed class Model
        {
            public readonly bool[] Sacked;
            public readonly bool[] Lost;
            public readonly bool[] Retransmitted;
            public readonly int Available; // segments the application wrote
            public int Segments;           // segments sent (snd.nxt - snd.una, nothing is cumulatively acknowledged)
            public int LimitedTransmit;    // new segments sent before recovery on SACKs (RFC 3042)
            public bool InRecovery;
            public long Ssthresh;
            public long RecoverFs;
            public long PrrDelivered;
            public long PrrOut;
            public int ProportionalAcks;
            public int ReductionBoundAcks;

            public Model(int sent, int available)
            {
                Segments = sent;
                Available = available;
                Sacked = new bool[available];
                Lost = new bool[available];
                Retransmitted = new bool[available];
            }

            /// <summary>RFC 6675 section 4: IsLost, DupThresh = 3 segments SACKed above.</summary>
            public bool MarkLost()
            {
                bool any = false;
                for (int i = 0; i < Segments; i++)
                {
                    int above = 0;
                    for (int j = i + 1; j < Segments; j++)
                    {
                        above += Sacked[j] ? 1 : 0;
                    }
                    if (!Sacked[i] && !Lost[i] && above >= 3)
                    {
                        Lost[i] = true;
                        any = true;
                    }
                }
                return any;
            }

            /// <summary>RFC 6675 section 4: SetPipe.</summary>
            public long Pipe()
            {
                long pipe = 0;
                for (int i = 0; i < Segments; i++)
                {
                    if (!Sacked[i])
                    {
                        pipe += (Lost[i] ? 0 : M) + (Retransmitted[i] ? M : 0);
                    }
                }
                return pipe;
            }

            /// <summary>An ACK SACKing [from, to): returns cwnd after it (RFC 6937 section 3.1), -1 outside recovery.</summary>
            public long OnAck(int from, int to)
            {
                long delivered = 0;
                for (int i = from; i < to; i++)
                {
                    if (!Sacked[i])
                    {
                        Sacked[i] = true;
                        delivered += M;
                    }
                }
                bool entering = false;
                if (MarkLost() && !InRecovery)
                {
                    InRecovery = true;
                    entering = true;
                    // RFC 5681 equation (4), FlightSize without the segments of limited transmit (RFC 3042 section 2).
                    long flight = (long)(Segments - LimitedTransmit) * M;
                    Ssthresh = System.Math.Max(flight / 2, 2L * M);
                    RecoverFs = (long)Segments * M; // snd.nxt - snd.una
                    PrrDelivered = 0;
                    PrrOut = 0;
                }
                if (!InRecovery)
                {
                    return -1;
                }
                PrrDelivered += delivered;
                long pipe = Pipe();
                long sndcnt;
                if (pipe > Ssthresh)
                {
                    sndcnt = (PrrDelivered * Ssthresh + RecoverFs - 1) / RecoverFs - PrrOut; // CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out
                    ProportionalAcks++;
                }
                else
                {
                    long limit = System.Math.Max(PrrDelivered - PrrOut, delivered) + M; // PRR-SSRB
                    sndcnt = System.Math.Min(Ssthresh - pipe, limit);
                    ReductionBoundAcks++;
                }
                sndcnt = System.Math.Max(sndcnt, 0);
                if (entering)
                {
                    sndcnt = System.Math.Max(sndcnt, M); // the fast retransmit itself (RFC 6675 section 5, step 4.3)
                }
                return pipe + sndcnt;
            }

            /// <summary>
            /// What cwnd lets go out now, whole segments while cwnd - pipe allows (RFC 6675 NextSeg: lost segments
            /// first, then new data); returns their indexes.
            /// </summary>
            public List<int> Send(long cwnd)
            {
                List<int> sent = new List<int>();
                while (cwnd - Pipe() >= M)
                {
                    int next = -1;
                    for (int i = 0; i < Segments && next < 0; i++)
                    {
                        next = Lost[i] && !Retransmitted[i] && !Sacked[i] ? i : -1;
                    }
                    if (next >= 0)
                    {
                        Retransmitted[next] = true;
                    }
                    else if (Segments < Available)
                    {
                        next = Segments++;
                        LimitedTransmit += InRecovery ? 0 : 1;
                    }
                    else
                    {
                        break;
                    }
                    PrrOut += InRecovery ? M : 0;
                    sent.Add(next);
                }
                return sent;
            }
        }

        /// <summary>
        /// 20 segments in flight (initial window 20, NewReno: ssthresh = FlightSize / 2 = 10 segments); the first
        /// <paramref name="lost"/> are lost and the rest are SACKed one per ACK; <paramref name="written"/> segments
        /// were written, so new data may follow (limited transmit before recovery, RFC 3042). Every ACK in recovery
        /// must leave cwnd = pipe + sndcnt as RFC 6937 computes it, and the sender must send exactly the segments that
        /// cwnd - pipe admits. One loss: pipe stays above ssthresh for several ACKs (the proportional part: about one
        /// segment per two delivered), then falls to it (PRR-SSRB). Eight losses: pipe is below ssthresh from the
        /// start (PRR-SSRB brings it back up to ssthresh, at most one segment more than delivered per ACK).
        /// </summary>
        [TestCase(1, 20)]
        [TestCase(8, 20)]
        [TestCase(1, 40)]
        [TestCase(4, 40)]
        public void PrrFollowsRfc6937AckByAck(int lost, int written)
        {
            const int n = 20;
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, IPv4Address.Any);
            config.TcpCongestionControl = TcpCongestionAlgorithm.NewReno;
            config.TcpInitialWindowSegments = n;
            SingleStack s = Sender(config, out uint iss, out uint ts, out TcpConnection c, out Socket server);
            uint first = iss + 1;
            Write(s, server, written * M);
            Assert.That(Sent(s).Count, Is.EqualTo(n));
            s.Clock.AdvanceMilliseconds(RttMs);
            Model model = new Model(n, written);
            uint tsVal = 1000;
            for (int top = lost + 1; top <= n; top++)
            {
                s.Inject(AckFrame(first, tsVal++, ts, (first + (uint)(lost * M), first + (uint)(top * M))));
                long cwnd = model.OnAck(top - 1, top);
                List<Seg> frames = Sent(s);
                List<int> expected;
                if (cwnd < 0)
                {
                    Assert.That(c.Recovery.State, Is.EqualTo(TcpCaState.Open), "not in recovery before DupThresh, ACK " + top);
                    expected = model.Send((long)n * M);
                }
                else
                {
                    Assert.That(c.Recovery.State, Is.EqualTo(TcpCaState.Recovery), "ACK " + top);
                    Assert.That(c.Ssthresh, Is.EqualTo(model.Ssthresh), "ssthresh");
                    Assert.That(c.Recovery.RecoverFs, Is.EqualTo(model.RecoverFs), "RecoverFS");
                    Assert.That(c.Cwnd, Is.EqualTo(cwnd), "cwnd = pipe + sndcnt, ACK " + top);
                    expected = model.Send(cwnd);
                    Assert.That(c.Recovery.PrrOut, Is.EqualTo(model.PrrOut), "prr_out, ACK " + top);
                }
                Assert.That(c.Pipe, Is.EqualTo(model.Pipe()), "pipe after sending, ACK " + top);
                Assert.That(frames.Count, Is.EqualTo(expected.Count), "segments sent after ACK " + top);
                for (int k = 0; k < expected.Count; k++)
                {
                    Assert.That(frames[k].Sequence, Is.EqualTo(first + (uint)(expected[k] * M)), "segment " + k + " after ACK " + top);
                }
            }
            TestContext.Out.WriteLine("ACKs in the proportional part " + model.ProportionalAcks + ", in PRR-SSRB " + model.ReductionBoundAcks +
                "; limited transmit " + model.LimitedTransmit + ", sent " + model.Segments);
            if (lost == 1)
            {
                Assert.That(model.ProportionalAcks, Is.GreaterThan(0));
            }
            Assert.That(model.ReductionBoundAcks, Is.GreaterThan(0));
            // Everything sent is acknowledged: recovery ends with cwnd = ssthresh (RFC 6937 section 3.1).
            s.Inject(AckFrame(first + (uint)(model.Segments * M), tsVal++, ts));
            Assert.That(c.Recovery.State, Is.EqualTo(TcpCaState.Open));
            Assert.That(c.Cwnd, Is.EqualTo(model.Ssthresh));
        }
    }
}
