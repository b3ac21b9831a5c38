using System;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// Targets that feed frames to a whole <see cref="FuzzStack"/>: the bytes as a frame, as a sequence of frames,
    /// or as the payload of one protocol wrapped in right headers so that protocol's parser is what gets fuzzed.
    /// </summary>
    public static class StackTargets
    {
        /// <summary>One Ethernet frame from the wire.</summary>
        public static void Frame(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack();
            s.Inject(input);
            End(s);
        }

        /// <summary>
        /// A sequence of frames: each record is a control byte (bit 0: fix the IPv4 and transport checksums;
        /// bits 1-7: milliseconds ×10 to let pass first) and a 16-bit length and the frame.
        /// </summary>
        public static void Frames(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack();
            FuzzReader r = new FuzzReader(input);
            while (!r.AtEnd)
            {
                int control = r.U8();
                byte[] frame = r.Chunk().ToArray();
                if ((control & 1) != 0)
                {
                    Fakes.Frames.FixChecksums(frame);
                }
                if (control >> 1 != 0)
                {
                    s.Run((control >> 1) * 10, 10);
                }
                s.Inject(frame);
                s.Serve();
            }
            End(s);
        }

        /// <summary>An ARP packet (RFC 826) in a frame to the stack.</summary>
        public static void Arp(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack();
            s.Inject(WireFrames.Ethernet(WireFrames.EtherTypeArp, input));
            End(s);
        }

        /// <summary>An IPv4 datagram (RFC 791) in a frame, its header and transport checksums fixed when the lengths allow.</summary>
        public static void Ipv4(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack();
            byte[] frame = WireFrames.Ethernet(WireFrames.EtherTypeIpv4, input.Slice(0, Math.Min(input.Length, FuzzStack.MaxFrame - 14)));
            Fakes.Frames.FixChecksums(frame);
            s.Inject(frame);
            End(s);
        }

        public static void Icmp(ReadOnlySpan<byte> input) => Transport(1, input);

        public static void Udp(ReadOnlySpan<byte> input) => Transport(17, input);

        public static void TcpSegment(ReadOnlySpan<byte> input) => Transport(6, input);

        /// <summary>One transport message from the host in a right IPv4 header, its checksum fixed.</summary>
        private static void Transport(int protocol, ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack();
            s.Inject(WireFrames.Ipv4(protocol, input));
            End(s);
        }

        /// <summary>
        /// IPv4 fragments (RFC 791, RFC 815): each record is a control byte (bit 0: more fragments; bit 1: the second
        /// datagram id; bit 2: ICMP instead of UDP; bits 3-7: seconds to let pass first), a 16-bit fragment offset
        /// (in 8-byte units, 13 bits used) and a 16-bit length and the payload.
        /// </summary>
        public static void Reassembly(ReadOnlySpan<byte> input)
        {
            FuzzStack s = new FuzzStack();
            FuzzReader r = new FuzzReader(input);
            while (!r.AtEnd)
            {
                int control = r.U8();
                int offset = r.U16() & 0x1FFF;
                ReadOnlySpan<byte> payload = r.Chunk();
                if (control >> 3 != 0)
                {
                    s.Run((control >> 3) * 1000, 1000);
                }
                int fragment = offset | ((control & 1) != 0 ? 0x2000 : 0);
                ushort id = (control & 2) != 0 ? (ushort)0x2222 : (ushort)0x1111;
                s.Inject(WireFrames.Ipv4((control & 4) != 0 ? 1 : 17, payload, id, fragment));
                s.Serve();
            }
            End(s);
        }

        /// <summary>Serves, lets the timers run, closes down and checks the invariants.</summary>
        internal static void End(FuzzStack s)
        {
            s.Serve();
            s.Run(3000, 100);
            FuzzInvariantException.Check(s.ReceiveAllocatedBytes == 0, "the receive path allocated " + s.ReceiveAllocatedBytes + " bytes, first at frame " + s.FirstAllocatingFrame);
            s.Finish();
        }
    }
}
