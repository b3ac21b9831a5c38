using System;
using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Dns;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The stub resolver (stack B) against <see cref="FakeDnsServer"/> (stack A, 198.18.0.1) on the in-memory
    /// link, and its message format checked against RFC 1035 (A records) and RFC 3596 (AAAA records).
    /// </summary>
    public unsafe class DnsTests
    {
        private const long Second = 1_000_000_000L;

        private sealed class Bed
        {
            public readonly NetPair Pair = new NetPair();
            public readonly FakeDnsServer Server;
            public readonly DnsResolver Resolver;

            public Bed()
            {
                Pair.StepMicroseconds = 1000;
                Server = new FakeDnsServer(Pair.A);
                Server.Zone["www.keel.test"] = ("A", "198.18.0.80", 300);
                Server.Zone["alias.keel.test"] = ("CNAME", "middle.keel.test", 600);
                Server.Zone["middle.keel.test"] = ("CNAME", "www.keel.test", 120);
                Server.Zone["loop1.keel.test"] = ("CNAME", "loop2.keel.test", 60);
                Server.Zone["loop2.keel.test"] = ("CNAME", "loop1.keel.test", 60);
                // RFC 3596 2.2's example address.
                Server.Zone6["www.keel.test"] = ("4321:0:1:2:3:4:567:89ab", 900);
                Server.Zone6["v6only.keel.test"] = ("2001:db8::80", 60);
                Resolver = new DnsResolver(Pair.B);
                Resolver.AddServer(new IPv4Address(198, 18, 0, 1));
            }

            public DnsQuery Resolve(string name, int milliseconds = 30000, AddressFamily family = AddressFamily.InterNetwork)
            {
                DnsQuery q = Resolver.Resolve(name, family);
                Assert.That(q, Is.Not.Null);
                long end = Pair.Clock.NowNanoseconds + milliseconds * 1_000_000L;
                while (q.Status == DnsStatus.InProgress && Pair.Clock.NowNanoseconds < end)
                {
                    Pair.Step();
                    Resolver.Poll();
                    Server.Poll();
                }
                return q;
            }

            public long C(int counter) => Resolver.Counters[counter];
        }

        [Test]
        public void QueryIsTheRfc1035Message()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            DnsResolver resolver = new DnsResolver(s.Stack);
            resolver.AddServer(new IPv4Address(198, 18, 0, 1));
            DnsQuery q = resolver.Resolve("www.Example.COM.");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.InProgress));
            byte[] f = s.Capture.Frames.Find(x => x[23] == 17);
            Assert.That(f[36] << 8 | f[37], Is.EqualTo(53));
            Assert.That(f[34] << 8 | f[35], Is.GreaterThanOrEqualTo(49152), "ephemeral source port");
            byte[] m = f.AsSpan(42, (f[38] << 8 | f[39]) - 8).ToArray();
            List<byte> expected = new List<byte>();
            expected.AddRange(m.AsSpan(0, 2).ToArray());                       // ID (random)
            expected.AddRange(new byte[] { 0x01, 0x00 });                      // QR 0, opcode 0, RD 1
            expected.AddRange(new byte[] { 0, 1, 0, 0, 0, 0, 0, 0 });          // QDCOUNT 1, AN/NS/AR 0
            expected.AddRange(new byte[] { 3, (byte)'w', (byte)'w', (byte)'w', 7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 3, (byte)'c', (byte)'o', (byte)'m', 0 });
            expected.AddRange(new byte[] { 0, 1, 0, 1 });                      // QTYPE A, QCLASS IN
            Assert.That(m, Is.EqualTo(expected.ToArray()));
            q.Release();
        }

        [Test]
        public void CompressedNamesDecodeAsInRfc1035Section414()
        {
            // The example of RFC 1035 4.1.4: F.ISI.ARPA at 20, FOO.F.ISI.ARPA at 40 (pointer to 20), ARPA at 64 (pointer to 26).
            byte[] m = new byte[80];
            byte[] fisi = { 1, (byte)'F', 3, (byte)'I', (byte)'S', (byte)'I', 4, (byte)'A', (byte)'R', (byte)'P', (byte)'A', 0 };
            fisi.CopyTo(m, 20);
            new byte[] { 3, (byte)'F', (byte)'O', (byte)'O', 0xC0, 20 }.CopyTo(m, 40);
            new byte[] { 0xC0, 26 }.CopyTo(m, 64);
            new byte[] { 0xC0, 70 }.CopyTo(m, 70);   // a pointer to itself
            new byte[] { 1, (byte)'a', 0xC0, 72 }.CopyTo(m, 72);   // a pointer into its own name
            byte[] output = new byte[255];
            fixed (byte* p = m)
            fixed (byte* o = output)
            {
                int length = DnsMessage.ReadName(p, m.Length, 40, o, out int next);
                Assert.That(next, Is.EqualTo(46));
                Assert.That(output.AsSpan(0, length).ToArray(), Is.EqualTo(FakeDnsServer.EncodeName("foo.f.isi.arpa")));
                length = DnsMessage.ReadName(p, m.Length, 64, o, out next);
                Assert.That(output.AsSpan(0, length).ToArray(), Is.EqualTo(FakeDnsServer.EncodeName("arpa")));
                Assert.That(next, Is.EqualTo(66));
                Assert.That(DnsMessage.ReadName(p, m.Length, 70, o, out next), Is.EqualTo(0), "pointer loop");
                Assert.That(DnsMessage.ReadName(p, m.Length, 72, o, out next), Is.EqualTo(0), "forward pointer");
                Assert.That(DnsMessage.ReadName(p, 25, 20, o, out next), Is.EqualTo(0), "runs past the end");
            }
        }

        [Test]
        public void ResolvesAnARecordAndCachesItForItsTtl()
        {
            Bed b = new Bed();
            DnsQuery q = b.Resolve("www.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.Address, Is.EqualTo((IPAddress)new IPv4Address(198, 18, 0, 80)));
            Assert.That(q.TimeToLive, Is.EqualTo(300u));
            Assert.That(q.FromCache, Is.False);
            q.Release();
            q = b.Resolve("WWW.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success), "answered at once from the cache");
            Assert.That(q.FromCache, Is.True);
            Assert.That(q.TimeToLive, Is.InRange(298u, 300u));
            Assert.That(b.Server.UdpQueries, Is.EqualTo(1));
            q.Release();
            b.Pair.Clock.AdvanceMilliseconds(301_000);
            q = b.Resolve("www.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.FromCache, Is.False, "expired after 300 s");
            Assert.That(b.Server.UdpQueries, Is.EqualTo(2));
            q.Release();
            Assert.That(b.Resolver.FreeQueries, Is.EqualTo(4));
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        [Test]
        public void FollowsACnameChainInOneAnswerWithTheSmallestTtl()
        {
            Bed b = new Bed();
            DnsQuery q = b.Resolve("alias.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.Address, Is.EqualTo((IPAddress)new IPv4Address(198, 18, 0, 80)));
            Assert.That(q.CnameCount, Is.EqualTo(2));
            Assert.That(q.TimeToLive, Is.EqualTo(120u));
            Assert.That(b.Server.UdpQueries, Is.EqualTo(1));
        }

        [Test]
        public void AsksAgainForTheTargetWhenTheAnswerStopsAtACname()
        {
            Bed b = new Bed();
            b.Server.CnameOnly = true;
            DnsQuery q = b.Resolve("alias.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.Address, Is.EqualTo((IPAddress)new IPv4Address(198, 18, 0, 80)));
            Assert.That(b.Server.UdpQueries, Is.EqualTo(3));
            Assert.That(b.C(DnsStatistics.CnameRequeries), Is.EqualTo(2));
            q = b.Resolve("loop1.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.ChainTooLong));
        }

        [Test]
        public void NameErrorNoDataAndServerFailure()
        {
            Bed b = new Bed();
            Assert.That(b.Resolve("nothere.keel.test").Status, Is.EqualTo(DnsStatus.NameError));
            b.Server.ForceRcode = 0;
            Assert.That(b.Resolve("empty.keel.test").Status, Is.EqualTo(DnsStatus.NoData));
            b.Server.ForceRcode = 2;
            Assert.That(b.Resolve("www.keel.test").Status, Is.EqualTo(DnsStatus.ServerFailure));
            Assert.That(b.Server.UdpQueries, Is.EqualTo(2 + DnsResolver.MaxAttempts));
        }

        /// <summary>
        /// An A record of 0.0.0.0 (a sinkhole's "blocked") or of the limited broadcast names no host: skipped and
        /// counted, so the query ends without an address rather than "resolved" to what an unresolved query holds.
        /// </summary>
        [TestCase("0.0.0.0")]
        [TestCase("0.1.2.3")]
        [TestCase("255.255.255.255")]
        public void UnusableAddressIsNoAnswer(string address)
        {
            Bed b = new Bed();
            b.Server.Zone["blocked.keel.test"] = ("A", address, 300);
            DnsQuery q = b.Resolve("blocked.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.NoData));
            Assert.That(q.Address, Is.EqualTo(IPAddress.Any));
            Assert.That(b.C(DnsStatistics.UnusableAddress), Is.EqualTo(1));
            Assert.That(b.Resolve("www.keel.test").Status, Is.EqualTo(DnsStatus.Success), "the next query still works");
        }

        [Test]
        public void LostRepliesAreRetriedWithDoublingTimeoutsThenTimedOut()
        {
            Bed b = new Bed();
            b.Server.DropReplies = 2;
            DnsQuery q = b.Resolve("www.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(b.Server.UdpQueries, Is.EqualTo(3));
            Assert.That(b.Server.QueryTimes[1] - b.Server.QueryTimes[0], Is.EqualTo(1 * Second).Within(5_000_000));
            Assert.That(b.Server.QueryTimes[2] - b.Server.QueryTimes[1], Is.EqualTo(2 * Second).Within(5_000_000));
            b.Resolver.FlushCache();
            b.Server.DropReplies = 100;
            q = b.Resolve("www.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.TimedOut));
            Assert.That(b.Server.UdpQueries, Is.EqualTo(3 + DnsResolver.MaxAttempts));
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        [Test]
        public void TruncatedAnswerIsAskedAgainOverTcp()
        {
            Bed b = new Bed();
            b.Server.TruncateUdp = true;
            DnsQuery q = b.Resolve("alias.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.UsedTcp, Is.True);
            Assert.That(q.Address, Is.EqualTo((IPAddress)new IPv4Address(198, 18, 0, 80)));
            Assert.That(b.Server.TcpQueries, Is.EqualTo(1));
            Assert.That(b.C(DnsStatistics.Truncated), Is.EqualTo(1));
            q.Release();
            b.Pair.Run(2000);
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        /// <summary>Offset of the first answer record of an answer about "www.keel.test": header, name, type and class.</summary>
        private const int WwwAnswers = 12 + 15 + 4;

        /// <summary>A copy of <paramref name="m"/> with <paramref name="bytes"/> written at <paramref name="offset"/>.</summary>
        private static byte[] Set(byte[] m, int offset, params byte[] bytes)
        {
            byte[] c = (byte[])m.Clone();
            bytes.CopyTo(c, offset);
            return c;
        }

        [Test]
        public void MalformedAndHostileAnswersAreCountedAndDropped()
        {
            Bed b = new Bed();
            b.Server.Tamper.Enqueue(m => Set(m, 0, (byte)(m[0] ^ 0xFF)));                     // another ID
            b.Server.Tamper.Enqueue(m => Set(m, 13, (byte)'x'));                              // another question
            b.Server.Tamper.Enqueue(m => Set(m, WwwAnswers, 0xC0, (byte)WwwAnswers));               // owner: pointer to itself
            DnsQuery q = b.Resolve("www.keel.test", 60000);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success), "the retry after the bad answers works");
            Assert.That(q.Address, Is.EqualTo((IPAddress)new IPv4Address(198, 18, 0, 80)));
            q.Release();
            b.Resolver.FlushCache();
            b.Server.Tamper.Enqueue(m => Set(m, WwwAnswers + 10, 0, 5));                         // A record of 5 bytes
            b.Server.Tamper.Enqueue(m => Set(m, 6, 0, 50));                                   // 50 answers, 1 present
            b.Server.Tamper.Enqueue(m => m.AsSpan(0, 8).ToArray());                           // shorter than a header
            q = b.Resolve("www.keel.test", 60000);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(b.C(DnsStatistics.WrongId), Is.EqualTo(1));
            Assert.That(b.C(DnsStatistics.WrongQuestion), Is.EqualTo(1));
            Assert.That(b.C(DnsStatistics.Malformed), Is.EqualTo(4));
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        [Test]
        public void NamesAddressesAndMissingServers()
        {
            Bed b = new Bed();
            DnsStatus Status(string name)
            {
                DnsQuery q = b.Resolve(name);
                DnsStatus status = q.Status;
                q.Release();
                return status;
            }
            DnsQuery literal = b.Resolve("198.18.0.7");
            Assert.That(literal.Address, Is.EqualTo((IPAddress)new IPv4Address(198, 18, 0, 7)));
            literal.Release();
            Assert.That(Status("bad name"), Is.EqualTo(DnsStatus.BadName));
            Assert.That(Status("a..b"), Is.EqualTo(DnsStatus.BadName));
            Assert.That(Status(new string('a', 64) + ".test"), Is.EqualTo(DnsStatus.BadName), "label over 63");
            Assert.That(Status(string.Join(".", System.Linq.Enumerable.Repeat("abcdefghi", 30))), Is.EqualTo(DnsStatus.BadName), "over 255 bytes");
            b.Resolver.ClearServers();
            Assert.That(Status("www.keel.test"), Is.EqualTo(DnsStatus.NoServers));
            Assert.That(b.Server.UdpQueries, Is.EqualTo(0));
            for (int i = 0; i < 4; i++)
            {
                Assert.That(b.Resolver.Resolve("x.keel.test"), Is.Not.Null);
            }
            Assert.That(b.Resolver.Resolve("x.keel.test"), Is.Null, "all queries in use");
        }

        [Test]
        public void ServersClearedDuringAQueryEndItWithoutACrash()
        {
            Bed b = new Bed();
            b.Server.DropReplies = 100;
            DnsQuery q = b.Resolver.Resolve("www.keel.test");
            b.Pair.Run(100);
            b.Resolver.ClearServers();   // the DHCP lease that named the server ran out
            for (int i = 0; i < 20000 && q.Status == DnsStatus.InProgress; i++)
            {
                b.Pair.Step();
                b.Resolver.Poll();
                b.Server.Poll();
            }
            Assert.That(q.Status, Is.EqualTo(DnsStatus.NoServers));
            q.Release();
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        /// <summary>RFC 3596 2.2: "4321:0:1:2:3:4:567:89ab" in a AAAA record's 16 bytes of RDATA.</summary>
        private static readonly IPAddress Rfc3596Address = new IPv6Address(0x4321, 0, 1, 2, 3, 4, 0x567, 0x89ab);

        [Test]
        public void AaaaQueryIsTheRfc3596Message()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            DnsResolver resolver = new DnsResolver(s.Stack);
            resolver.AddServer(new IPv4Address(198, 18, 0, 1));
            DnsQuery q = resolver.Resolve("www.Example.COM.", AddressFamily.InterNetworkV6);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.InProgress));
            Assert.That(q.Family, Is.EqualTo(AddressFamily.InterNetworkV6));
            byte[] f = s.Capture.Frames.Find(x => x[23] == 17);
            byte[] m = f.AsSpan(42, (f[38] << 8 | f[39]) - 8).ToArray();
            List<byte> expected = new List<byte>();
            expected.AddRange(m.AsSpan(0, 2).ToArray());                       // ID (random)
            expected.AddRange(new byte[] { 0x01, 0x00 });                      // QR 0, opcode 0, RD 1
            expected.AddRange(new byte[] { 0, 1, 0, 0, 0, 0, 0, 0 });          // QDCOUNT 1, AN/NS/AR 0
            expected.AddRange(new byte[] { 3, (byte)'w', (byte)'w', (byte)'w', 7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 3, (byte)'c', (byte)'o', (byte)'m', 0 });
            expected.AddRange(new byte[] { 0, 28, 0, 1 });                     // QTYPE AAAA (28, RFC 3596 2.1), QCLASS IN
            Assert.That(m, Is.EqualTo(expected.ToArray()));
            q.Release();
        }

        [Test]
        public void ResolvesAnAaaaRecordAndCachesEachFamilyApart()
        {
            Bed b = new Bed();
            DnsQuery q = b.Resolve("www.keel.test", family: AddressFamily.InterNetworkV6);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.Address, Is.EqualTo(Rfc3596Address));
            Assert.That(q.Address.IsIPv6, Is.True);
            Assert.That(q.TimeToLive, Is.EqualTo(900u));
            Assert.That(b.Server.LastQuery[^4..], Is.EqualTo(new byte[] { 0, 28, 0, 1 }), "asked for AAAA");
            q.Release();
            q = b.Resolve("www.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.FromCache, Is.False, "the AAAA answer is no A answer");
            Assert.That(q.Address, Is.EqualTo((IPAddress)new IPv4Address(198, 18, 0, 80)));
            q.Release();
            q = b.Resolve("WWW.keel.test", family: AddressFamily.InterNetworkV6);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.FromCache, Is.True);
            Assert.That(q.Address, Is.EqualTo(Rfc3596Address));
            q.Release();
            Assert.That(b.Server.UdpQueries, Is.EqualTo(2));
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        [Test]
        public void AaaaFollowsCnamesAndReportsNoDataAndNameError()
        {
            Bed b = new Bed();
            DnsQuery q = b.Resolve("alias.keel.test", family: AddressFamily.InterNetworkV6);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.Address, Is.EqualTo(Rfc3596Address));
            Assert.That(q.CnameCount, Is.EqualTo(2));
            Assert.That(q.TimeToLive, Is.EqualTo(120u));
            q.Release();
            b.Server.Zone["v4only.keel.test"] = ("A", "198.18.0.81", 300);
            q = b.Resolve("v4only.keel.test", family: AddressFamily.InterNetworkV6);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.NoData));
            Assert.That(DnsQuery.StatusName(q.Status, q.Family), Is.EqualTo("no AAAA record"));
            q.Release();
            q = b.Resolve("v6only.keel.test");
            Assert.That(q.Status, Is.EqualTo(DnsStatus.NoData), "an A question is not answered by the AAAA record");
            Assert.That(DnsQuery.StatusName(q.Status, q.Family), Is.EqualTo("no A record"));
            q.Release();
            Assert.That(b.Resolve("nothere.keel.test", family: AddressFamily.InterNetworkV6).Status, Is.EqualTo(DnsStatus.NameError));
            DnsQuery literal = b.Resolve("198.18.0.7", family: AddressFamily.InterNetworkV6);
            Assert.That(literal.Status, Is.EqualTo(DnsStatus.NoData), "an IPv4 address has no AAAA record");
            literal.Release();
        }

        /// <summary>
        /// A AAAA answer is checked as strictly as an A answer: RDATA of exactly 16 bytes (RFC 3596 2.2), the
        /// question echoed with QTYPE 28, a record of another type never read as the address, and the unspecified
        /// address and multicast addresses skipped and counted.
        /// </summary>
        [Test]
        public void MalformedAndUnusableAaaaAnswersAreCountedAndDropped()
        {
            Bed b = new Bed();
            b.Server.Tamper.Enqueue(m => Set(m, WwwAnswers + 10, 0, 4));                          // AAAA with 4 bytes of RDATA
            b.Server.Tamper.Enqueue(m => Set(m, WwwAnswers + 10, 0, 17));                         // 17 bytes, past the end
            b.Server.Tamper.Enqueue(m => Set(m, 12 + 15, 0, 1));                               // the question turned into A
            DnsQuery q = b.Resolve("www.keel.test", 60000, AddressFamily.InterNetworkV6);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success), "the retry after the bad answers works");
            Assert.That(q.Address, Is.EqualTo(Rfc3596Address));
            Assert.That(b.C(DnsStatistics.Malformed), Is.EqualTo(2));
            Assert.That(b.C(DnsStatistics.WrongQuestion), Is.EqualTo(1));
            q.Release();
            b.Resolver.FlushCache();
            b.Server.Tamper.Enqueue(m => Set(m, WwwAnswers + 2, 0, 1));                           // the record says A, 16 bytes
            q = b.Resolve("www.keel.test", 60000, AddressFamily.InterNetworkV6);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.NoData), "an A record is no answer to a AAAA question");
            q.Release();
            foreach (string unusable in new[] { "::", "ff02::1" })
            {
                b.Server.Zone6["blocked.keel.test"] = (unusable, 300);
                q = b.Resolve("blocked.keel.test", family: AddressFamily.InterNetworkV6);
                Assert.That(q.Status, Is.EqualTo(DnsStatus.NoData), unusable);
                Assert.That(q.Address, Is.EqualTo(IPAddress.Any));
                q.Release();
            }
            Assert.That(b.C(DnsStatistics.UnusableAddress), Is.EqualTo(2));
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        [Test]
        public void ServersOfBothFamiliesAreKeptInOrderAndBadOnesIgnored()
        {
            DnsResolver r = new Bed().Resolver;
            r.ClearServers();
            r.AddServer(new IPv6Address(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x53));
            r.AddServer(new IPv4Address(198, 18, 0, 1));
            r.AddServer(new IPv6Address(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x53));   // duplicate
            r.AddServer(IPAddress.IPv6Any);
            r.AddServer(new IPv6Address(0xff02, 0, 0, 0, 0, 0, 0, 1));           // multicast
            r.AddServer(new IPv4Address(224, 0, 0, 251));                         // multicast
            r.AddServer(new IPv4Address(255, 255, 255, 255));
            Assert.That(r.ServerCount, Is.EqualTo(2));
            Assert.That(r.Server(0), Is.EqualTo((IPAddress)new IPv6Address(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x53)));
            Assert.That(r.Server(1), Is.EqualTo((IPAddress)new IPv4Address(198, 18, 0, 1)));
            for (int i = 0; i < DnsResolver.MaxServers + 2; i++)
            {
                r.AddServer(new IPv4Address(198, 18, 1, (byte)(i + 1)));
            }
            Assert.That(r.ServerCount, Is.EqualTo(DnsResolver.MaxServers));
        }

        /// <summary>
        /// An IPv6 server that does not answer (or that the stack cannot reach yet) costs one timeout; the next
        /// server, over IPv4, answers.
        /// </summary>
        [Test]
        public void SilentIpv6ServerFallsBackToTheNextServer()
        {
            Bed b = new Bed();
            b.Resolver.ClearServers();
            b.Resolver.AddServer(new IPv6Address(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x53));
            b.Resolver.AddServer(new IPv4Address(198, 18, 0, 1));
            long start = b.Pair.Clock.NowNanoseconds;
            DnsQuery q = b.Resolve("www.keel.test", family: AddressFamily.InterNetworkV6);
            Assert.That(q.Status, Is.EqualTo(DnsStatus.Success));
            Assert.That(q.Address, Is.EqualTo(Rfc3596Address));
            Assert.That(b.Pair.Clock.NowNanoseconds - start, Is.GreaterThanOrEqualTo(1 * Second), "after the first timeout");
            Assert.That(b.C(DnsStatistics.UdpSent), Is.EqualTo(2));
            Assert.That(b.C(DnsStatistics.Retransmissions), Is.EqualTo(1));
            Assert.That(b.Server.UdpQueries, Is.EqualTo(1));
            q.Release();
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        /// <summary>
        /// Both families over a server reached by IPv6 (2001:db8::1, stack A): the query goes out over UDP/IPv6 and the
        /// answer comes from the server's IPv6 address.
        /// </summary>
        [Test]
        public void QueriesAnIpv6ServerOverUdp6()
        {
            IPv6Address serverAddress = new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
            NetConfig configA = NetConfig.Create(NetPair.AddressA, 24, IPv4Address.Any);
            NetConfig configB = NetConfig.Create(NetPair.AddressB, 24, IPv4Address.Any);
            configA.Ipv6Enabled = configB.Ipv6Enabled = true;
            configA.Ipv6Address = serverAddress;
            configB.Ipv6Address = new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
            NetPair pair = new NetPair(configA, configB);
            pair.StepMicroseconds = 1000;
            FakeDnsServer server = new FakeDnsServer(pair.A, IPAddress.IPv6Any);
            Assert.That(server.Bound, Is.True, "the server's socket on [::]:53");
            server.Zone["www.keel.test"] = ("A", "198.18.0.80", 300);
            server.Zone6["www.keel.test"] = ("4321:0:1:2:3:4:567:89ab", 900);
            pair.Run(3000);   // Duplicate Address Detection of the static addresses
            DnsResolver resolver = new DnsResolver(pair.B);
            resolver.AddServer(serverAddress);
            foreach (AddressFamily family in new[] { AddressFamily.InterNetworkV6, AddressFamily.InterNetwork })
            {
                DnsQuery q = resolver.Resolve("www.keel.test", family);
                for (int i = 0; i < 30000 && q.Status == DnsStatus.InProgress; i++)
                {
                    pair.Step();
                    resolver.Poll();
                    server.Poll();
                }
                Assert.That(q.Status, Is.EqualTo(DnsStatus.Success), family.ToString());
                Assert.That(q.Address, Is.EqualTo(family == AddressFamily.InterNetworkV6 ? Rfc3596Address : (IPAddress)new IPv4Address(198, 18, 0, 80)));
                q.Release();
            }
            Assert.That(server.UdpQueries, Is.EqualTo(2));
            Assert.That(resolver.Counters[DnsStatistics.WrongSource], Is.EqualTo(0));
        }
    }
}
