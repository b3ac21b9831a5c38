using System;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// SYN cookies with RFC 7323 timestamps: window scale and SACK-permitted kept in the low 6
    /// bits of the cookie SYN-ACK's TSval and recovered from the completing ACK's TSecr, as Linux
    /// net/ipv4/syncookies.c (cookie_init_timestamp / cookie_timestamp_decode) does.
    /// </summary>
    [TestFixture]
    public sealed class SynCookieTimestampTests
    {
        // Linux syncookies.c: TSBITS 6; TS_OPT_WSCALE_MASK 0xf (15 = no window scaling); TS_OPT_SACK BIT(4);
        // TS_OPT_ECN BIT(5). ts = (now >> 6) << 6 | options; if (ts > now) ts -= 64. Expected values worked out by hand.
        [TestCase(0x12345678u, 7, true, 0x12345657u)]   // 0x12345640 | (0x10 | 7)
        [TestCase(0x12345678u, -1, false, 0x1234564Fu)] // 0x12345640 | 0xF
        [TestCase(0x12345678u, -1, true, 0x1234565Fu)]  // 0x12345640 | 0x1F
        [TestCase(0x12345678u, 0, false, 0x12345640u)]  // scale 0 is not "none"
        [TestCase(0x12345640u, 14, true, 0x1234561Eu)]  // 0x1234565E is ahead of the clock: 64 earlier
        [TestCase(0x00000100u, 4, false, 0x000000C4u)]  // 0x104 ahead of 0x100: 0xC4
        public void CookieTimestampHasLinuxLayout(uint tsNow, int windowScale, bool sack, uint expected)
        {
            uint ts = SynCookies.EncodeTimestamp(tsNow, windowScale, sack);
            Assert.That(ts, Is.EqualTo(expected));
            Assert.That(SynCookies.DecodeTimestamp(expected, out int scale, out bool sackOk), Is.True);
            Assert.That(scale, Is.EqualTo(windowScale));
            Assert.That(sackOk, Is.EqualTo(sack));
        }

        [Test]
        public void EchoedEcnBitIsNotACookieThisStackSent()
        {
            Assert.That(SynCookies.DecodeTimestamp(0x12345640u | 0x20 | 0x07, out _, out _), Is.False);
        }

        // MSS 1460, SACK-permitted, timestamps (TSval 0x01020304), NOP, window scale 7.
        private static readonly byte[] SynOptionsWithTimestamps =
            { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7 };

        private static byte[] AckTimestamps(uint tsVal, uint tsEcr) => new Seg().WithTs(tsVal, tsEcr).OptionBytes();

        /// <summary>Offset of TCP option <paramref name="kind"/> in a captured frame, or -1.</summary>
        private static int FindOption(byte[] frame, int kind)
        {
            int end = 34 + (frame[46] >> 4) * 4;
            int i = 54;
            while (i < end)
            {
                if (frame[i] == 0)
                {
                    break;
                }
                if (frame[i] == 1)
                {
                    i++;
                    continue;
                }
                if (frame[i] == kind)
                {
                    return i;
                }
                i += frame[i + 1];
            }
            return -1;
        }

        /// <summary>A stack whose listener (backlog 1) already holds one half-open connection: SYNs get cookies.</summary>
        private static SingleStack FullListener(out Socket listener)
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            listener = SynQueueTests.Listen(s, 1);
            s.Inject(SynQueueTests.Segment(20000, 0x02, 1000, 0, SynOptionsWithTimestamps));
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.EqualTo(1));
            s.Capture.Frames.Clear();
            return s;
        }

        [Test]
        public void CookieSynAckCarriesOptionsInItsTsvalAndTheAckRestoresThem()
        {
            SingleStack s = FullListener(out Socket listener);
            s.Clock.AdvanceMilliseconds(12345);
            s.Inject(SynQueueTests.Segment(30000, 0x02, 0x5000, 0, SynOptionsWithTimestamps));
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesSent), Is.EqualTo(1));
            byte[] synAck = s.Capture.Take();
            Assert.That(synAck[47], Is.EqualTo(0x12), "SYN|ACK");
            Assert.That(FindOption(synAck, 3), Is.GreaterThan(0), "window scale offered");
            Assert.That(FindOption(synAck, 4), Is.GreaterThan(0), "SACK-permitted offered");
            int ts = FindOption(synAck, 8);
            Assert.That(ts, Is.GreaterThan(0), "timestamps");
            uint tsVal = Frames.Get32(synAck, ts + 2);
            Assert.That(Frames.Get32(synAck, ts + 6), Is.EqualTo(0x01020304u), "TSecr echoes the SYN's TSval");
            uint clockTs = tsVal - s.Stack.Tcp.TsOffset;
            Assert.That(clockTs & 0x3F, Is.EqualTo(0x10u | 7u), "TS_OPT_SACK | window scale 7");
            uint nowMs = (uint)(s.Clock.NowNanoseconds / 1_000_000);
            Assert.That(clockTs, Is.LessThanOrEqualTo(nowMs).And.GreaterThan(nowMs - 64), "time-based, never ahead");

            uint cookie = Frames.Get32(synAck, 38);
            s.Inject(SynQueueTests.Segment(30000, 0x10, 0x5001, cookie + 1, AckTimestamps(0x01020305, tsVal)));
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesReceived), Is.EqualTo(1));
            Assert.That(listener.Accept(out Socket accepted), Is.EqualTo(SocketError.Success));
            accepted.GetTcpInfo(out TcpInfo info);
            Assert.That(info.State, Is.EqualTo(TcpState.Established));
            Assert.That(info.SendWindowScale, Is.EqualTo(7));
            // The window may grow by auto-tuning to NetConfig.TcpReceiveBufferMax (4 MiB): RFC 7323 2.3, the
            // smallest shift that fits 4,194,304 into 16 bits is 7.
            Assert.That(info.ReceiveWindowScale, Is.EqualTo(7));
            Assert.That(info.SackPermitted, Is.True);
            Assert.That(info.Timestamps, Is.True);
            Assert.That(info.SendMss, Is.EqualTo(1460 - 12), "cookie MSS 1460 less the timestamp option (RFC 7323)");
            Assert.That(s.Capture.Frames, Is.Empty, "no RST");
        }

        [Test]
        public void SynWithoutTimestampsStillGetsAnMssOnlyCookie()
        {
            SingleStack s = FullListener(out Socket listener);
            s.Inject(SynQueueTests.Segment(30000, 0x02, 0x5000, 0, new byte[] { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 }));
            byte[] synAck = s.Capture.Take();
            Assert.That((synAck[46] >> 4) * 4, Is.EqualTo(24), "MSS only, as Linux without timestamps");
            s.Inject(SynQueueTests.Segment(30000, 0x10, 0x5001, Frames.Get32(synAck, 38) + 1, null));
            Assert.That(listener.Accept(out Socket accepted), Is.EqualTo(SocketError.Success));
            accepted.GetTcpInfo(out TcpInfo info);
            Assert.That(info.SendWindowScale, Is.EqualTo(-1), "no window scaling");
            Assert.That(info.ReceiveWindowScale, Is.EqualTo(-1));
            Assert.That(info.SendMss, Is.EqualTo(1460));
            Assert.That(info.SackPermitted, Is.False);
            Assert.That(info.Timestamps, Is.False);
        }

        [Test]
        public void ForgedOrExpiredCookiesStillFailAndAreCounted()
        {
            SingleStack s = FullListener(out Socket listener);
            s.Inject(SynQueueTests.Segment(30000, 0x02, 0x5000, 0, SynOptionsWithTimestamps));
            byte[] synAck = s.Capture.Take();
            uint cookie = Frames.Get32(synAck, 38);
            uint tsVal = Frames.Get32(synAck, FindOption(synAck, 8) + 2);

            // A forged cookie with a well-formed timestamp.
            s.Inject(SynQueueTests.Segment(30000, 0x10, 0x5001, cookie + 0x100 + 1, AckTimestamps(0x01020305, tsVal)));
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesFailed), Is.EqualTo(1));
            Assert.That(s.Capture.Take()[47] & 0x04, Is.EqualTo(0x04), "RST");

            // A valid cookie whose echoed TSval has the ECN bit this stack never sets.
            s.Inject(SynQueueTests.Segment(30000, 0x10, 0x5001, cookie + 1, AckTimestamps(0x01020305, tsVal | 0x20)));
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesFailed), Is.EqualTo(2));
            Assert.That(s.Capture.Take()[47] & 0x04, Is.EqualTo(0x04), "RST");

            // The real cookie, two minutes later (Linux MAX_SYNCOOKIE_AGE).
            s.Clock.AdvanceMilliseconds(2 * 60_000);
            s.Inject(SynQueueTests.Segment(30000, 0x10, 0x5001, cookie + 1, AckTimestamps(0x01020305, tsVal)));
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesFailed), Is.EqualTo(3));
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesReceived), Is.Zero);
            Assert.That(listener.Accept(out _), Is.Not.EqualTo(SocketError.Success));
        }

        [Test]
        public void CookieConnectionBetweenTwoStacksAgreesScalingSackTimestampsAndMovesDataExactly()
        {
            NetPair pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig(), 7);
            Socket listener = pair.Listen(pair.B, SynQueueTestsPort, 1);
            // A half-open connection from a host that never answers (198.18.0.3) fills the listener's SYN queue.
            byte[] phantom = SynQueueTests.Segment(20000, 0x02, 1000, 0, SynOptionsWithTimestamps);
            phantom[29] = 3;
            Frames.FixChecksums(phantom);
            pair.DeviceB.Inject(phantom);
            pair.B.ReceiveBatchDone();
            Assert.That(pair.B.Tcp.SynQueue.Count, Is.EqualTo(1));

            Socket client = pair.A.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(client.Connect(new IPEndPoint(NetPair.AddressB, SynQueueTestsPort)), Is.EqualTo(SocketError.InProgress));
            Socket server = null;
            for (int i = 0; i < 20000 && server == null; i++)
            {
                pair.Step();
                if (listener.Accept(out Socket s) == SocketError.Success)
                {
                    server = s;
                }
            }
            Assert.That(server, Is.Not.Null, "accept");
            Assert.That(pair.B.Counter(NetStatistics.TcpSynCookiesSent), Is.EqualTo(1));
            Assert.That(pair.B.Counter(NetStatistics.TcpSynCookiesReceived), Is.EqualTo(1));
            Assert.That(pair.B.Counter(NetStatistics.TcpSynCookiesFailed), Is.Zero);

            int scale = TcpLayer.WindowScaleFor(NetPair.TestConfig().TcpReceiveBufferMax);
            Assert.That(scale, Is.GreaterThan(0), "the buffers need window scaling");
            client.GetTcpInfo(out TcpInfo c);
            server.GetTcpInfo(out TcpInfo sv);
            Assert.That(c.State, Is.EqualTo(TcpState.Established));
            Assert.That(sv.State, Is.EqualTo(TcpState.Established));
            Assert.That(new[] { c.SendWindowScale, c.ReceiveWindowScale, sv.SendWindowScale, sv.ReceiveWindowScale },
                Is.EqualTo(new[] { scale, scale, scale, scale }), "window scale agreed both ways");
            Assert.That(c.SackPermitted && sv.SackPermitted, Is.True, "SACK agreed");
            Assert.That(c.Timestamps && sv.Timestamps, Is.True, "timestamps agreed");

            // Data with loss, so the window scale and SACK are used: byte-exact. (No reordering: with millisecond
            // timestamps a segment overtaken by a later one is rightly dropped by PAWS, which would blur the check
            // that the cookie's TSval, up to 63 ms behind the clock, upsets nothing.)
            pair.Link.LossRate = 0.02;
            BulkTransfer up = new BulkTransfer(client, server, 3 * 1024 * 1024);
            Assert.That(pair.RunUntil(up, 300_000), Is.True, "client to server: " + up.Received);
            Assert.That(up.Mismatches, Is.Zero);
            Assert.That(up.Received, Is.EqualTo(3 * 1024 * 1024));
            server.GetTcpInfo(out sv);
            client.GetTcpInfo(out c);
            Assert.That(c.TotalRetransmits, Is.GreaterThan(0), "the loss was recovered");
            Assert.That(c.FastRetransmits, Is.GreaterThan(0), "recovered from SACK/duplicate ACKs, not only timeouts");
            Assert.That(sv.PawsRejected + c.PawsRejected, Is.Zero, "the cookie TSval did not upset PAWS");
            Assert.That(sv.SegmentsIn, Is.GreaterThan(3 * 1024 * 1024 / 1448));
            Assert.That(pair.AllReturned(out string detail), Is.True, detail);
        }

        private const int SynQueueTestsPort = 80; // SynQueueTests.Segment addresses port 80
    }
}
