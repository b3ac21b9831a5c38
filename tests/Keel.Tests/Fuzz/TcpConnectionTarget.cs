using System;
using System.Collections.Generic;
using Keel.Net.Sockets;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// One TCP connection fed a sequence of fuzzed segments by a scripted peer (198.18.0.1:40001) that first
    /// opens it properly (SYN with MSS, SACK-permitted, timestamps and window scale; the ACK of the SYN-ACK), then
    /// sends segments whose fields the bytes give relative to the connection's own numbers (so they land in and
    /// around the windows rather than anywhere in 2^32). After each segment the application echoes what it read
    /// and the invariants are checked on what the stack sent (RFC 9293): the acknowledgment number never moves
    /// back, the right edge of the advertised window never moves back, every sent checksum verifies; and on the
    /// socket's TcpInfo (bytes in flight not negative, a congestion window, an MSS).
    /// </summary>
    public static class TcpConnectionTarget
    {
        private const int PeerPort = 40001;
        private const uint PeerIsn = 0x11223344;

        private sealed class Peer
        {
            public uint Next = PeerIsn;     // the peer's SND.NXT
            public uint ServerNext;         // highest sequence the stack has sent (end of its last segment)
            public uint ServerIsn;
            public uint TsRecent;
            public int ServerScale;
            public bool Checking;
            public bool HaveAck;
            public uint LastAck;
            public uint RightEdge;
        }

        /// <summary>
        /// Each record: flags (8 bits), sequence offset from the peer's next (signed 16), acknowledgment offset from
        /// the stack's highest sent (signed 16), window, options (bit 0 timestamps, bit 1 SACK, bits 2-3 blocks - 1),
        /// per SACK block a left offset (signed 16) and a length (16), payload length / 6, milliseconds / 4 to wait.
        /// </summary>
        public static void Run(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack();
            s.Sent.Capture = new FrameCapture();
            Peer peer = new Peer();
            Open(s, peer);
            FuzzReader r = new FuzzReader(input);
            byte[] payload = new byte[1400];
            while (!r.AtEnd)
            {
                int flags = r.U8();
                uint seq = peer.Next + (uint)(short)r.U16();
                uint ack = peer.ServerNext + (uint)(short)r.U16();
                int window = r.U16();
                int options = r.U8();
                List<byte> o = new List<byte>();
                if ((options & 1) != 0)
                {
                    o.AddRange(new byte[] { 1, 1 });
                    Timestamps(o, 0x01020304 + (uint)s.Clock.NowNanoseconds / 1000000, peer.TsRecent);
                }
                if ((options & 2) != 0)
                {
                    int blocks = ((options >> 2) & 3) + 1;
                    if ((options & 1) != 0 && blocks > 3)
                    {
                        blocks = 3;
                    }
                    o.AddRange(new byte[] { 1, 1, 5, (byte)(2 + 8 * blocks) });
                    for (int b = 0; b < blocks; b++)
                    {
                        uint left = peer.ServerNext + (uint)(short)r.U16();
                        Be32(o, left);
                        Be32(o, left + r.U16());
                    }
                }
                int length = Math.Min(r.U8() * 6, payload.Length);
                int wait = r.U8() * 4;
                if ((flags & 0x06) != 0)
                {
                    peer.Checking = false; // a SYN or RST from the peer may end or replace the connection
                }
                byte[] segment = Segment(seq, ack, flags, window, o.ToArray(), new ReadOnlySpan<byte>(payload, 0, length));
                s.Inject(WireFrames.Ipv4(6, segment));
                if (seq == peer.Next)
                {
                    peer.Next += (uint)length + ((flags & 1) != 0 ? 1u : 0u);
                }
                s.Serve();
                if (wait > 0)
                {
                    s.Run(wait, 20);
                }
                Observe(s, peer);
            }
            s.Run(2000, 100);
            Observe(s, peer);
            StackTargets.End(s);
        }

        private static void Open(FuzzStack s, Peer peer)
        {
            List<byte> o = new List<byte> { 2, 4, 0x05, 0xB4, 4, 2 };
            Timestamps(o, 0x01020304, 0);
            o.AddRange(new byte[] { 1, 3, 3, 7 });
            s.Inject(WireFrames.Ipv4(6, Segment(PeerIsn, 0, 0x02, 65535, o.ToArray(), default)));
            peer.Next = PeerIsn + 1;
            foreach (byte[] f in s.Sent.Capture.Frames)
            {
                if (IsTcpToPeer(f) && (f[47] & 0x12) == 0x12)
                {
                    peer.ServerIsn = Be32(f, 38);
                    peer.ServerNext = peer.ServerIsn + 1;
                    ReadOptions(f, peer);
                }
            }
            s.Sent.Capture.Frames.Clear();
            FuzzInvariantException.Check(peer.ServerNext != 0, "no SYN-ACK to the peer's SYN");
            List<byte> ts = new List<byte> { 1, 1 };
            Timestamps(ts, 0x01020305, peer.TsRecent);
            s.Inject(WireFrames.Ipv4(6, Segment(peer.Next, peer.ServerNext, 0x10, 65535 >> 7, ts.ToArray(), default)));
            s.Serve();
            peer.Checking = true;
            Observe(s, peer);
        }

        /// <summary>Reads what the stack sent the peer since the last call and checks the sequence-space invariants.</summary>
        private static void Observe(FuzzStack s, Peer peer)
        {
            foreach (byte[] f in s.Sent.Capture.Frames)
            {
                if (!IsTcpToPeer(f))
                {
                    continue;
                }
                int ihl = (f[14] & 15) * 4;
                int t = 14 + ihl;
                int flags = f[t + 13];
                uint seq = Be32(f, t + 4);
                uint ack = Be32(f, t + 8);
                int window = (f[t + 14] << 8) | f[t + 15];
                int dataOffset = (f[t + 12] >> 4) * 4;
                int total = (f[16] << 8) | f[17];
                uint end = seq + (uint)(total - ihl - dataOffset) + ((flags & 0x03) != 0 ? 1u : 0u);
                if ((int)(end - peer.ServerNext) > 0)
                {
                    peer.ServerNext = end;
                }
                ReadOptions(f, peer);
                if ((flags & 0x04) != 0)
                {
                    peer.Checking = false;
                }
                if (!peer.Checking || (flags & 0x10) == 0)
                {
                    continue;
                }
                uint right = ack + (uint)(window << peer.ServerScale);
                if (peer.HaveAck)
                {
                    FuzzInvariantException.Check((int)(ack - peer.LastAck) >= 0, "the acknowledgment number moved back");
                    FuzzInvariantException.Check((int)(right - peer.RightEdge) >= 0, "the advertised window's right edge moved back");
                }
                peer.HaveAck = true;
                peer.LastAck = ack;
                peer.RightEdge = right;
            }
            s.Sent.Capture.Frames.Clear();
            Socket c = s.Accepted(0);
            if (c != null)
            {
                TcpInfo info;
                c.GetTcpInfo(out info);
                FuzzInvariantException.Check(info.BytesInFlight >= 0, "negative bytes in flight");
                FuzzInvariantException.Check(info.State == TcpState.Closed || (info.CongestionWindow > 0 && info.SendMss > 0), "no congestion window or MSS");
            }
        }

        private static bool IsTcpToPeer(byte[] f) =>
            f.Length >= 54 && f[12] == 8 && f[13] == 0 && f[23] == 6 && ((f[14 + (f[14] & 15) * 4 + 2] << 8) | f[14 + (f[14] & 15) * 4 + 3]) == PeerPort;

        /// <summary>Takes the stack's window scale (SYN-ACK) and timestamp value from a sent segment's options.</summary>
        private static void ReadOptions(byte[] f, Peer peer)
        {
            int t = 14 + (f[14] & 15) * 4;
            int end = Math.Min(t + (f[t + 12] >> 4) * 4, f.Length);
            int i = t + 20;
            while (i < end)
            {
                int kind = f[i];
                if (kind == 0)
                {
                    break;
                }
                if (kind == 1)
                {
                    i++;
                    continue;
                }
                int len = i + 1 < end ? f[i + 1] : 0;
                if (len < 2 || i + len > end)
                {
                    break;
                }
                if (kind == 3 && len == 3 && (f[t + 13] & 0x02) != 0)
                {
                    peer.ServerScale = Math.Min((int)f[i + 2], 14);
                }
                else if (kind == 8 && len == 10)
                {
                    peer.TsRecent = Be32(f, i + 2);
                }
                i += len;
            }
        }

        private static byte[] Segment(uint seq, uint ack, int flags, int window, byte[] options, ReadOnlySpan<byte> payload)
        {
            int header = 20 + ((options.Length + 3) & ~3);
            byte[] d = new byte[header + payload.Length];
            d[0] = PeerPort >> 8;
            d[1] = PeerPort & 0xFF;
            d[3] = FuzzStack.TcpPort;
            Put32(d, 4, seq);
            Put32(d, 8, ack);
            d[12] = (byte)((header / 4) << 4);
            d[13] = (byte)flags;
            d[14] = (byte)(window >> 8);
            d[15] = (byte)window;
            options.CopyTo(d, 20);
            payload.CopyTo(d.AsSpan(header));
            return d;
        }

        private static void Timestamps(List<byte> o, uint value, uint echo)
        {
            o.Add(8);
            o.Add(10);
            Be32(o, value);
            Be32(o, echo);
        }

        private static void Be32(List<byte> o, uint v)
        {
            o.Add((byte)(v >> 24));
            o.Add((byte)(v >> 16));
            o.Add((byte)(v >> 8));
            o.Add((byte)v);
        }

        private static void Put32(byte[] d, int at, uint v)
        {
            d[at] = (byte)(v >> 24);
            d[at + 1] = (byte)(v >> 16);
            d[at + 2] = (byte)(v >> 8);
            d[at + 3] = (byte)v;
        }

        private static uint Be32(byte[] f, int at) => (uint)((f[at] << 24) | (f[at + 1] << 16) | (f[at + 2] << 8) | f[at + 3]);
    }
}
