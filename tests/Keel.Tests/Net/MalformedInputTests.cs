using System;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>Truncated, corrupted and nonsensical frames are counted and dropped, never crash, never leak.</summary>
    public class MalformedInputTests
    {
        private static SingleStack Prepared(out Socket udp, out Socket listener)
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            udp = s.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            udp.Bind(new IPEndPoint(IPv4Address.Any, 9999));
            listener = s.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPv4Address.Any, 80));
            listener.Listen(64);
            return s;
        }

        private static readonly byte[][] Seeds =
        {
            GoldenFrames.ArpRequestFromHost, GoldenFrames.EchoRequest, GoldenFrames.UdpToPort9999,
            GoldenFrames.UdpToClosedPort9, GoldenFrames.TcpSynWithOptions,
        };

        /// <summary>Recomputes the IPv4 header checksum and the TCP/UDP/ICMP checksum where the lengths allow.</summary>
        internal static void FixChecksums(byte[] f)
        {
            if (f.Length < 34 || f[12] != 8 || f[13] != 0)
            {
                return;
            }
            int ihl = (f[14] & 15) * 4;
            if (ihl < 20 || 14 + ihl > f.Length)
            {
                return;
            }
            Fuzz.WireFrames.FixHeaderChecksum(f);
            ushort c;
            int total = (f[16] << 8) | f[17];
            int length = Math.Min(total, f.Length - 14) - ihl;
            int t = 14 + ihl;
            if (length <= 0)
            {
                return;
            }
            uint pseudo = 0;
            for (int i = 26; i < 34; i += 2)
            {
                pseudo += (uint)((f[i] << 8) | f[i + 1]);
            }
            pseudo += (uint)f[23] + (uint)length;
            int field = f[23] == 6 ? 16 : f[23] == 17 ? 6 : f[23] == 1 ? 2 : -1;
            if (field < 0 || field + 2 > length)
            {
                return;
            }
            f[t + field] = 0;
            f[t + field + 1] = 0;
            c = GoldenPacketTests.ReferenceChecksum(f, t, length, f[23] == 1 ? 0 : pseudo);
            f[t + field] = (byte)(c >> 8);
            f[t + field + 1] = (byte)c;
        }

        [Test]
        public void EveryTruncationIsDropped()
        {
            Socket udp;
            Socket listener;
            SingleStack s = Prepared(out udp, out listener);
            foreach (byte[] seed in Seeds)
            {
                for (int length = 0; length < seed.Length; length++)
                {
                    byte[] f = new byte[length];
                    Array.Copy(seed, f, length);
                    s.Inject(f);
                    // Also with the IP length fixed up to the truncated size (a short but "consistent" packet).
                    if (length > 34)
                    {
                        f[16] = (byte)((length - 14) >> 8);
                        f[17] = (byte)(length - 14);
                        FixChecksums(f);
                        s.Inject(f);
                    }
                }
            }
            s.Stack.Poll();
            Assert.That(s.Counter(NetStatistics.EthRxTruncated) + s.Counter(NetStatistics.IpBadHeader) +
                        s.Counter(NetStatistics.IpBadLength), Is.GreaterThan(0));
            udp.Close();
            listener.Close();
            string detail;
            Assert.That(s.Idle(out detail), Is.True, detail);
        }

        [Test]
        public void RandomCorruptionNeverCrashesOrLeaks()
        {
            Socket udp;
            Socket listener;
            SingleStack s = Prepared(out udp, out listener);
            Random random = new Random(2024);
            byte[] buffer = new byte[2048];
            for (int iteration = 0; iteration < 20000; iteration++)
            {
                byte[] seed = Seeds[random.Next(Seeds.Length)];
                int length = random.Next(4) == 0 ? random.Next(seed.Length + 1) : seed.Length;
                byte[] f = new byte[length];
                Array.Copy(seed, f, length);
                int flips = 1 + random.Next(4);
                for (int k = 0; k < flips && length > 0; k++)
                {
                    int position = random.Next(4) == 0 ? random.Next(length) : 14 + random.Next(Math.Max(1, Math.Min(60, length - 14)));
                    if (position < length)
                    {
                        f[position] = (byte)random.Next(256);
                    }
                }
                if (random.Next(3) != 0)
                {
                    FixChecksums(f); // let most corruptions past the checksums, into the parsers
                }
                s.Inject(f);
                if ((iteration & 255) == 0)
                {
                    s.Clock.AdvanceMilliseconds(50);
                    s.Stack.Poll();
                    IPEndPoint from;
                    SocketError error;
                    while (udp.ReceiveFrom(buffer, out from, out error) > 0 || error == SocketError.MessageSize)
                    {
                    }
                    Socket accepted;
                    while (listener.Accept(out accepted) == SocketError.Success)
                    {
                        accepted.Abort();
                    }
                    s.Capture.Frames.Clear();
                }
            }
            s.Clock.AdvanceMilliseconds(120_000);
            s.Stack.Poll();
            udp.Close();
            listener.Close();
            TextCapture text = new TextCapture();
            s.Stack.PrintStatus(text);
            TestContext.Out.WriteLine(text.ToString());
            string detail;
            Assert.That(s.Idle(out detail), Is.True, detail);
        }

        private static byte[] Tcp(int flags, byte[] options, int dataOffsetWords = -1, int payload = 0)
        {
            int optionLength = options == null ? 0 : options.Length;
            byte[] f = new byte[54 + optionLength + payload];
            Array.Copy(GoldenFrames.TcpSynWithOptions, f, 34);
            int total = 20 + 20 + optionLength + payload;
            f[16] = (byte)(total >> 8);
            f[17] = (byte)total;
            int t = 34;
            Array.Copy(GoldenFrames.TcpSynWithOptions, t, f, t, 12);
            f[t + 12] = (byte)((dataOffsetWords >= 0 ? dataOffsetWords : (20 + optionLength) / 4) << 4);
            f[t + 13] = (byte)flags;
            f[t + 14] = 0xFF;
            f[t + 15] = 0xFF;
            if (options != null)
            {
                Array.Copy(options, 0, f, t + 20, optionLength);
            }
            FixChecksums(f);
            return f;
        }

        [Test]
        public void ImpossibleLengthsOddOptionsAndFlagCombinations()
        {
            Socket udp;
            Socket listener;
            SingleStack s = Prepared(out udp, out listener);

            byte[] ihlTooSmall = (byte[])GoldenFrames.EchoRequest.Clone();
            ihlTooSmall[14] = 0x44;
            FixChecksums(ihlTooSmall);
            s.Inject(ihlTooSmall);
            byte[] version6 = (byte[])GoldenFrames.EchoRequest.Clone();
            version6[14] = 0x65;
            s.Inject(version6);
            byte[] totalTooLong = (byte[])GoldenFrames.EchoRequest.Clone();
            totalTooLong[16] = 0x40;
            FixChecksums(totalTooLong);
            s.Inject(totalTooLong);
            byte[] totalBelowHeader = (byte[])GoldenFrames.EchoRequest.Clone();
            totalBelowHeader[16] = 0;
            totalBelowHeader[17] = 10;
            FixChecksums(totalBelowHeader);
            s.Inject(totalBelowHeader);
            byte[] udpTooLong = (byte[])GoldenFrames.UdpToPort9999.Clone();
            udpTooLong[38] = 0x10;
            FixChecksums(udpTooLong);
            s.Inject(udpTooLong);
            byte[] udpTooShort = (byte[])GoldenFrames.UdpToPort9999.Clone();
            udpTooShort[39] = 4;
            udpTooShort[38] = 0;
            s.Inject(udpTooShort);
            Assert.That(s.Counter(NetStatistics.IpBadHeader), Is.EqualTo(2));
            Assert.That(s.Counter(NetStatistics.IpBadLength), Is.EqualTo(2));
            Assert.That(s.Counter(NetStatistics.UdpBadLength), Is.EqualTo(2));

            long badHeader = s.Counter(NetStatistics.TcpBadHeader);
            s.Inject(Tcp(0x02, null, 4));              // data offset < 5
            s.Inject(Tcp(0x02, null, 15));             // data offset beyond the segment
            s.Inject(Tcp(0x03, null));                 // SYN+FIN
            s.Inject(Tcp(0x06, null));                 // SYN+RST
            s.Inject(Tcp(0x00, null));                 // no flags
            s.Inject(Tcp(0x01, null));                 // FIN alone
            s.Inject(Tcp(0xFF, null));                 // everything
            Assert.That(s.Counter(NetStatistics.TcpBadHeader) - badHeader, Is.EqualTo(7));

            long badOptions = s.Counter(NetStatistics.TcpBadOptions);
            s.Inject(Tcp(0x02, new byte[] { 2, 0, 0, 0 }));                 // option length 0
            s.Inject(Tcp(0x02, new byte[] { 1, 1, 1, 2 }));                 // kind with no length byte
            s.Inject(Tcp(0x02, new byte[] { 2, 9, 5, 0xB4 }));              // runs past the header
            s.Inject(Tcp(0x02, new byte[] { 3, 3, 200, 0, 2, 3, 5, 0 }));   // absurd window scale, bad MSS length
            Assert.That(s.Counter(NetStatistics.TcpBadOptions) - badOptions, Is.EqualTo(3));
            // A SYN with odd but parseable options still opens a (half-open) connection; an ACK to a listener
            // that matches no SYN queue entry and carries no valid cookie gets RST.
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.GreaterThanOrEqualTo(1));
            long resets = s.Counter(NetStatistics.TcpResetsSent);
            byte[] ackToListener = Tcp(0x10, null);
            ackToListener[35] ^= 0x55; // another source port: no connection, only the listener matches
            FixChecksums(ackToListener);
            s.Inject(ackToListener);
            Assert.That(s.Counter(NetStatistics.TcpResetsSent), Is.EqualTo(resets + 1));
            s.Inject(Tcp(0x04, null)); // RST to a listener: ignored silently
            Assert.That(s.Counter(NetStatistics.TcpResetsSent), Is.EqualTo(resets + 1));

            byte[] broadcastTcp = Tcp(0x02, null);
            for (int i = 0; i < 6; i++)
            {
                broadcastTcp[i] = 0xFF;
            }
            broadcastTcp[33] = 255;
            FixChecksums(broadcastTcp);
            s.Inject(broadcastTcp);
            byte[] otherHost = (byte[])GoldenFrames.EchoRequest.Clone();
            otherHost[33] = 77;
            FixChecksums(otherHost);
            s.Inject(otherHost);
            Assert.That(s.Counter(NetStatistics.IpNotForUs), Is.EqualTo(2));
            udp.Close();
            listener.Close();
            string detail;
            Assert.That(s.Idle(out detail), Is.True, detail);
        }

        [Test]
        public void OverlappingAndBogusFragmentsAreHandled()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            byte[] icmp = new byte[3008];
            icmp[0] = 8;
            ushort c = GoldenPacketTests.ReferenceChecksum(icmp, 0, icmp.Length);
            icmp[2] = (byte)(c >> 8);
            icmp[3] = (byte)c;
            var frames = FrameBuilder.FragmentIPv4(GoldenFrames.EchoRequest, icmp, 1, 1500, 77);
            // Duplicates and reverse order still reassemble once.
            s.Inject(frames[2]);
            s.Inject(frames[1]);
            s.Inject(frames[1]);
            s.Inject(frames[0]);
            Assert.That(s.Counter(NetStatistics.IpReassembled), Is.EqualTo(1));
            // A lone fragment times out.
            var lone = FrameBuilder.FragmentIPv4(GoldenFrames.EchoRequest, icmp, 1, 1500, 78);
            s.Inject(lone[0]);
            s.Clock.AdvanceMilliseconds(31_000);
            s.Stack.Poll();
            Assert.That(s.Counter(NetStatistics.IpReasmTimeouts), Is.EqualTo(1));
            // Fragment claiming to end past 64 KiB, odd-sized middle fragment.
            byte[] huge = (byte[])lone[1].Clone();
            huge[20] = 0x3F;
            huge[21] = 0xFF;
            FixChecksums(huge);
            s.Inject(huge);
            byte[] odd = (byte[])lone[0].Clone();
            odd[17] -= 3;
            FixChecksums(odd);
            s.Inject(odd);
            Assert.That(s.Counter(NetStatistics.IpReasmDropped), Is.GreaterThanOrEqualTo(2));
            string detail;
            Assert.That(s.Idle(out detail), Is.True, detail);
        }
    }
}
