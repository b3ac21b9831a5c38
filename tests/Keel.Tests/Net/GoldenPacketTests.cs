using System;
using Keel.Net;
using Keel.Net.Sockets;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    public class GoldenPacketTests
    {
        [Test]
        public void AnswersArpRequestWithExactReply()
        {
            SingleStack s = new SingleStack();
            s.Inject(GoldenFrames.ArpRequestFromHost);
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            Assert.That(s.Capture.Frames[0], Is.EqualTo(GoldenFrames.ArpReplyExpected));
            Assert.That(s.Counter(NetStatistics.ArpRepliesSent), Is.EqualTo(1));
        }

        [Test]
        public void SendsGratuitousArpOnFirstPoll()
        {
            SingleStack s = new SingleStack();
            s.Stack.Poll();
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            Assert.That(s.Capture.Frames[0], Is.EqualTo(GoldenFrames.GratuitousArpExpected));
            s.Stack.Poll();
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1), "only once");
        }

        [Test]
        public void ResolvesUnknownNextHopAndFlushesPendingPacket()
        {
            SingleStack s = new SingleStack();
            s.Inject(GoldenFrames.EchoRequest); // host MAC unknown: the reply waits for ARP
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            byte[] request = s.Capture.Take();
            Assert.That(request[12], Is.EqualTo(0x08));
            Assert.That(request[13], Is.EqualTo(0x06));
            Assert.That(request[21], Is.EqualTo(1), "ARP request");
            Assert.That(request[38], Is.EqualTo(198));
            Assert.That(request[41], Is.EqualTo(1), "asks for 198.18.0.1");
            // The host's reply (an ARP reply addressed to us) releases the queued echo reply.
            byte[] reply = (byte[])GoldenFrames.ArpReplyExpected.Clone();
            for (int i = 0; i < 6; i++)
            {
                reply[i] = GoldenFrames.ArpReplyExpected[6 + i];
                reply[6 + i] = GoldenFrames.ArpReplyExpected[i];
                reply[22 + i] = GoldenFrames.ArpReplyExpected[32 + i];
                reply[32 + i] = GoldenFrames.ArpReplyExpected[22 + i];
            }
            for (int i = 0; i < 4; i++)
            {
                reply[28 + i] = GoldenFrames.ArpReplyExpected[38 + i];
                reply[38 + i] = GoldenFrames.ArpReplyExpected[28 + i];
            }
            s.Inject(reply);
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            Assert.That(s.Capture.Frames[0][23], Is.EqualTo(1), "ICMP echo reply went out");
            string detail;
            Assert.That(s.Idle(out detail), Is.True, detail);
        }

        [Test]
        public void AnswersEchoRequest()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            s.Inject(GoldenFrames.EchoRequest);
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            byte[] frame = s.Capture.Frames[0];
            byte[] expected = GoldenFrames.EchoReplyExpected;
            Assert.That(frame.Length, Is.EqualTo(expected.Length));
            for (int i = 0; i < frame.Length; i++)
            {
                bool masked = i == 18 || i == 19 || i == 24 || i == 25; // IP id (random) and IP checksum
                if (!masked)
                {
                    Assert.That(frame[i], Is.EqualTo(expected[i]), "byte " + i);
                }
            }
            Assert.That(Frames.Checksum(frame, 14, 20), Is.EqualTo(0), "IP header checksum");
            Assert.That(Frames.Checksum(frame, 34, frame.Length - 34), Is.EqualTo(0), "ICMP checksum");
        }

        [Test]
        public void EchoReplyForLargeAndFragmentedPings()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            foreach (int size in new[] { 100, 1472, 4000, 20000 })
            {
                byte[] icmp = new byte[8 + size];
                icmp[0] = 8;
                icmp[4] = 0x12;
                icmp[7] = 7;
                for (int i = 0; i < size; i++)
                {
                    icmp[8 + i] = (byte)(i * 31 + 7);
                }
                ushort c = Frames.Checksum(icmp, 0, icmp.Length);
                icmp[2] = (byte)(c >> 8);
                icmp[3] = (byte)c;
                foreach (byte[] f in Frames.FragmentIPv4(GoldenFrames.EchoRequest, icmp, 1, 1500, (ushort)(size + 1)))
                {
                    s.Inject(f);
                }
                byte[] reassembled = Frames.Reassemble(s.Capture.Frames);
                s.Capture.Frames.Clear();
                Assert.That(reassembled, Is.Not.Null, "reply for " + size);
                Assert.That(reassembled.Length, Is.EqualTo(icmp.Length));
                Assert.That(reassembled[0], Is.EqualTo(0), "echo reply");
                Assert.That(Frames.Checksum(reassembled, 0, reassembled.Length), Is.EqualTo(0));
                for (int i = 4; i < icmp.Length; i++)
                {
                    Assert.That(reassembled[i], Is.EqualTo(icmp[i]));
                }
            }
            Assert.That(s.Counter(NetStatistics.IpReassembled), Is.EqualTo(2));
            string detail;
            Assert.That(s.Idle(out detail), Is.True, detail);
        }

        [Test]
        public void UdpDatagramReachesBoundSocket()
        {
            SingleStack s = new SingleStack();
            Socket u = s.Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(u.Bind(new IPEndPoint(IPv4Address.Any, 9999)), Is.EqualTo(SocketError.Success));
            Assert.That(u.Poll(SelectMode.SelectRead), Is.False);
            s.Inject(GoldenFrames.UdpToPort9999);
            Assert.That(u.Poll(SelectMode.SelectRead), Is.True);
            Assert.That(u.Available, Is.EqualTo(10));
            byte[] buffer = new byte[64];
            IPEndPoint from;
            SocketError error;
            int n = u.ReceiveFrom(buffer, out from, out error);
            Assert.That(error, Is.EqualTo(SocketError.Success));
            Assert.That(n, Is.EqualTo(10));
            Assert.That(System.Text.Encoding.ASCII.GetString(buffer, 0, n), Is.EqualTo("hello keel"));
            Assert.That(from.Address, Is.EqualTo((IPAddress)NetPair.AddressA));
            Assert.That(from.Port, Is.EqualTo(40000));
            IPEndPoint sender = from;
            Assert.That(u.ReceiveFrom(buffer, out from, out error), Is.EqualTo(0));
            Assert.That(error, Is.EqualTo(SocketError.WouldBlock));

            // Reply with SendTo: check the UDP header and checksum.
            s.LearnHost();
            int sentCount = u.SendTo(new byte[] { 1, 2, 3 }, sender, out error);
            Assert.That(error, Is.EqualTo(SocketError.Success));
            Assert.That(sentCount, Is.EqualTo(3));
            byte[] frame = s.Capture.Take();
            Assert.That(frame[23], Is.EqualTo(17));
            Assert.That((frame[34] << 8) | frame[35], Is.EqualTo(9999));
            Assert.That((frame[36] << 8) | frame[37], Is.EqualTo(40000));
            Assert.That((frame[38] << 8) | frame[39], Is.EqualTo(11));
            Assert.That(Frames.Checksum(frame, 34, 11, Frames.PseudoHeaderSum(frame, 17, 11)), Is.EqualTo(0));
            u.Close();
            string detail;
            Assert.That(s.Idle(out detail), Is.True, detail);
        }

        [Test]
        public void ClosedUdpPortGetsExactPortUnreachable()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            s.Inject(GoldenFrames.UdpToClosedPort9);
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            byte[] frame = s.Capture.Frames[0];
            byte[] expected = GoldenFrames.PortUnreachableExpected;
            Assert.That(frame.Length, Is.EqualTo(expected.Length));
            for (int i = 0; i < frame.Length; i++)
            {
                if (i != 18 && i != 19 && i != 24 && i != 25)
                {
                    Assert.That(frame[i], Is.EqualTo(expected[i]), "byte " + i);
                }
            }
            Assert.That(s.Counter(NetStatistics.UdpNoPort), Is.EqualTo(1));
            Assert.That(s.Counter(NetStatistics.IcmpUnreachableSent), Is.EqualTo(1));
        }

        [Test]
        public void SynWithOptionsGetsSynAckWithMssAndWindowScale()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            Socket listener = s.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPv4Address.Any, 80));
            listener.Listen(4);
            s.Inject(GoldenFrames.TcpSynWithOptions);
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(1));
            byte[] f = s.Capture.Frames[0];
            int t = 34;
            Assert.That((f[t] << 8) | f[t + 1], Is.EqualTo(80));
            Assert.That((f[t + 2] << 8) | f[t + 3], Is.EqualTo(40001));
            uint ack = (uint)((f[t + 8] << 24) | (f[t + 9] << 16) | (f[t + 10] << 8) | f[t + 11]);
            Assert.That(ack, Is.EqualTo(0x11223345u));
            Assert.That(f[t + 13], Is.EqualTo(0x12), "SYN|ACK");
            int doff = (f[t + 12] >> 4) * 4;
            // The SYN offered SACK-permitted and timestamps: both are agreed, in Linux's layout
            // MSS, SACK-permitted, timestamps (TSecr = the SYN's TSval, RFC 7323 section 3.2), NOP, window scale.
            Assert.That(doff, Is.EqualTo(40));
            Assert.That(f[t + 20], Is.EqualTo(2));
            Assert.That(f[t + 21], Is.EqualTo(4));
            Assert.That((f[t + 22] << 8) | f[t + 23], Is.EqualTo(1460), "MSS");
            Assert.That(f[t + 24], Is.EqualTo(4), "SACK-permitted");
            Assert.That(f[t + 25], Is.EqualTo(2));
            Assert.That(f[t + 26], Is.EqualTo(8), "timestamps");
            Assert.That(f[t + 27], Is.EqualTo(10));
            Assert.That((uint)((f[t + 32] << 24) | (f[t + 33] << 16) | (f[t + 34] << 8) | f[t + 35]), Is.EqualTo(0x01020304u), "TSecr");
            Assert.That(f[t + 36], Is.EqualTo(1));
            Assert.That(f[t + 37], Is.EqualTo(3), "window scale");
            Assert.That(f[t + 38], Is.EqualTo(3));
            Assert.That(f[t + 39], Is.InRange(1, 14));
            Assert.That(f[20] & 0x40, Is.EqualTo(0x40), "DF");
            Assert.That(Frames.Checksum(f, 14, 20), Is.EqualTo(0));
            Assert.That(Frames.Checksum(f, t, doff, Frames.PseudoHeaderSum(f, 6, doff)), Is.EqualTo(0), "TCP checksum");
            // A SYN queue entry, no socket yet: tcp_passive_opens counts completed handshakes (Linux
            // tcp_create_openreq_child), `net` lists the entry as SYN_RECV.
            Assert.That(s.Counter(NetStatistics.TcpPassiveOpens), Is.EqualTo(0));
            Assert.That(s.Stack.Tcp.SynQueue.Count, Is.EqualTo(1));
            TextCapture text = new TextCapture();
            s.Stack.PrintStatus(text);
            Assert.That(text.ToString(), Does.Contain("SYN_RECV"));
        }

        [Test]
        public void SynToClosedPortGetsReset()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            s.Inject(GoldenFrames.TcpSynWithOptions);
            byte[] f = s.Capture.Take();
            Assert.That(f, Is.Not.Null);
            Assert.That(f[34 + 13], Is.EqualTo(0x14), "RST|ACK");
            uint ack = (uint)((f[42] << 24) | (f[43] << 16) | (f[44] << 8) | f[45]);
            Assert.That(ack, Is.EqualTo(0x11223345u));
            Assert.That(s.Counter(NetStatistics.TcpNoSocket), Is.EqualTo(1));
            Assert.That(s.Counter(NetStatistics.TcpResetsSent), Is.EqualTo(1));
        }

        [Test]
        public void BadChecksumsAreCountedAndDropped()
        {
            SingleStack s = new SingleStack();
            s.LearnHost();
            Socket listener = s.Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPv4Address.Any, 80));
            listener.Listen(4);
            byte[] badIp = (byte[])GoldenFrames.EchoRequest.Clone();
            badIp[24] ^= 0xFF;
            s.Inject(badIp);
            byte[] badIcmp = (byte[])GoldenFrames.EchoRequest.Clone();
            badIcmp[40] ^= 0x01;
            s.Inject(badIcmp);
            byte[] badUdp = (byte[])GoldenFrames.UdpToClosedPort9.Clone();
            badUdp[badUdp.Length - 1] ^= 0x20;
            s.Inject(badUdp);
            byte[] badTcp = (byte[])GoldenFrames.TcpSynWithOptions.Clone();
            badTcp[34 + 4] ^= 0x10;
            s.Inject(badTcp);
            Assert.That(s.Capture.Frames.Count, Is.EqualTo(0), "nothing answered");
            Assert.That(s.Counter(NetStatistics.IpBadChecksum), Is.EqualTo(1));
            Assert.That(s.Counter(NetStatistics.IcmpBad), Is.EqualTo(1));
            Assert.That(s.Counter(NetStatistics.UdpBadChecksum), Is.EqualTo(1));
            Assert.That(s.Counter(NetStatistics.TcpBadChecksum), Is.EqualTo(1));
            // With the device vouching for the checksum (virtio DATA_VALID) the TCP check is skipped.
            s.Device.ChecksumOffload = true;
            s.Inject(badTcp);
            Assert.That(s.Counter(NetStatistics.TcpBadChecksum), Is.EqualTo(1));
            string detail;
            Assert.That(s.Idle(out detail), Is.True, detail);
        }
    }
}
