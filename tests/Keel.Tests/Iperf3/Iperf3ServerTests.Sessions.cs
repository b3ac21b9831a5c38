using System;
using System.Text.Json;
using Keel.Apps.Iperf3;
using Keel.Net.Sockets;
using Keel.Tests.Net;
using NUnit.Framework;

namespace Keel.Tests.Iperf3
{
    /// <summary>The server across tests and clients: repeated tests, refused and broken clients, timeouts,
    /// the omit period, clean-up and allocation-free polling (see Iperf3ServerTests.cs for the helpers).</summary>
    public partial class Iperf3ServerTests
    {
        [Test]
        public void SecondAndThirdTestsAfterTheFirstStartFromScratch()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            long[] sent;
            RunTcpTest(bed, 2, 100, out sent);
            Assert.That(bed.Server.Counters[Iperf3Statistics.TestsCompleted], Is.EqualTo(1));

            // A UDP test next: nothing of the TCP test may leak (stream count, ids, parameters).
            FakeIperf3Client udp = new FakeIperf3Client(bed);
            udp.Handshake(UdpParams(len: 500));
            Assert.That(bed.Server.Parameters.Parallel, Is.EqualTo(1));
            Assert.That(bed.Server.StreamCount, Is.EqualTo(0));
            udp.ConnectUdpStreams(1);
            udp.ExpectStart();
            byte[] datagram = new byte[500];
            for (int i = 1; i <= 50; i++)
            {
                Frames.Put32(datagram, 8, (uint)i);
                SocketError e;
                udp.Streams[0].Send(datagram, out e);
                bed.Step();
            }
            bed.Run(5);
            JsonDocument results = udp.Finish(new long[] { 50 * 500 });
            AssertStream(results.RootElement.GetProperty("streams")[0], 1, 50 * 500, -1, 50, 0);
            udp.CloseStreams();

            long[] sent3;
            RunTcpTest(bed, 1, 50, out sent3);
            Assert.That(bed.Server.Counters[Iperf3Statistics.TestsCompleted], Is.EqualTo(3));
            Assert.That(bed.Server.Counters[Iperf3Statistics.TestsAborted], Is.EqualTo(0));
            Assert.That(bed.Server.TestNumber, Is.EqualTo(3));
        }

        [Test]
        public void SecondClientDuringATestGetsAccessDenied()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Handshake(TcpParams(1));
            client.ConnectTcpStreams(1);
            client.ExpectStart();

            FakeIperf3Client intruder = new FakeIperf3Client(bed);
            Socket control = intruder.ConnectTcp();
            intruder.SendAll(control, intruder.Cookie);
            intruder.ExpectByte(control, 0xFF, "ACCESS_DENIED");
            Assert.That(intruder.WaitClosed(control), Is.True);
            control.Close();
            Assert.That(bed.Server.Counters[Iperf3Statistics.AccessDenied], Is.EqualTo(1));
            Assert.That(bed.Server.State, Is.EqualTo(Iperf3ServerState.Running), "the running test is untouched");

            long[] sent = SendTcp(bed, client, 50);
            JsonDocument results = client.Finish(sent);
            AssertStream(results.RootElement.GetProperty("streams")[0], 1, sent[0], -1);
            client.CloseStreams();
        }

        [Test]
        public void DataConnectionWithWrongCookieIsRefused()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Handshake(TcpParams(1));
            byte[] wrong = (byte[])client.Cookie.Clone();
            wrong[0] ^= 1;
            Socket bad = client.ConnectTcp(false);
            client.SendAll(bad, wrong);
            client.ExpectByte(bad, 0xFF, "ACCESS_DENIED for a wrong cookie");
            bad.Close();
            Assert.That(bed.Server.State, Is.EqualTo(Iperf3ServerState.CreateStreams));
            client.ConnectTcpStreams(1);
            client.ExpectStart();
            long[] sent = SendTcp(bed, client, 30);
            JsonDocument results = client.Finish(sent);
            AssertStream(results.RootElement.GetProperty("streams")[0], 1, sent[0], -1);
            Assert.That(bed.Server.Counters[Iperf3Statistics.BadCookies], Is.EqualTo(1));
            client.CloseStreams();
        }

        [Test]
        public void CookieArrivingInPiecesIsReassembled()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Control = client.ConnectTcp();
            for (int i = 0; i < 37; i += 5)
            {
                byte[] piece = new byte[Math.Min(5, 37 - i)];
                Array.Copy(client.Cookie, i, piece, 0, piece.Length);
                client.SendAll(client.Control, piece);
                bed.Run(2);
            }
            client.ExpectByte(client.Control, 9, "PARAM_EXCHANGE");
            client.Control.Close();
            Assert.That(bed.RunUntil(() => bed.Server.State == Iperf3ServerState.Idle), Is.True);
        }

        [Test]
        public void ClientClosingMidTestResetsTheServer()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Handshake(TcpParams(2));
            client.ConnectTcpStreams(2);
            client.ExpectStart();
            SendTcp(bed, client, 20);
            client.Control.Abort();
            client.CloseStreams();
            Assert.That(bed.RunUntil(() => bed.Server.State == Iperf3ServerState.Idle), Is.True);
            Assert.That(bed.Server.Counters[Iperf3Statistics.TestsAborted], Is.EqualTo(1));
            long[] sent;
            RunTcpTest(bed, 1, 30, out sent);
        }

        [Test]
        public void ClientTerminateResetsTheServer()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Handshake(UdpParams());
            client.ConnectUdpStreams(1);
            client.ExpectStart();
            client.SendByte(client.Control, 12);
            Assert.That(bed.RunUntil(() => bed.Server.State == Iperf3ServerState.Idle), Is.True);
            Assert.That(bed.Server.Counters[Iperf3Statistics.ClientTerminated], Is.EqualTo(1));
            client.Control.Close();
            client.CloseStreams();
            long[] sent;
            RunTcpTest(bed, 1, 30, out sent);
        }

        [Test]
        public void TooManyStreamsGetsServerError()
        {
            Iperf3TestBed bed = new Iperf3TestBed(new Iperf3ServerConfig { MaxStreams = 8 });
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Control = client.ConnectTcp();
            client.SendAll(client.Control, client.Cookie);
            client.ExpectByte(client.Control, 9, "PARAM_EXCHANGE");
            client.SendFramed(client.Control, TcpParams(9));
            byte[] error = client.ReadExact(client.Control, 9);
            Assert.That(error, Is.EqualTo(new byte[] { 0xFE, 0, 0, 0, 6, 0, 0, 0, 0 }));
            Assert.That(client.WaitClosed(client.Control), Is.True);
            client.Control.Close();
            Assert.That(bed.RunUntil(() => bed.Server.State == Iperf3ServerState.Idle), Is.True);
            long[] sent;
            RunTcpTest(bed, 8, 30, out sent);
        }

        [Test]
        public void UnreadableParametersDropTheTest()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Control = client.ConnectTcp();
            client.SendAll(client.Control, client.Cookie);
            client.ExpectByte(client.Control, 9, "PARAM_EXCHANGE");
            client.SendFramed(client.Control, "{\"tcp\":true,");
            Assert.That(client.WaitClosed(client.Control), Is.True);
            client.Control.Close();
            Assert.That(bed.Server.State, Is.EqualTo(Iperf3ServerState.Idle));
            Assert.That(bed.Server.Counters[Iperf3Statistics.ProtocolErrors], Is.EqualTo(1));
        }

        [Test]
        public void SilentClientTimesOut()
        {
            Iperf3TestBed bed = new Iperf3TestBed(new Iperf3ServerConfig { HandshakeTimeoutMilliseconds = 300 });
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Control = client.ConnectTcp();
            Assert.That(bed.RunUntil(() => bed.Server.State == Iperf3ServerState.ReadCookie), Is.True);
            Assert.That(client.WaitClosed(client.Control, 1000), Is.True);
            Assert.That(bed.Server.State, Is.EqualTo(Iperf3ServerState.Idle));
            Assert.That(bed.Server.Counters[Iperf3Statistics.Timeouts], Is.EqualTo(1));
            client.Control.Close();
        }

        [Test]
        public void OmitPeriodIsNotCounted()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Handshake(TcpParams(1, omit: 1, time: 1));
            client.ConnectTcpStreams(1);
            client.ExpectStart();
            SendTcp(bed, client, 1100, 2048);
            Assert.That(bed.Server.Stream(0).BytesIgnored, Is.GreaterThan(0));
            long counted = bed.Server.Stream(0).Bytes;
            JsonDocument results = client.Finish(new long[] { counted });
            JsonElement s = results.RootElement.GetProperty("streams")[0];
            Assert.That(s.GetProperty("bytes").GetInt64(), Is.EqualTo(counted));
            Assert.That(s.GetProperty("end_time").GetDouble(), Is.InRange(0.1, 0.2), "end_time counts from the end of omit");
            client.CloseStreams();
        }

        [Test]
        public void DataInFlightAtTestEndIsNotLeftQueuedOnClosedSockets()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Handshake(TcpParams(2));
            client.ConnectTcpStreams(2);
            client.ExpectStart();
            byte[] block = new byte[65536];
            long sent = 0;
            for (int i = 0; i < 300; i++)
            {
                foreach (Socket s in client.Streams)
                {
                    SocketError e;
                    sent += Math.Max(0, s.Send(block, out e));
                }
                bed.Step();
            }
            // TEST_END while the client's send buffers are full: that data reaches the server after it closed.
            JsonDocument results = client.Finish(new long[] { sent / 2, sent / 2 });
            Assert.That(results.RootElement.GetProperty("streams").GetArrayLength(), Is.EqualTo(2));
            bed.Run(50);
            TextCapture status = new TextCapture();
            bed.Pair.B.PrintStatus(status);
            foreach (string line in status.ToString().Split('\n'))
            {
                if (line.Contains("closed by app"))
                {
                    Assert.That(line, Does.Contain(" rxq 0 "), "a closed data connection holds received data: " + line);
                }
            }
            client.CloseStreams();
        }

        [Test]
        public void SteadyStatePollDoesNotAllocate()
        {
            Iperf3TestBed bed = new Iperf3TestBed();
            FakeIperf3Client client = new FakeIperf3Client(bed);
            client.Handshake(TcpParams(2));
            client.ConnectTcpStreams(2);
            client.ExpectStart();
            SendTcp(bed, client, 20); // warm up (JIT, first-use paths)
            bed.MeasureAllocations = true;
            SendTcp(bed, client, 100);
            bed.MeasureAllocations = false;
            Assert.That(bed.PollAllocatedBytes, Is.EqualTo(0), "TCP receive");
            client.Finish(new long[] { 0, 0 });
            client.CloseStreams();

            FakeIperf3Client udp = new FakeIperf3Client(bed);
            udp.Handshake(UdpParams(reverse: true, bandwidth: 50_000_000, len: 1400));
            udp.ConnectUdpStreams(1);
            udp.ExpectStart();
            byte[] buffer = new byte[2048];
            for (int round = 0; round < 2; round++)
            {
                bed.MeasureAllocations = round == 1;
                for (int i = 0; i < 500; i++)
                {
                    SocketError e;
                    while (udp.Streams[0].Receive(buffer, out e) > 0)
                    {
                    }
                    bed.Step();
                }
            }
            bed.MeasureAllocations = false;
            Assert.That(bed.PollAllocatedBytes, Is.EqualTo(0), "UDP send");
            udp.Finish(new long[] { 0 }, null);
            udp.CloseStreams();
        }
    }
}
