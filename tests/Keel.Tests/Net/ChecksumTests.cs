using Keel.Net;
using Keel.Net.Internal;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The Internet checksum (RFC 1071) and the TCP/UDP pseudo-headers of IPv4 (RFC 768, RFC 9293 section 3.1)
    /// and IPv6 (RFC 8200 section 8.1). Expected sums are computed here from the RFCs' byte layouts with a plain
    /// big-endian one's-complement sum, not with the code under test.
    /// </summary>
    public unsafe class ChecksumTests
    {
        /// <summary>RFC 1071's folded one's-complement sum of 16-bit big-endian words (an odd byte padded with zero).</summary>
        private static uint ReferenceSum(byte[] bytes)
        {
            uint sum = 0;
            for (int i = 0; i < bytes.Length; i += 2)
            {
                sum += (uint)(bytes[i] << 8) | (i + 1 < bytes.Length ? bytes[i + 1] : 0u);
            }
            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }
            return sum;
        }

        /// <summary>A native-order sum from <see cref="Checksum"/> as the big-endian value on the wire.</summary>
        private static uint OnWire(ulong nativeSum) => NetBytes.Swap16(Checksum.Fold(nativeSum));

        [Test]
        public void Rfc1071NumericalExample()
        {
            // RFC 1071 section 3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 2ddf0, folded ddf2, checksum 220d.
            byte[] bytes = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
            Assert.That(ReferenceSum(bytes), Is.EqualTo(0xddf2u), "the reference sum itself");
            fixed (byte* p = bytes)
            {
                ulong sum = Checksum.Sum(p, bytes.Length);
                Assert.That(OnWire(sum), Is.EqualTo(0xddf2u));
                ushort stored = Checksum.Finish(sum);
                byte* field = (byte*)&stored;
                Assert.That(field[0], Is.EqualTo(0x22), "checksum 220d, first byte on the wire");
                Assert.That(field[1], Is.EqualTo(0x0d));
            }
        }

        [Test]
        public void Rfc1071OddLengthPadsWithZero()
        {
            // Section 2 (A): an odd count of bytes is summed as if a zero byte followed.
            byte[] bytes = { 0x12, 0x34, 0x56 };
            fixed (byte* p = bytes)
            {
                Assert.That(OnWire(Checksum.Sum(p, bytes.Length)), Is.EqualTo(0x1234u + 0x5600u));
            }
        }

        [Test]
        public void IPv4PseudoHeaderIsSourceDestinationZeroProtocolLength()
        {
            IPv4Address source = new IPv4Address(198, 18, 0, 1);
            IPv4Address destination = new IPv4Address(198, 18, 0, 2);
            // RFC 768 / RFC 9293 section 3.1: source, destination, zero, protocol, TCP/UDP length (16 bits).
            byte[] layout = { 198, 18, 0, 1, 198, 18, 0, 2, 0, 17, 0x05, 0xdc };
            Assert.That(OnWire(Checksum.PseudoHeader(source, destination, 17, 1500)), Is.EqualTo(ReferenceSum(layout)));
        }

        [Test]
        public void IPv6PseudoHeaderIsRfc8200Section8_1()
        {
            IPv6Address source = new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
            IPv6Address destination = new IPv6Address(0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 0xffff);
            // Source address, destination address, upper-layer packet length (32 bits), three zero bytes, next header.
            byte[] layout =
            {
                0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
                0x20, 0x01, 0x0d, 0xb8, 0xaa, 0xaa, 0xbb, 0xbb, 0xcc, 0xcc, 0xdd, 0xdd, 0xee, 0xee, 0xff, 0xff,
                0x00, 0x01, 0x23, 0x45,
                0, 0, 0, 6,
            };
            Assert.That(OnWire(Checksum.PseudoHeader(source, destination, 6, 0x12345)), Is.EqualTo(ReferenceSum(layout)));
        }

        [Test]
        public void IPv6UdpDatagramWithItsChecksumVerifies()
        {
            IPv6Address source = new IPv6Address(0xfe80, 0, 0, 0, 0x0200, 0x5eff, 0xfe00, 0x5301);
            IPv6Address destination = new IPv6Address(0xff02, 0, 0, 0, 0, 0, 0, 0xfb);
            // UDP header (ports 5353, length 12, checksum to fill) and 4 payload bytes.
            byte[] udp = { 0x14, 0xe9, 0x14, 0xe9, 0x00, 0x0c, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef };
            byte[] pseudo = new byte[40];
            source.Write(new System.Span<byte>(pseudo, 0, 16));
            destination.Write(new System.Span<byte>(pseudo, 16, 16));
            pseudo[35] = (byte)udp.Length;
            pseudo[39] = 17;
            byte[] covered = new byte[pseudo.Length + udp.Length];
            pseudo.CopyTo(covered, 0);
            udp.CopyTo(covered, pseudo.Length);
            uint expected = ~ReferenceSum(covered) & 0xFFFF;
            fixed (byte* p = udp)
            {
                ushort stored = Checksum.Finish(Checksum.PseudoHeader(source, destination, 17, udp.Length) + Checksum.Sum(p, udp.Length));
                *(ushort*)(p + 6) = stored;
                Assert.That((uint)((p[6] << 8) | p[7]), Is.EqualTo(expected));
                Assert.That(Checksum.IsValid(Checksum.PseudoHeader(source, destination, 17, udp.Length) + Checksum.Sum(p, udp.Length)), Is.True);
            }
        }
    }
}
