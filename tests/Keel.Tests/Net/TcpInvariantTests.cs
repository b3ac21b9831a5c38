using System;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using Keel.Tests.Fuzz;
using NUnit.Framework;
using Golden = Keel.Tests.Net.TcpSackTimestampGoldenTests;

namespace Keel.Tests.Net
{
    /// <summary>
    /// <see cref="TcpConnection.CheckInvariants"/> (what the fuzz targets check after every segment): it holds
    /// on a connection moving data, and it names each deliberately broken piece of the sender's state: the
    /// sequence space out of order (RFC 9293 3.3.1), a window above the largest offered (RFC 5961 5.2), a
    /// scoreboard record outside [SND.UNA, SND.MAX), counters that disagree with the records, bytes in flight
    /// without a record.
    /// </summary>
    public class TcpInvariantTests
    {
        private NetPair _pair;
        private Socket _client;
        private Socket _server;

        [SetUp]
        public void SetUp()
        {
            _pair = new NetPair(NetPair.TestConfig(), NetPair.TestConfig());
            Socket listener = _pair.Listen(_pair.B, 5001);
            _client = TcpLossRecoveryTests.Connect(_pair, _pair.A, NetPair.AddressB, 5001, out _server, listener);
            // Data in flight: sent, its ACK not yet back.
            SocketError error;
            Assert.That(_client.Send(new byte[3000], out error), Is.EqualTo(3000));
            _pair.A.Poll();
            Assert.That(_client.Tcp.Snd.InFlight, Is.GreaterThan(0), "data in flight");
        }

        private TcpConnection C => _client.Tcp;

        [Test]
        public void HoldOnAConnectionMovingData()
        {
            Assert.That(C.CheckInvariants(), Is.Null);
            for (int i = 0; i < 2000; i++)
            {
                _pair.Step();
                Assert.That(C.CheckInvariants(), Is.Null);
                Assert.That(_server.Tcp.CheckInvariants(), Is.Null);
            }
            Assert.That(C.Snd.InFlight, Is.Zero, "everything acknowledged");
        }

        [Test]
        public void SndUnaPastSndNxt()
        {
            C.Snd.Sent(C.Snd.Una - 10); // SND.NXT and SND.MAX moved back below SND.UNA
            Assert.That(C.CheckInvariants(), Is.EqualTo("SND.UNA is past SND.NXT"));
        }

        [Test]
        public void WindowAboveTheLargestOffered()
        {
            C.Snd.InitWindow(-1, 0, 0);
            Assert.That(C.CheckInvariants(), Is.EqualTo("SND.WND is negative or above MAX.SND.WND"));
        }

        [Test]
        public void RecordBeyondSndMax()
        {
            C.Board.Add(C.Snd.Max, 100, _pair.A.Now, false);
            Assert.That(C.CheckInvariants(), Is.EqualTo("a scoreboard record ends beyond SND.MAX"));
        }

        [Test]
        public void RecordBelowSndUna()
        {
            C.Snd.Acknowledge(C.Snd.Una + 1); // SND.UNA inside the first record, which was not trimmed
            Assert.That(C.CheckInvariants(), Is.EqualTo("a scoreboard record starts below SND.UNA"));
        }

        [Test]
        public void SackedCounterWithoutASackedRecord()
        {
            C.Board.SackedBytes += 100;
            Assert.That(C.CheckInvariants(), Is.EqualTo("the scoreboard's byte counters do not match its records"));
        }

        [Test]
        public void BytesInFlightWithoutARecord()
        {
            C.Snd.Sent(C.Snd.Max + 100); // sent, but never put on the scoreboard
            Assert.That(C.CheckInvariants(), Is.EqualTo("the scoreboard's records do not cover the bytes in flight"));
        }

        [Test]
        public void ABrokenConnectionIsACrashToTheFuzzer()
        {
            FuzzStack s = new FuzzStack();
            s.Sent.Capture = new FrameCapture();
            s.Inject(Golden.Frame(0x11223344, 0, 0x02, new byte[] { 2, 4, 0x05, 0xB4 }, 0));
            byte[] synAck = s.Sent.Capture.Frames.FindLast(f => f.Length >= 54 && f[23] == 6);
            Assert.That(synAck, Is.Not.Null, "SYN-ACK");
            s.Inject(Golden.Frame(0x11223345, Golden.Parse(synAck).Sequence + 1, 0x10, Array.Empty<byte>(), 0));
            s.Serve();
            Socket accepted = s.Accepted(0);
            Assert.That(accepted, Is.Not.Null);
            s.CheckConnections();
            accepted.Tcp.Board.LostBytes += 1;
            FuzzInvariantException e = Assert.Throws<FuzzInvariantException>(s.CheckConnections);
            Assert.That(e.Message, Does.Contain("counters"));
        }
    }
}
