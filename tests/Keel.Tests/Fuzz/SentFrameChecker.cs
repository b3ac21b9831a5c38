using System;
using Keel.Buffers;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// The wire behind a fuzzed stack: every frame the stack sends is checked as a receiver would (RFC 791 header
    /// checksum; RFC 768/793/792 checksums of whole datagrams, with the pseudo-header) and kept when asked.
    /// A bad checksum is a broken invariant.
    /// </summary>
    public sealed class SentFrameChecker : ITestFrameSink
    {
        private readonly byte[] _frame = new byte[65536 + 64];

        /// <summary>Frames seen.</summary>
        public int Frames;

        /// <summary>When set, every frame is also copied here (the scripted peers read what they were sent).</summary>
        public FrameCapture Capture;

        /// <summary>What checking frames and copying them into <see cref="Capture"/> allocated (test code, not the stack's).</summary>
        public long CaptureAllocatedBytes;

        public void Accept(TestNetDevice from, Packet frame)
        {
            int length = frame.Length;
            FuzzInvariantException.Check(length <= _frame.Length, "sent frame longer than 64 KiB");
            frame.CopyTo(0, _frame);
            Frames++;
            long checking = GC.GetAllocatedBytesForCurrentThread();
            Verify(_frame, length);
            CaptureAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - checking;
            if (Capture != null)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                Capture.Accept(from, frame);
                CaptureAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }

        /// <summary>Checks the checksums of one Ethernet frame (IPv4, and ICMPv6 in IPv6; other types have none to check).</summary>
        public static void Verify(byte[] f, int length)
        {
            FuzzInvariantException.Check(length >= 14, "sent frame shorter than an Ethernet header");
            if (f[12] == 0x86 && f[13] == 0xDD)
            {
                VerifyIpv6(f, length);
                return;
            }
            if (f[12] != 0x08 || f[13] != 0x00)
            {
                return;
            }
            FuzzInvariantException.Check(length >= 34, "sent IPv4 frame shorter than its header");
            int ihl = (f[14] & 15) * 4;
            FuzzInvariantException.Check(f[14] >> 4 == 4 && ihl >= 20 && 14 + ihl <= length, "sent IPv4 header malformed");
            FuzzInvariantException.Check(Fakes.Frames.Checksum(f, 14, ihl) == 0, "sent IPv4 header checksum does not verify");
            int total = (f[16] << 8) | f[17];
            FuzzInvariantException.Check(total >= ihl && 14 + total <= length, "sent IPv4 total length beyond the frame");
            int fragment = (f[20] << 8) | f[21];
            if ((fragment & 0x3FFF) != 0)
            {
                return; // a fragment: the transport checksum covers the datagram, checked where it is whole
            }
            int protocol = f[23];
            int start = 14 + ihl;
            int l4 = total - ihl;
            uint pseudo = 0;
            for (int i = 26; i < 34; i += 2)
            {
                pseudo += (uint)((f[i] << 8) | f[i + 1]);
            }
            pseudo += (uint)protocol + (uint)l4;
            if (protocol == 1)
            {
                FuzzInvariantException.Check(Fakes.Frames.Checksum(f, start, l4) == 0, "sent ICMP checksum does not verify");
            }
            else if (protocol == 6)
            {
                FuzzInvariantException.Check(l4 >= 20, "sent TCP segment shorter than its header");
                FuzzInvariantException.Check(Fakes.Frames.Checksum(f, start, l4, pseudo) == 0, "sent TCP checksum does not verify");
            }
            else if (protocol == 17)
            {
                FuzzInvariantException.Check(l4 >= 8 && ((f[start + 4] << 8) | f[start + 5]) == l4, "sent UDP length wrong");
                bool none = f[start + 6] == 0 && f[start + 7] == 0;
                FuzzInvariantException.Check(none || Fakes.Frames.Checksum(f, start, l4, pseudo) == 0, "sent UDP checksum does not verify");
            }
        }

        /// <summary>An IPv6 frame: version, payload length inside the frame, hop limit 255 on ND and 1 on MLD, ICMPv6 checksum (RFC 8200 section 8.1).</summary>
        private static void VerifyIpv6(byte[] f, int length)
        {
            FuzzInvariantException.Check(length >= 54 && f[14] >> 4 == 6, "sent IPv6 header malformed");
            int payload = (f[18] << 8) | f[19];
            FuzzInvariantException.Check(54 + payload <= length, "sent IPv6 payload length beyond the frame");
            byte[] frame = new byte[54 + payload];
            Array.Copy(f, frame, frame.Length);
            int icmp = Fakes.Frames.IcmpOffset(frame);
            if (icmp < 0)
            {
                return; // a fragment: the checksum covers the whole datagram
            }
            FuzzInvariantException.Check(Fakes.Frames.Icmpv6ChecksumValid(frame), "sent ICMPv6 checksum does not verify");
            int type = frame[icmp];
            FuzzInvariantException.Check(type < 133 || type > 137 || frame[21] == 255, "sent Neighbor Discovery message without hop limit 255");
            FuzzInvariantException.Check(type != 143 || frame[21] == 1, "sent MLD report without hop limit 1");
        }
    }
}
