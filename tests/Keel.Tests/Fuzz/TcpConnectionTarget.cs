using System;
using System.Collections.Generic;
using Keel.Net.Sockets;
using Keel.Tests.Net;
using Golden = Keel.Tests.Net.TcpSackTimestampGoldenTests;

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
                    o.AddRange(Golden.Ts(0x01020304 + (uint)(s.Clock.NowNanoseconds / 1000000), peer.TsRecent));
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
                int length = Math.Min(r.U8() * 6, 1400);
                int wait = r.U8() * 4;
                if ((flags & 0x06) != 0)
                {
                    peer.Checking = false; // a SYN or RST from the peer may end or replace the connection
                }
                s.Inject(Golden.Frame(seq, ack, flags, o.ToArray(), length, 0x55, window));
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
            // SYN: MSS 1460, SACK-permitted, timestamps, NOP, window scale 7.
            byte[] syn = { 2, 4, 0x05, 0xB4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0, 1, 3, 3, 7 };
            s.Inject(Golden.Frame(PeerIsn, 0, 0x02, syn, 0));
            peer.Next = PeerIsn + 1;
            foreach (byte[] f in s.Sent.Capture.Frames)
            {
                if (IsTcpToPeer(f) && (f[47] & 0x12) == 0x12)
                {
                    Seg synAck = Golden.Parse(f);
                    peer.ServerIsn = synAck.Sequence;
                    peer.ServerNext = synAck.Sequence + 1;
                    peer.ServerScale = Math.Clamp(synAck.WindowScale, 0, 14);
                    peer.TsRecent = synAck.TsVal;
                }
            }
            s.Sent.Capture.Frames.Clear();
            FuzzInvariantException.Check(peer.ServerNext != 0, "no SYN-ACK to the peer's SYN");
            s.Inject(Golden.Frame(peer.Next, peer.ServerNext, 0x10, Golden.Ts(0x01020305, peer.TsRecent), 0, 0x55, 65535 >> 7));
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
                Seg a = Golden.Parse(f);
                int flags = a.Flags;
                uint ack = a.Acknowledgment;
                int window = a.Window;
                uint end = a.Sequence + (uint)a.PayloadLength + ((flags & 0x03) != 0 ? 1u : 0u);
                if ((int)(end - peer.ServerNext) > 0)
                {
                    peer.ServerNext = end;
                }
                if (a.HasTs)
                {
                    peer.TsRecent = a.TsVal;
                }
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

        /// <summary>A TCP segment to the peer (the stack's IPv4 headers carry no options).</summary>
        private static bool IsTcpToPeer(byte[] f) =>
            f.Length >= 54 && f[12] == 8 && f[13] == 0 && f[14] == 0x45 && f[23] == 6 && ((f[36] << 8) | f[37]) == PeerPort;

        private static void Be32(List<byte> o, uint v)
        {
            o.Add((byte)(v >> 24));
            o.Add((byte)(v >> 16));
            o.Add((byte)(v >> 8));
            o.Add((byte)v);
        }
    }
}
