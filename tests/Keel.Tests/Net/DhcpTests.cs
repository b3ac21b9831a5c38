using System;
using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Dhcp;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The DHCP client (stack B) against <see cref="FakeDhcpServer"/> (stack A) on the in-memory link:
    /// the whole exchange, ARP probe, renewal, rebinding, expiry, NAK, lost replies with RFC 2131 back-off,
    /// and malformed and hostile replies, each counted and dropped.
    /// </summary>
    public class DhcpTests
    {
        private const long Second = 1_000_000_000L;

        /// <summary>The server sees a message a step or more (10 ms each; ARP first when unicast) after the client sent it.</summary>
        private const long Step = 40_000_000L;

        private sealed class Bed
        {
            public readonly NetPair Pair;
            public readonly FakeDhcpServer Server;
            public readonly DhcpClient Client;
            public readonly TeeSink FromClient;

            public Bed()
            {
                Pair = new NetPair();
                Pair.StepMicroseconds = 10_000;
                Server = new FakeDhcpServer(Pair.A);
                FromClient = new TeeSink(Pair.Link);
                Pair.DeviceB.Sink = FromClient;
                Client = new DhcpClient(Pair.B);
                Assert.That(Client.Start(), Is.True);
            }

            public void Run(int milliseconds)
            {
                long end = Pair.Clock.NowNanoseconds + milliseconds * 1_000_000L;
                while (Pair.Clock.NowNanoseconds < end)
                {
                    Pair.Step();
                    Client.Poll();
                    Server.Poll();
                }
            }

            public bool RunUntil(Func<bool> done, int milliseconds)
            {
                long end = Pair.Clock.NowNanoseconds + milliseconds * 1_000_000L;
                while (Pair.Clock.NowNanoseconds < end && !done())
                {
                    Pair.Step();
                    Client.Poll();
                    Server.Poll();
                }
                return done();
            }

            public long C(int counter) => Client.Counters[counter];
        }

        private static readonly IPv4Address Leased = new IPv4Address(198, 18, 0, 50);

        [Test]
        public void DiscoverIsTheRfc2131MessageBroadcastFromZero()
        {
            SingleStack s = new SingleStack();
            DhcpClient client = new DhcpClient(s.Stack);
            Assert.That(client.Start(), Is.True);
            client.Poll();
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            byte[] f = s.Capture.Frames[0];
            byte[] mac = { 0x02, 0, 0, 0, 0, 2 };
            // Ethernet: broadcast, IPv4.
            Assert.That(f.AsSpan(0, 6).ToArray(), Is.EqualTo(new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }));
            Assert.That(f.AsSpan(6, 6).ToArray(), Is.EqualTo(mac));
            Assert.That(f[12] << 8 | f[13], Is.EqualTo(0x0800));
            // IPv4 from 0.0.0.0 to 255.255.255.255 (RFC 2131 4.1), UDP 68 -> 67.
            Assert.That(f[14], Is.EqualTo(0x45));
            Assert.That(f[23], Is.EqualTo(17));
            Assert.That(f.AsSpan(26, 8).ToArray(), Is.EqualTo(new byte[] { 0, 0, 0, 0, 255, 255, 255, 255 }));
            Assert.That(Frames.Checksum(f, 14, 20), Is.EqualTo(0));
            Assert.That(f[34] << 8 | f[35], Is.EqualTo(68));
            Assert.That(f[36] << 8 | f[37], Is.EqualTo(67));
            int udpLength = f[38] << 8 | f[39];
            Assert.That(udpLength, Is.EqualTo(8 + 300), "padded to BOOTP's 300 bytes (RFC 1542 2.1)");
            uint pseudo = (uint)(17 + udpLength) + 0xFFFF + 0xFFFF;
            Assert.That(Frames.Checksum(f, 34, udpLength, pseudo), Is.EqualTo(0));

            byte[] m = f.AsSpan(42, 300).ToArray();
            List<byte> expected = new List<byte> { 1, 1, 6, 0 };            // op BOOTREQUEST, htype 1, hlen 6, hops 0
            expected.AddRange(m.AsSpan(4, 4).ToArray());                   // xid (random)
            expected.AddRange(new byte[] { 0, 0, 0x80, 0 });               // secs 0, flags BROADCAST
            expected.AddRange(new byte[16]);                               // ciaddr yiaddr siaddr giaddr
            expected.AddRange(mac);
            expected.AddRange(new byte[10 + 64 + 128]);                    // chaddr padding, sname, file
            expected.AddRange(new byte[] { 99, 130, 83, 99 });             // magic cookie (RFC 2131 3)
            expected.AddRange(new byte[] { 53, 1, 1 });                    // DHCPDISCOVER
            expected.AddRange(new byte[] { 61, 7, 1, 0x02, 0, 0, 0, 0, 2 });   // client id: type 1 + MAC
            expected.AddRange(new byte[] { 57, 2, 0x05, 0xdc });           // max message size 1500
            expected.AddRange(new byte[] { 12, 4, (byte)'k', (byte)'e', (byte)'e', (byte)'l' });
            expected.AddRange(new byte[] { 55, 8, 1, 3, 6, 26, 51, 54, 58, 59 });   // parameter request list
            expected.Add(255);
            while (expected.Count < 300)
            {
                expected.Add(0);
            }
            Assert.That(m, Is.EqualTo(expected.ToArray()));
        }

        [Test]
        public void TakesALeaseAfterProbingAndConfiguresTheStack()
        {
            Bed b = new Bed();
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 20000), Is.True);
            Assert.That(b.Pair.B.Address, Is.EqualTo(Leased));
            Assert.That(b.Pair.B.Config.PrefixLength, Is.EqualTo(24));
            Assert.That(b.Pair.B.Config.Gateway, Is.EqualTo(new IPv4Address(198, 18, 0, 1)));
            Assert.That(b.Pair.B.Mtu, Is.EqualTo(1400), "option 26");
            Assert.That(b.Client.DnsServerCount, Is.EqualTo(2));
            Assert.That(b.Client.DnsServer(1), Is.EqualTo(new IPv4Address(198, 18, 0, 53)));
            Assert.That(b.Server.Requests[0].Type, Is.EqualTo(1));
            FakeDhcpServer.Request request = b.Server.Requests[1];
            Assert.That(request.Type, Is.EqualTo(3));
            Assert.That(request.Requested, Is.EqualTo(Leased.Value), "option 50 in SELECTING");
            Assert.That(request.Server, Is.EqualTo(0xC6120001u), "option 54 in SELECTING");
            Assert.That(request.ClientAddress, Is.EqualTo(0u));

            // RFC 5227: three ARP probes (sender IP 0, target the offered address) before the address is used.
            List<byte[]> probes = b.FromClient.Frames.FindAll(f => f[12] == 8 && f[13] == 6 && f[21] == 1 &&
                Frames.Get32(f, 28) == 0 && Frames.Get32(f, 38) == Leased.Value);
            Assert.That(probes.Count, Is.EqualTo(3));
            Assert.That(b.C(DhcpStatistics.ProbesSent), Is.EqualTo(3));
            Assert.That(b.C(DhcpStatistics.Leases), Is.EqualTo(1));

            // The address works: the server host reaches the client by UDP.
            Keel.Net.Sockets.Socket echo = b.Pair.B.CreateSocket(Keel.Net.Sockets.SocketType.Dgram, Keel.Net.Sockets.ProtocolType.Udp);
            echo.Bind(new IPEndPoint(IPv4Address.Any, 9000));
            Keel.Net.Sockets.Socket sender = b.Pair.A.CreateSocket(Keel.Net.Sockets.SocketType.Dgram, Keel.Net.Sockets.ProtocolType.Udp);
            sender.SendTo(new byte[] { 1, 2, 3 }, new IPEndPoint(Leased, 9000), out _);
            b.Run(100);
            Assert.That(echo.Available, Is.EqualTo(3));

            TextCapture text = new TextCapture();
            b.Client.PrintStatus(text);
            Assert.That(text.Text, Does.Contain("dhcp: bound, lease 198.18.0.50 from 198.18.0.1, expires in 11"));
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        [Test]
        public void RenewsAtT1ByUnicastAndKeepsTheAddress()
        {
            Bed b = new Bed();
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 20000), Is.True);
            long requestTime = b.Server.Requests[1].Time;
            Assert.That(b.Client.Renewal.Nanoseconds - requestTime, Is.EqualTo(60 * Second).Within(Step), "T1 = 0.5 lease from the REQUEST (RFC 2131 4.4.5)");
            Assert.That(b.Client.Rebinding.Nanoseconds - requestTime, Is.EqualTo(105 * Second).Within(Step), "T2 = 0.875 lease");
            int frames = b.FromClient.Frames.Count;
            Assert.That(b.RunUntil(() => b.C(DhcpStatistics.Renewals) == 1, 70000), Is.True);
            FakeDhcpServer.Request renew = b.Server.Last;
            Assert.That(renew.Type, Is.EqualTo(3));
            Assert.That(renew.ClientAddress, Is.EqualTo(Leased.Value), "ciaddr in RENEWING");
            Assert.That(renew.Requested, Is.EqualTo(0u), "no option 50 in RENEWING");
            Assert.That(renew.Server, Is.EqualTo(0u), "no option 54 in RENEWING");
            Assert.That(renew.Time - requestTime, Is.InRange(60 * Second, 61 * Second));
            byte[] frame = b.FromClient.Frames.FindLast(f => f.Length > 42 && f[23] == 17 && (f[36] << 8 | f[37]) == 67);
            Assert.That(Frames.Get32(frame, 30), Is.EqualTo(0xC6120001u), "unicast to the server");
            Assert.That(b.Client.State, Is.EqualTo(DhcpState.Bound));
            Assert.That(b.Client.Expiry.Nanoseconds - renew.Time, Is.EqualTo(120 * Second).Within(Step));
            Assert.That(b.Pair.B.Address, Is.EqualTo(Leased));
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }

        [Test]
        public void RebindsByBroadcastAtT2WhenTheServerDoesNotAnswerRenewals()
        {
            Bed b = new Bed();
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 20000), Is.True);
            long requestTime = b.Server.Requests[1].Time;
            b.Server.IgnoreRequestsBefore = requestTime + 105 * Second;
            Assert.That(b.RunUntil(() => b.C(DhcpStatistics.Rebinds) == 1, 120000), Is.True);
            Assert.That(b.C(DhcpStatistics.Renewals), Is.EqualTo(0));
            FakeDhcpServer.Request rebind = b.Server.Last;
            Assert.That(rebind.Time - requestTime, Is.InRange(105 * Second, 106 * Second));
            Assert.That(rebind.ClientAddress, Is.EqualTo(Leased.Value));
            byte[] frame = b.FromClient.Frames.FindLast(f => f.Length > 42 && f[23] == 17 && (f[36] << 8 | f[37]) == 67);
            Assert.That(Frames.Get32(frame, 30), Is.EqualTo(0xFFFFFFFFu), "broadcast in REBINDING");
            Assert.That(b.Client.State, Is.EqualTo(DhcpState.Bound));
        }

        [Test]
        public void LeaseRunsOutWithoutAnswersAndTheAddressIsDropped()
        {
            Bed b = new Bed();
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 20000), Is.True);
            long requestTime = b.Server.Requests[1].Time;
            b.Server.Silent = true;
            Assert.That(b.RunUntil(() => b.C(DhcpStatistics.Expiries) == 1, 130000), Is.True);
            Assert.That(b.Pair.Clock.NowNanoseconds - requestTime, Is.InRange(120 * Second - Step, 121 * Second));
            Assert.That(b.Pair.B.Address, Is.EqualTo(IPv4Address.Any));
            Assert.That(b.Client.HasLease, Is.False);
            b.Server.Silent = false;
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 30000), Is.True, "starts over and gets a new lease");
        }

        [Test]
        public void NakOnRenewalDropsTheAddressAndStartsOver()
        {
            Bed b = new Bed();
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 20000), Is.True);
            b.Server.NakRequests = true;
            Assert.That(b.RunUntil(() => b.C(DhcpStatistics.NaksReceived) == 1, 70000), Is.True);
            b.Run(20);
            Assert.That(b.Pair.B.Address, Is.EqualTo(IPv4Address.Any));
            Assert.That(b.Client.State, Is.EqualTo(DhcpState.Init).Or.EqualTo(DhcpState.Selecting));
            b.Server.NakRequests = false;
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 30000), Is.True);
            Assert.That(b.C(DhcpStatistics.Leases), Is.EqualTo(2));
        }

        [Test]
        public void NakOnTheFirstRequestRestartsWithDiscover()
        {
            Bed b = new Bed();
            b.Server.NakRequests = true;
            Assert.That(b.RunUntil(() => b.C(DhcpStatistics.NaksReceived) == 1, 5000), Is.True);
            b.Server.NakRequests = false;
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 30000), Is.True);
            Assert.That(b.Server.Count(1), Is.EqualTo(2), "a second DISCOVER after the NAK");
        }

        [Test]
        public void LostRepliesAreRetransmittedWithExponentialBackoff()
        {
            Bed b = new Bed();
            b.Server.Silent = true;
            b.Run(200_000);
            List<long> times = b.Server.Requests.FindAll(r => r.Type == 1).ConvertAll(r => r.Time);
            Assert.That(times.Count, Is.GreaterThanOrEqualTo(6));
            // RFC 2131 4.1: 4, 8, 16, 32, 64, 64 s, each randomised by ±1 s.
            long[] nominal = { 4, 8, 16, 32, 64 };
            for (int i = 0; i < nominal.Length; i++)
            {
                Assert.That(times[i + 1] - times[i], Is.InRange((nominal[i] - 1) * Second, (nominal[i] + 1) * Second + 20_000_000), "gap " + i);
            }
            Assert.That(b.C(DhcpStatistics.Retransmissions), Is.EqualTo(times.Count - 1));
            Assert.That(b.Server.Requests.TrueForAll(r => r.Xid == b.Server.Requests[0].Xid), Is.True, "one transaction");

            // Lost OFFER and lost ACK: the client still gets there.
            b.Server.Silent = false;
            b.Server.DropReplies = 2;
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 200_000), Is.True);
        }

        [Test]
        public void AnsweredProbeDeclinesTheAddressAndTakesTheNextOne()
        {
            Bed b = new Bed();
            b.Server.Pool = new uint[] { 0xC6120001, 0xC6120033 };   // first offer: the server host's own address
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 60000), Is.True);
            Assert.That(b.C(DhcpStatistics.ProbeConflicts), Is.EqualTo(1));
            Assert.That(b.C(DhcpStatistics.DeclinesSent), Is.EqualTo(1));
            FakeDhcpServer.Request decline = b.Server.Requests.Find(r => r.Type == 4);
            Assert.That(decline.Requested, Is.EqualTo(0xC6120001u));
            Assert.That(decline.Server, Is.EqualTo(0xC6120001u));
            Assert.That(b.Pair.B.Address, Is.EqualTo(new IPv4Address(198, 18, 0, 51)));
            long declineTime = decline.Time;
            long nextDiscover = b.Server.Requests.FindLast(r => r.Type == 1).Time;
            Assert.That(nextDiscover - declineTime, Is.GreaterThanOrEqualTo(10 * Second), "RFC 2131 3.1.5: wait 10 s after DECLINE");
        }

        [Test]
        public void MalformedAndHostileRepliesAreCountedAndDropped()
        {
            Bed b = new Bed();
            b.Server.Silent = true;
            b.Run(100);
            byte[] discover = b.Server.Requests[0].Bytes;
            byte[] good = b.Server.BuildReply(discover, 2, Leased.Value);

            void Expect(byte[] message, int counter, string what, int port = 67)
            {
                long before = b.C(counter);
                b.Server.Send(message, port);
                b.Run(50);
                Assert.That(b.C(counter), Is.EqualTo(before + 1), what + ": " + string.Join(",", b.Client.Counters) + " B " + string.Join(",", b.Pair.B.Counters));
                Assert.That(b.Client.State, Is.EqualTo(DhcpState.Selecting), what);
            }
            byte[] Mutate(Action<byte[]> change, byte[] from = null)
            {
                byte[] m = (byte[])(from ?? good).Clone();
                change(m);
                return m;
            }
            byte[] WithOptions(params byte[] options)
            {
                byte[] m = (byte[])good.Clone();
                Array.Clear(m, 240, m.Length - 240);
                Array.Copy(options, 0, m, 240, options.Length);
                return m;
            }

            Expect(good.AsSpan(0, 200).ToArray(), DhcpStatistics.Short, "shorter than the header");
            Expect(Mutate(m => m[0] = 1), DhcpStatistics.NotReply, "op BOOTREQUEST");
            Expect(Mutate(m => m[236] = 0), DhcpStatistics.NotReply, "no magic cookie");
            Expect(Mutate(m => m[7] ^= 0xFF), DhcpStatistics.NotOurs, "another transaction");
            Expect(Mutate(m => m[33] ^= 0xFF), DhcpStatistics.NotOurs, "another client's chaddr");
            Expect(WithOptions(53, 1, 2, 51, 200, 0, 0), DhcpStatistics.Malformed, "option longer than the message");
            Expect(WithOptions(53, 1, 2, 54, 4, 198, 18, 0, 1, 51, 3, 0, 0, 60, 255), DhcpStatistics.Malformed, "lease time of 3 bytes");
            Expect(WithOptions(54, 4, 198, 18, 0, 1, 255), DhcpStatistics.Malformed, "no message type");
            Expect(WithOptions(53, 1, 2, 52, 1, 9, 255), DhcpStatistics.Malformed, "overload value 9");
            Expect(good.AsSpan(0, 243).ToArray(), DhcpStatistics.Malformed, "options without an end");
            Expect(Mutate(m => Frames.Put32(m, 16, 0)), DhcpStatistics.Hostile, "yiaddr 0.0.0.0");
            Expect(Mutate(m => Frames.Put32(m, 16, 0x7F000001)), DhcpStatistics.Hostile, "yiaddr loopback");
            Expect(Mutate(m => Frames.Put32(m, 16, 0xE0000005)), DhcpStatistics.Hostile, "yiaddr multicast");
            Expect(Mutate(m => Frames.Put32(m, 16, 0xC61200FF)), DhcpStatistics.Hostile, "yiaddr the subnet broadcast");
            Expect(b.Server.BuildReply(discover, 2, Leased.Value).Let(m => Frames.Put32(m, 240 + 3 + 6 + 6 + 2, 0xFF00FF00)), DhcpStatistics.Hostile, "mask with holes");
            Expect(b.Server.BuildReply(discover, 5, Leased.Value), DhcpStatistics.Unexpected, "ACK while selecting");
            Expect(b.Server.BuildReply(discover, 6, 0), DhcpStatistics.Unexpected, "NAK while selecting");
            Expect(good, DhcpStatistics.WrongSource, "from a port other than 67", 6767);
            Assert.That(b.Pair.B.Address, Is.EqualTo(IPv4Address.Any));

            // A real server still works afterwards, and nothing leaked.
            b.Server.Silent = false;
            Assert.That(b.RunUntil(() => b.Client.State == DhcpState.Bound, 120_000), Is.True);
            Assert.That(b.Pair.AllReturned(out string detail), Is.True, detail);
        }
    }

    internal static class ByteArrayExtensions
    {
        public static byte[] Let(this byte[] array, Action<byte[]> change)
        {
            change(array);
            return array;
        }
    }
}
