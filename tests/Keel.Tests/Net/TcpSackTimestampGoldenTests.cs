using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// Golden segments for SACK (RFC 2018 section 3, case 2: the first of a flight lost, the receiver reports the
    /// growing block), D-SACK (RFC 2883 section 4.1.1: a duplicate below the ACK; 4.1.2: a duplicate of
    /// out-of-order data, followed by the block holding it), timestamps (RFC 7323 sections 3.2 and 4.3: TSecr
    /// echoes TS.Recent, which only in-order segments advance) and PAWS (RFC 7323 section 5: an older TSval is
    /// dropped and answered with an ACK). The host side is hand-built frames; Keel's answers are parsed byte by byte.
    /// </summary>
    public class TcpSackTimestampGoldenTests
    {
        internal const uint ClientIsn = 0x10000000;
        internal const int SegmentBytes = 500; // RFC 2018's example uses 500-byte segments

        /// <summary>A segment from the host (198.18.0.1:40001) to port 80 with raw option bytes and <paramref name="payload"/> bytes of <paramref name="fill"/>.</summary>
        internal static byte[] Frame(uint seq, uint ack, int flags, byte[] options, int payload, byte fill = 0x55, int window = 65535) =>
            Frames.Tcp(new Seg { Sequence = seq, Acknowledgment = ack, Flags = flags, Window = window, RawOptions = options, PayloadLength = payload, Fill = fill });

        /// <summary>NOP NOP TS (RFC 7323 appendix A layout).</summary>
        internal static byte[] Ts(uint val, uint ecr) => new Seg().WithTs(val, ecr).OptionBytes();

        internal static Seg Parse(byte[] f) => Frames.ParseTcp(f);

        /// <summary>
        /// A connection accepted on port 80 from the hand-built host (MSS 1460, SACK, TS, WS 7);
        /// <paramref name="rttMs"/> passes between SYN-ACK and ACK (the first RTT sample, RFC 6298 2.2).
        /// </summary>
        internal static SingleStack Established(out uint iss, out uint tsOurs, NetConfig config = null, int rttMs = 0)
        {
            return Established(out iss, out tsOurs, out _, out _, config, rttMs);
        }

        internal static SingleStack Established(out uint iss, out uint tsOurs, out Socket server, out Seg synAck, NetConfig config = null, int rttMs = 0)
        {
            SingleStack s = new SingleStack(config);
            s.LearnHost();
            Socket listener = s.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPv4Address.Any, 80));
            listener.Listen(4);
            // SYN: MSS 1460, SACK-permitted, TS (val 100), NOP, WS 7 (Linux's layout).
            byte[] syn = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 100, 0, 0, 0, 0, 1, 3, 3, 7 };
            s.Inject(Frame(ClientIsn, 0, 0x02, syn, 0));
            synAck = Parse(s.Capture.Take());
            s.Clock.AdvanceMilliseconds(rttMs);
            Assert.That(synAck.Flags, Is.EqualTo(0x12));
            Assert.That(synAck.HasTs, Is.True, "timestamps agreed on the passive open");
            Assert.That(synAck.TsEcr, Is.EqualTo(100u), "SYN-ACK echoes the SYN's TSval (RFC 7323 3.2)");
            iss = synAck.Sequence;
            tsOurs = synAck.TsVal;
            s.Inject(Frame(ClientIsn + 1, iss + 1, 0x10, Ts(101, tsOurs), 0));
            Assert.That(listener.Accept(out server), Is.EqualTo(SocketError.Success));
            TcpInfo info;
            server.GetTcpInfo(out info);
            Assert.That(info.SackPermitted, Is.True, "SACK agreed on the passive open");
            Assert.That(info.Timestamps, Is.True);
            s.Capture.Frames.Clear();
            return s;
        }

        [Test]
        public void SackBlocksGrowAsInRfc2018Case2AndDsackFollowsRfc2883()
        {
            uint iss;
            uint ts;
            SingleStack s = Established(out iss, out ts);
            uint b = ClientIsn + 1;
            // Segments 2..4 arrive, segment 1 was lost: each is answered at once with ACK = b and the block
            // [b+500, b+500k) (RFC 2018 section 3, case 2).
            for (int k = 1; k <= 3; k++)
            {
                s.Inject(Frame(b + (uint)(k * SegmentBytes), iss + 1, 0x10, Ts((uint)(110 + k), ts), SegmentBytes));
                Seg a = Parse(s.Capture.Take());
                Assert.That(a.Acknowledgment, Is.EqualTo(b), "ACK stays at the hole");
                Assert.That(a.Sack.Count, Is.EqualTo(1));
                Assert.That(a.Sack[0], Is.EqualTo((b + SegmentBytes, b + (uint)((k + 1) * SegmentBytes))));
                Assert.That(a.TsEcr, Is.EqualTo(101u), "out-of-order segments do not advance TS.Recent (RFC 7323 4.3)");
            }
            // Segment 3 again (a duplicate of out-of-order data): D-SACK block first, then the block holding it.
            s.Inject(Frame(b + 2 * SegmentBytes, iss + 1, 0x10, Ts(120, ts), SegmentBytes));
            Seg d = Parse(s.Capture.Take());
            Assert.That(d.Acknowledgment, Is.EqualTo(b));
            Assert.That(d.Sack.Count, Is.EqualTo(2));
            Assert.That(d.Sack[0], Is.EqualTo((b + 2 * SegmentBytes, b + 3 * SegmentBytes)), "D-SACK (RFC 2883 4.1.2)");
            Assert.That(d.Sack[1], Is.EqualTo((b + SegmentBytes, b + 4 * SegmentBytes)));
            // The hole is filled: everything is acknowledged, no blocks left.
            s.Inject(Frame(b, iss + 1, 0x10, Ts(121, ts), SegmentBytes));
            Seg full = Parse(s.Capture.Take());
            Assert.That(full.Acknowledgment, Is.EqualTo(b + 4 * SegmentBytes));
            Assert.That(full.Sack.Count, Is.EqualTo(0));
            Assert.That(full.TsEcr, Is.EqualTo(121u), "the segment at the left edge sets TS.Recent");
            // Segment 1 again, below the ACK: D-SACK of it alone (RFC 2883 4.1.1).
            s.Inject(Frame(b, iss + 1, 0x10, Ts(122, ts), SegmentBytes));
            Seg old = Parse(s.Capture.Take());
            Assert.That(old.Acknowledgment, Is.EqualTo(b + 4 * SegmentBytes));
            Assert.That(old.Sack.Count, Is.EqualTo(1));
            Assert.That(old.Sack[0], Is.EqualTo((b, b + SegmentBytes)));
        }

        [Test]
        public void SackBlocksAreMostRecentFirstAndAtMostThreeWithTimestamps()
        {
            uint iss;
            uint ts;
            SingleStack s = Established(out iss, out ts);
            uint b = ClientIsn + 1;
            // Four separate islands (every other segment), received in the order 1, 3, 5, 7.
            Seg a = null;
            for (int k = 1; k <= 7; k += 2)
            {
                s.Inject(Frame(b + (uint)(k * SegmentBytes), iss + 1, 0x10, Ts(200, ts), SegmentBytes));
                a = Parse(s.Capture.Take());
            }
            Assert.That(a.Sack.Count, Is.EqualTo(3), "40 option bytes: timestamps (12) + 3 blocks (26)");
            Assert.That(a.Sack[0], Is.EqualTo((b + 7 * SegmentBytes, b + 8 * SegmentBytes)), "the most recent segment's block first");
            Assert.That(a.Sack[1], Is.EqualTo((b + 5 * SegmentBytes, b + 6 * SegmentBytes)), "then the blocks reported before");
            Assert.That(a.Sack[2], Is.EqualTo((b + 3 * SegmentBytes, b + 4 * SegmentBytes)));
        }

        [Test]
        public void PawsDropsAnOlderTimestampAndAnswersWithAnAck()
        {
            uint iss;
            uint ts;
            SingleStack s = Established(out iss, out ts);
            uint b = ClientIsn + 1;
            s.Inject(Frame(b, iss + 1, 0x10, Ts(1000, ts), SegmentBytes));
            s.Stack.Poll();
            s.Capture.Frames.Clear();
            // In window, but TSval 999 < TS.Recent 1000: an old duplicate (RFC 7323 section 5.3 R1).
            s.Inject(Frame(b + SegmentBytes, iss + 1, 0x10, Ts(999, ts), SegmentBytes));
            Seg a = Parse(s.Capture.Take());
            Assert.That(a.Acknowledgment, Is.EqualTo(b + SegmentBytes), "the data was not accepted");
            Assert.That(a.TsEcr, Is.EqualTo(1000u));
            Assert.That(s.Counter(NetStatistics.TcpPawsRejected), Is.EqualTo(1));
            // The same segment with a current TSval is accepted.
            s.Inject(Frame(b + SegmentBytes, iss + 1, 0x10, Ts(1001, ts), SegmentBytes));
            s.Stack.Poll();
            Assert.That(s.Counter(NetStatistics.TcpPawsRejected), Is.EqualTo(1));
        }

        [Test]
        public void TimestampsOptionParsesOnTheFastPathAndSackBlocksInAnyLayout()
        {
            // RFC 7323 appendix A: NOP, NOP, kind 8, length 10, TSval, TSecr.
            Keel.Net.Tcp.TcpSegment seg = default;
            byte[] o = Ts(0x01020304, 0x0a0b0c0d);
            unsafe
            {
                fixed (byte* p = o)
                {
                    Assert.That(Keel.Net.Tcp.TcpOptions.Parse(p, o.Length, ref seg, false), Is.True);
                }
            }
            Assert.That(seg.HasTimestamp, Is.True);
            Assert.That(seg.TsVal, Is.EqualTo(0x01020304u));
            Assert.That(seg.TsEcr, Is.EqualTo(0x0a0b0c0du));
            // RFC 2018 section 3: kind 5, length 8n+2; here two blocks after NOPs, then a bad length (rejected).
            byte[] sack = { 1, 1, 5, 18, 0, 0, 0x15, 0x7c, 0, 0, 0x17, 0x70, 0, 0, 0x1b, 0x58, 0, 0, 0x1f, 0x40 };
            seg = default;
            unsafe
            {
                fixed (byte* p = sack)
                {
                    Assert.That(Keel.Net.Tcp.TcpOptions.Parse(p, sack.Length, ref seg, false), Is.True);
                    Assert.That(seg.SackCount, Is.EqualTo(2));
                    Assert.That(seg.Sack[0], Is.EqualTo(5500u));
                    Assert.That(seg.Sack[1], Is.EqualTo(6000u));
                    Assert.That(seg.Sack[2], Is.EqualTo(7000u));
                    Assert.That(seg.Sack[3], Is.EqualTo(8000u));
                }
            }
            byte[] bad = { 5, 40, 0, 0 };
            seg = default;
            unsafe
            {
                fixed (byte* p = bad)
                {
                    Assert.That(Keel.Net.Tcp.TcpOptions.Parse(p, bad.Length, ref seg, false), Is.False);
                }
            }
        }
    }
}
