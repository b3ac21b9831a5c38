using Keel.Drivers.VirtioNet;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>
    /// What the receive path copies into a packet's linear area (Linux eth_get_headlen): a frame of up to 128 bytes
    /// whole; else the Ethernet, IPv4 and TCP/UDP headers (lengths from RFC 791 IHL and RFC 9293 data offset), so
    /// the payload stays in page fragments; only the Ethernet header when the frame is anything else.
    /// </summary>
    public sealed unsafe class HeaderCopyTests
    {
        private static byte[] Frame(int length, ushort etherType, int ihlWords, int protocol, int tcpWords, int fragmentField = 0)
        {
            byte[] f = Frames.IPv4(protocol, length - Frames.EthernetHeader - Frames.IPv4Header);
            Frames.Put16(f, 12, etherType);
            f[14] = (byte)(0x40 | ihlWords);
            Frames.Put16(f, 20, fragmentField);
            f[14 + ihlWords * 4 + 12] = (byte)(tcpWords << 4);
            return f;
        }

        private static int Copy(byte[] f)
        {
            fixed (byte* p = f)
            {
                return ReceiveQueue.CopyLength(p, f.Length);
            }
        }

        [Test]
        public void SmallFramesAreCopiedWhole()
        {
            Assert.That(Copy(Frame(60, 0x0800, 5, 6, 8)), Is.EqualTo(60));
            Assert.That(Copy(Frame(128, 0x0800, 5, 6, 8)), Is.EqualTo(128));
        }

        [Test]
        public void TcpAndUdpHeadersAreCopiedAndThePayloadIsNot()
        {
            Assert.That(Copy(Frame(1514, 0x0800, 5, 6, 8)), Is.EqualTo(14 + 20 + 32), "TCP with timestamps");
            Assert.That(Copy(Frame(1514, 0x0800, 5, 6, 5)), Is.EqualTo(14 + 20 + 20), "TCP without options");
            Assert.That(Copy(Frame(1514, 0x0800, 6, 6, 15)), Is.EqualTo(14 + 24 + 60), "IP option, longest TCP header");
            Assert.That(Copy(Frame(1442, 0x0800, 5, 17, 0)), Is.EqualTo(14 + 20 + 8), "UDP");
            Assert.That(Copy(Frame(1514, 0x0800, 5, 1, 0)), Is.EqualTo(14 + 20), "ICMP: the IP header");
        }

        /// <summary>An IPv6 frame of <paramref name="length"/> bytes: the header (RFC 8200 section 3), then
        /// <paramref name="extensions"/> (each 8 bytes, next header in its first byte), then <paramref name="upper"/>.</summary>
        private static byte[] Frame6(int length, int upper, int tcpWords, params int[] extensions)
        {
            byte[] f = new byte[length];
            Frames.Put16(f, 12, 0x86DD);
            f[14] = 0x60;
            int at = 54;
            f[20] = (byte)(extensions.Length > 0 ? extensions[0] : upper);
            for (int i = 0; i < extensions.Length; i++)
            {
                f[at] = (byte)(i + 1 < extensions.Length ? extensions[i + 1] : upper);
                f[at + 1] = 0; // 8 bytes (RFC 8200 section 4.3: length in 8-octet units, not counting the first 8)
                at += 8;
            }
            f[at + 12] = (byte)(tcpWords << 4);
            return f;
        }

        [Test]
        public void Ipv6HeadersAndExtensionHeadersAreCopied()
        {
            Assert.That(Copy(Frame6(1514, 6, 8)), Is.EqualTo(14 + 40 + 32), "TCP with timestamps");
            Assert.That(Copy(Frame6(1462, 17, 0)), Is.EqualTo(14 + 40 + 8), "UDP");
            Assert.That(Copy(Frame6(1514, 6, 5, 0, 60)), Is.EqualTo(14 + 40 + 16 + 20), "hop-by-hop and destination options");
            Assert.That(Copy(Frame6(1514, 17, 0, 44)), Is.EqualTo(14 + 40 + 8 + 8), "first fragment: the UDP header");
            byte[] later = Frame6(1514, 17, 0, 44);
            Frames.Put16(later, 56, 185 << 3);
            Assert.That(Copy(later), Is.EqualTo(14 + 40 + 8), "a later fragment: up to the fragment header");
            Assert.That(Copy(Frame6(1514, 6, 5, 60, 60, 60, 60, 60)), Is.EqualTo(14), "a chain longer than the copy walks");
            Assert.That(Copy(Frame6(1514, 58, 0)), Is.EqualTo(14 + 40), "ICMPv6: the IPv6 header");
        }

        [Test]
        public void FragmentsAndOtherFramesGetTheEthernetHeaderOrTheIpHeader()
        {
            Assert.That(Copy(Frame(1514, 0x0800, 5, 17, 0, 0x00B9)), Is.EqualTo(14 + 20), "a later fragment has no UDP header");
            Assert.That(Copy(Frame(1514, 0x0800, 5, 17, 0, 0x2000)), Is.EqualTo(14 + 20 + 8), "the first fragment (MF) has it");
            Assert.That(Copy(Frame(1514, 0x86DD, 5, 6, 8)), Is.EqualTo(14), "EtherType IPv6 with an IPv4 header: Ethernet header only");
            Assert.That(Copy(Frame(1514, 0x8100, 5, 6, 8)), Is.EqualTo(14), "VLAN tag: Ethernet header only");
            Assert.That(Copy(Frame(1514, 0x0800, 3, 6, 8)), Is.EqualTo(14), "IHL below 5 is invalid (RFC 791)");
            Assert.That(Copy(Frame(1514, 0x0800, 5, 6, 2)), Is.EqualTo(14 + 20), "a TCP data offset below 5 stops at IP");
        }
    }
}
