using System;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Internal;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// Listen queues: SipHash against its paper's test vector, SYN cookies against Linux's
    /// layout (net/ipv4/syncookies.c), the SYN queue's limit, cookies during a SYN flood, SYN-ACK retries
    /// (Linux: 5, dropped 63 s after the SYN), and a RST rather than a silent hang when no socket is left.
    /// </summary>
    [TestFixture]
    public sealed unsafe class SynQueueTests
    {
        private const int ListenPort = 80;

        [Test]
        public void SipHash24MatchesThePaperTestVector()
        {
            // Aumasson & Bernstein, SipHash paper appendix A: key 00..0f, message 00..0e (15 bytes).
            byte* message = stackalloc byte[15];
            for (int i = 0; i < 15; i++)
            {
                message[i] = (byte)i;
            }
            ulong k0 = 0x0706050403020100UL;
            ulong k1 = 0x0F0E0D0C0B0A0908UL;
            Assert.That(SipHash.Hash(k0, k1, message, 15), Is.EqualTo(0xa129ca6149be45e5UL));
        }

        // Linux msstab {536, 1300, 1440, 1460}; over IPv6 MTU 1280, 1480, 1500 and 9000 less 60 bytes of headers.
        [TestCase(1460, false, 1460, 3)]
        [TestCase(9000, false, 1460, 3)]
        [TestCase(1440, false, 1440, 2)]
        [TestCase(1452, false, 1440, 2)]
        [TestCase(1400, false, 1300, 1)]
        [TestCase(1300, false, 1300, 1)]
        [TestCase(1299, false, 536, 0)]
        [TestCase(536, false, 536, 0)]
        [TestCase(100, false, 536, 0)]
        [TestCase(9000, true, 8940, 3)]
        [TestCase(1440, true, 1440, 2)]
        [TestCase(1439, true, 1420, 1)]
        [TestCase(1420, true, 1420, 1)]
        [TestCase(1220, true, 1220, 0)]
        [TestCase(536, true, 1220, 0)]
        public void CookieMssIsLinuxTableValueAtOrBelowThePeers(int peer, bool ipv6, int expected, int expectedIndex)
        {
            // The largest entry not above the peer's MSS, else the first.
            int index;
            Assert.That(SynCookies.EncodableMss(peer, ipv6, out index), Is.EqualTo(expected));
            Assert.That(index, Is.EqualTo(expectedIndex));
        }

        [Test]
        public void Ipv6CookieHashesWholeAddresses()
        {
            SynCookies cookies = new SynCookies(0x1111, 0x2222, 0x3333, 0x4444);
            IPAddress s = new IPv6Address(0x20010DB800000001UL, 0x0000000000000001UL);
            IPAddress d = new IPv6Address(0x20010DB800000001UL, 0x0000000000000002UL);
            uint isn = 0x55667788, minute = 77;
            uint cookie = cookies.Make(s, d, 40001, 5201, isn, 3, minute);
            Assert.That(cookies.Check(s, d, 40001, 5201, isn, cookie, minute), Is.EqualTo(3));
            Assert.That(cookies.Check(s, d, 40001, 5201, isn, cookie, minute + 1), Is.EqualTo(3), "one minute old");
            Assert.That(cookies.Check(s, d, 40001, 5201, isn, cookie, minute + 2), Is.EqualTo(-1), "MAX_SYNCOOKIE_AGE 2");
            // Addresses that differ only in their upper 64 bits, or that an IPv4 hash of the low bits would confuse.
            IPAddress otherPrefix = new IPv6Address(0x20010DB800000002UL, 0x0000000000000001UL);
            Assert.That(cookies.Check(otherPrefix, d, 40001, 5201, isn, cookie, minute), Is.EqualTo(-1), "other prefix");
            Assert.That(cookies.Check(new IPv4Address(1), new IPv4Address(2), 40001, 5201, isn, cookie, minute), Is.EqualTo(-1), "IPv4");
        }

        [Test]
        public void CookieHasLinuxLayoutAndIsValidForTwoMinutes()
        {
            ulong k0a = 0x1111, k0b = 0x2222, k1a = 0x3333, k1b = 0x4444;
            SynCookies cookies = new SynCookies(k0a, k0b, k1a, k1b);
            uint saddr = 0xC6120001, daddr = 0xC6120002, isn = 0x11223344;
            int sport = 40001, dport = 80;
            uint minute = 1000;
            IPAddress s = new IPv4Address(saddr), d = new IPv4Address(daddr);
            uint cookie = cookies.Make(s, d, sport, dport, isn, 2, minute);
            // syncookies.c secure_tcp_syn_cookie: H0 + sseq + (count << 24) + ((H1(count) + data) & 0xFFFFFF).
            uint ports = ((uint)sport << 16) | (uint)dport;
            uint h0 = (uint)SipHash.Hash4(k0a, k0b, saddr, daddr, ports, 0);
            uint h1 = (uint)SipHash.Hash4(k1a, k1b, saddr, daddr, ports, minute);
            Assert.That(cookie, Is.EqualTo(unchecked(h0 + isn + (minute << 24) + ((h1 + 2) & 0xFFFFFF))));

            Assert.That(cookies.Check(s, d, sport, dport, isn, cookie, minute), Is.EqualTo(2));
            Assert.That(cookies.Check(s, d, sport, dport, isn, cookie, minute + 1), Is.EqualTo(2), "one minute old");
            Assert.That(cookies.Check(s, d, sport, dport, isn, cookie, minute + 2), Is.EqualTo(-1), "MAX_SYNCOOKIE_AGE 2");
            Assert.That(cookies.Check(s, d, sport + 1, dport, isn, cookie, minute), Is.EqualTo(-1), "other port");
            Assert.That(cookies.Check(new IPv4Address(saddr + 1), d, sport, dport, isn, cookie, minute), Is.EqualTo(-1), "other address");
            // The client ISN is added, not hashed (as in Linux): a different ISN shifts the low bits out of the
            // four MSS values unless it differs by less than the index.
            Assert.That(cookies.Check(s, d, sport, dport, isn + 7, cookie, minute), Is.EqualTo(-1), "other ISN");
            Assert.That(cookies.Check(s, d, sport, dport, isn, cookie + 0x10, minute), Is.EqualTo(-1), "forged");
            Assert.That(new SynCookies(1, 2, 3, 4).Check(s, d, sport, dport, isn, cookie, minute), Is.EqualTo(-1), "other secret");
            Assert.That(SynCookies.Minute(Instant.FromNanoseconds(3 * 60_000_000_000L + 5)), Is.EqualTo(3u));
        }

        [Test]
        public void SynFloodFillsTheQueueThenCookiesServeARealClient()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            Socket listener = Listen(s, 8);
            for (int i = 0; i < 64; i++)
            {
                s.Inject(Segment(20000 + i, 0x02, 1000u * (uint)i, 0, SynOptions));
            }
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.EqualTo(8), "the SYN queue holds the backlog");
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesSent), Is.EqualTo(56));
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(64), "every SYN answered");
            s.Capture.Frames.Clear();

            // A real client: its SYN gets a cookie, its ACK makes the connection at once.
            s.Inject(Segment(30000, 0x02, 0x5000, 0, SynOptions));
            byte[] synAck = s.Capture.Take();
            Assert.That(synAck[47], Is.EqualTo(0x12), "SYN|ACK");
            Assert.That(Frames.Get32(synAck, 42), Is.EqualTo(0x5001u));
            Assert.That((synAck[46] >> 4) * 4, Is.EqualTo(24), "a cookie SYN-ACK offers only the MSS (no window scale)");
            uint cookie = Frames.Get32(synAck, 38);
            s.Inject(Segment(30000, 0x10, 0x5001, cookie + 1, null));
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesReceived), Is.EqualTo(1));
            Socket accepted;
            Assert.That(listener.Accept(out accepted), Is.EqualTo(SocketError.Success));
            Assert.That(accepted.State, Is.EqualTo(TcpState.Established));
            TcpInfo info;
            accepted.GetTcpInfo(out info);
            Assert.That(s.Capture.Frames, Is.Empty, "no RST");

            // A forged ACK (no entry, bad cookie) gets a RST and is counted.
            s.Inject(Segment(30001, 0x10, 0x7001, 0x12345678, null));
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesFailed), Is.EqualTo(1));
            Assert.That(s.Capture.Take()[47] & 0x04, Is.EqualTo(0x04), "RST");
        }

        [Test]
        public void QueuedHandshakeKeepsWindowScaleAndCompletes()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            Socket listener = Listen(s, 8);
            s.Inject(Segment(30000, 0x02, 0x5000, 0, SynOptions));
            byte[] synAck = s.Capture.Take();
            Assert.That((synAck[46] >> 4) * 4, Is.EqualTo(28), "MSS and window scale");
            Assert.That(s.Counter(NetStatistics.TcpSynCookiesSent), Is.Zero);
            s.Inject(Segment(30000, 0x10, 0x5001, Frames.Get32(synAck, 38) + 1, null));
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.Zero);
            Socket accepted;
            Assert.That(listener.Accept(out accepted), Is.EqualTo(SocketError.Success));
            Assert.That(s.Counter(NetStatistics.TcpPassiveOpens), Is.EqualTo(1));
        }

        [Test]
        public void SynAckIsRetriedFiveTimesThenTheEntryGoesAfter63Seconds()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            Listen(s, 8);
            s.Stack.Poll(); // the first poll announces the address (gratuitous ARP)
            s.Capture.Frames.Clear();
            long start = s.Clock.NowNanoseconds;
            s.Inject(Segment(30000, 0x02, 0x5000, 0, SynOptions));
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            // Linux: TCP_TIMEOUT_INIT 1 s doubling, tcp_synack_retries 5: resent at 1, 3, 7, 15, 31 s.
            long[] expected = { 1000, 3000, 7000, 15000, 31000 };
            int seen = 1;
            var times = new System.Collections.Generic.List<long>();
            for (long ms = 0; ms <= 70_000; ms += 100)
            {
                s.Clock.NowNanoseconds = start + ms * 1_000_000L;
                s.Stack.Poll();
                if (s.Capture.Frames.Count > seen)
                {
                    seen = s.Capture.Frames.Count;
                    times.Add(ms);
                }
                if (ms == 62_900)
                {
                    Assert.That(s.Stack.Tcp.SynQueue.Count, Is.EqualTo(1), "still half-open before 63 s");
                }
            }
            Assert.That(times, Is.EqualTo(expected));
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.Zero, "dropped at 63 s");
            Assert.That(s.Counter(NetStatistics.TcpSynAckTimeouts), Is.EqualTo(1));
        }

        [Test]
        public void NoSocketLeftForACompletedHandshakeMeansReset()
        {
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, new IPv4Address(198, 18, 0, 254));
            config.MaxSockets = 1;
            SingleStack s = new SingleStack(config);
            s.LearnHost();
            Listen(s, 8);
            s.Inject(Segment(30000, 0x02, 0x5000, 0, SynOptions));
            byte[] synAck = s.Capture.Take();
            s.Inject(Segment(30000, 0x10, 0x5001, Frames.Get32(synAck, 38) + 1, null));
            byte[] reset = s.Capture.Take();
            Assert.That(reset[47] & 0x04, Is.EqualTo(0x04), "RST, not a silent hang");
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.Zero);
        }

        [Test]
        public void ClosingTheListenerForgetsItsHalfOpenConnections()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            Socket listener = Listen(s, 8);
            s.Inject(Segment(30000, 0x02, 0x5000, 0, SynOptions));
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.EqualTo(1));
            listener.Close();
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.Zero);
        }

        private static readonly byte[] SynOptions = { 2, 4, 0x05, 0xb4, 1, 3, 3, 7 };

        internal static Socket Listen(SingleStack s, int backlog)
        {
            Socket listener = s.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            Assert.That(listener.Bind(new IPEndPoint(IPv4Address.Any, ListenPort)), Is.EqualTo(SocketError.Success));
            Assert.That(listener.Listen(backlog), Is.EqualTo(SocketError.Success));
            return listener;
        }

        /// <summary>A segment from the host (198.18.0.1:<paramref name="sourcePort"/>) to port 80.</summary>
        internal static byte[] Segment(int sourcePort, int flags, uint sequence, uint ack, byte[] options) =>
            Frames.Tcp(new Seg { Sequence = sequence, Acknowledgment = ack, Flags = flags, RawOptions = options ?? new byte[0] }.WithPorts(sourcePort, ListenPort));
    }
}
