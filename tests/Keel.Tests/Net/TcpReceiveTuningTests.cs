using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// Receive-buffer auto-tuning over the two-stack link: an application that reads everything lets the buffer
    /// (and the advertised window) grow past the configured default, never past NetConfig.TcpReceiveBufferMax nor
    /// what the driver's receive pools can hold; SO_RCVBUF (ReceiveBufferSize) turns it off, ReceiveBufferAutoTune
    /// back on; the SYN's window scale covers the maximum (RFC 7323 2.3).
    /// </summary>
    public class TcpReceiveTuningTests
    {
        private const int Initial = 64 * 1024;
        private const int Max = 256 * 1024;

        private static NetPair Pair(int max = Max)
        {
            NetConfig a = NetPair.TestConfig();
            NetConfig b = NetPair.TestConfig();
            b.TcpReceiveBufferSize = Initial;
            b.TcpReceiveBufferMax = max;
            return new NetPair(a, b, 9);
        }

        /// <summary>Moves <paramref name="bytes"/> from A to B (B reads everything); returns B's accepted socket.</summary>
        private static Socket Transfer(NetPair pair, Socket listener, int bytes, out Socket client)
        {
            Socket server;
            client = TcpLossRecoveryTests.Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            BulkTransfer transfer = new BulkTransfer(client, server, bytes);
            Assert.That(pair.RunUntil(transfer, 60_000), Is.True, "transfer done");
            Assert.That(transfer.Mismatches, Is.Zero);
            return server;
        }

        /// <summary>RFC 7323 2.3: the shift is the smallest that lets 65535 << shift cover the buffer (at most 14).</summary>
        private static int ScaleFor(long buffer)
        {
            int shift = 0;
            while (shift < 14 && (65535L << shift) < buffer)
            {
                shift++;
            }
            return shift;
        }

        [Test]
        public void ABulkTransferGrowsTheBufferAndWindowUpToTheMaximum()
        {
            NetPair pair = Pair();
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server = Transfer(pair, listener, 8 << 20, out Socket client);
            long growths = pair.B.Counter(NetStatistics.TcpReceiveBufferGrowths);
            TestContext.Out.WriteLine("growths " + growths + " buffer " + server.Tcp.ReceiveBufferSize + " peer's largest window " + client.Tcp.Snd.MaxWindow);
            Assert.That(growths, Is.GreaterThan(0));
            server.GetTcpInfo(out TcpInfo info);
            Assert.That(info.ReceiveBufferGrowths, Is.EqualTo(growths), "shown per connection");
            Assert.That(info.ReceiveBufferSize, Is.EqualTo(server.Tcp.ReceiveBufferSize));
            Assert.That(server.Tcp.ReceiveBufferSize, Is.GreaterThan(Initial));
            Assert.That(server.Tcp.ReceiveBufferSize, Is.LessThanOrEqualTo(Max));
            Assert.That(client.Tcp.Snd.MaxWindow, Is.GreaterThan(Initial), "the sender saw a window larger than the initial buffer");
            Assert.That(client.Tcp.Snd.MaxWindow, Is.LessThanOrEqualTo(Max));
            Assert.That(client.Tcp.Options.SendWindowScale, Is.EqualTo(ScaleFor(Max)), "the SYN's scale covers the maximum, not the initial size");
            Assert.That(pair.AllReturned(out string detail), Is.True, detail);
        }

        [Test]
        public void TheBufferStaysWithinWhatTheDriversPoolsHold()
        {
            // Default 4 MiB maximum; B's device has 256 packets: half of them, each a full segment, is the cap.
            NetConfig a = NetPair.TestConfig();
            NetConfig b = NetPair.TestConfig();
            b.TcpReceiveBufferSize = Initial;
            NetPair pair = new NetPair(a, b, 9, 256);
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server = Transfer(pair, listener, 8 << 20, out Socket client);
            long cap = 256 / 2 * server.Tcp.ReceiveMss;
            TestContext.Out.WriteLine("buffer " + server.Tcp.ReceiveBufferSize + " cap " + cap);
            Assert.That(pair.B.Counter(NetStatistics.TcpReceiveBufferGrowths), Is.GreaterThan(0));
            Assert.That(server.Tcp.ReceiveBufferSize, Is.LessThanOrEqualTo(cap));
            Assert.That(client.Tcp.Snd.MaxWindow, Is.LessThanOrEqualTo(cap + (1 << client.Tcp.Options.SendWindowScale)));
        }

        [Test]
        public void ASetReceiveBufferSizeDoesNotGrow()
        {
            NetPair pair = Pair();
            Socket listener = pair.Listen(pair.B, 5001);
            listener.ReceiveBufferSize = Initial;
            Assert.That(listener.ReceiveBufferAutoTune, Is.False, "SO_RCVBUF turns tuning off");
            Socket server = Transfer(pair, listener, 4 << 20, out Socket client);
            Assert.That(pair.B.Counter(NetStatistics.TcpReceiveBufferGrowths), Is.Zero);
            Assert.That(server.Tcp.ReceiveBufferSize, Is.EqualTo(Initial));
            Assert.That(client.Tcp.Snd.MaxWindow, Is.LessThanOrEqualTo(Initial));
        }

        [Test]
        public void ReceiveBufferAutoTuneTurnsItBackOn()
        {
            NetPair pair = Pair();
            Socket listener = pair.Listen(pair.B, 5001);
            listener.ReceiveBufferSize = Initial;
            listener.ReceiveBufferAutoTune = true;
            Socket server = Transfer(pair, listener, 8 << 20, out Socket client);
            Assert.That(pair.B.Counter(NetStatistics.TcpReceiveBufferGrowths), Is.GreaterThan(0));
            Assert.That(server.Tcp.ReceiveBufferSize, Is.GreaterThan(Initial));
            Assert.That(server.Tcp.ReceiveBufferSize, Is.LessThanOrEqualTo(Max));
            Assert.That(client.Tcp.Snd.MaxWindow, Is.GreaterThan(Initial));
        }

        [Test]
        public void TheSynWindowScaleForAFourMebibyteMaximumIsSeven()
        {
            NetConfig b = NetPair.TestConfig();
            Assert.That(b.TcpReceiveBufferMax, Is.EqualTo(4 << 20));
            Assert.That(ScaleFor(4 << 20), Is.EqualTo(7), "65535 << 6 = 4,194,240 < 4 MiB <= 65535 << 7");
            NetPair pair = new NetPair(NetPair.TestConfig(), b, 9);
            Socket listener = pair.Listen(pair.B, 5001);
            Socket server;
            Socket client = TcpLossRecoveryTests.Connect(pair, pair.A, NetPair.AddressB, 5001, out server, listener);
            Assert.That(client.Tcp.Options.SendWindowScale, Is.EqualTo(7), "B's SYN-ACK");
            Assert.That(server.Tcp.Options.SendWindowScale, Is.EqualTo(7), "A's SYN");
        }
    }
}
