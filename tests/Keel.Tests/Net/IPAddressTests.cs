using System;
using Keel.Net;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>IPv6 addresses and their text form from RFC 4291 and RFC 5952; the family-neutral address type.</summary>
    public class IPAddressTests
    {
        private static string Text(IPv6Address address)
        {
            TextCapture capture = new TextCapture();
            address.WriteTo(capture);
            return capture.ToString();
        }

        [TestCase((ushort)0x2001, (ushort)0xdb8, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)2, (ushort)1, "2001:db8::2:1")]
        [TestCase((ushort)0x2001, (ushort)0xdb8, (ushort)0, (ushort)1, (ushort)1, (ushort)1, (ushort)1, (ushort)1, "2001:db8:0:1:1:1:1:1")]
        [TestCase((ushort)0x2001, (ushort)0, (ushort)0, (ushort)1, (ushort)0, (ushort)0, (ushort)0, (ushort)1, "2001:0:0:1::1")]
        [TestCase((ushort)0x2001, (ushort)0xdb8, (ushort)0, (ushort)0, (ushort)1, (ushort)0, (ushort)0, (ushort)1, "2001:db8::1:0:0:1")]
        [TestCase((ushort)0x2001, (ushort)0xdb8, (ushort)0xaaaa, (ushort)0xbbbb, (ushort)0xcccc, (ushort)0xdddd, (ushort)0xeeee, (ushort)0xaaaa, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:aaaa")]
        [TestCase((ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, "::")]
        [TestCase((ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)1, "::1")]
        [TestCase((ushort)0xfe80, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)0, "fe80::")]
        [TestCase((ushort)0xff02, (ushort)0, (ushort)0, (ushort)0, (ushort)0, (ushort)1, (ushort)0xff00, (ushort)0x0042, "ff02::1:ff00:42")]
        public void TextFormIsTheOneRfc5952Recommends(ushort g0, ushort g1, ushort g2, ushort g3, ushort g4, ushort g5, ushort g6, ushort g7, string text)
        {
            Assert.That(Text(new IPv6Address(g0, g1, g2, g3, g4, g5, g6, g7)), Is.EqualTo(text));
        }

        [Test]
        public void Ipv4MappedAddressesAreRecognisedConvertedAndWrittenDotted()
        {
            // RFC 4291 section 2.5.5.2: 80 zero bits, 16 one bits, the IPv4 address.
            IPv6Address mapped = IPv6Address.Read(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1 });
            Assert.That(mapped.IsIPv4Mapped, Is.True);
            Assert.That(Text(mapped), Is.EqualTo("::ffff:198.18.0.1"), "RFC 5952 section 5");
            Assert.That(new IPv6Address(0, 0, 0, 0, 0, 0xfffe, 0xc612, 1).IsIPv4Mapped, Is.False);
            Assert.That(new IPv6Address(0, 0, 0, 0, 1, 0xffff, 0xc612, 1).IsIPv4Mapped, Is.False);
            Assert.That(IPv6Address.Any.IsIPv4Mapped, Is.False);

            IPAddress v4 = new IPv4Address(198, 18, 0, 1);
            IPAddress asV6 = v4.MapToIPv6();
            Assert.That(asV6.IsIPv6 && asV6.IsIPv4MappedToIPv6, Is.True);
            Assert.That(asV6.V6, Is.EqualTo(mapped));
            Assert.That(asV6.MapToIPv4(), Is.EqualTo(v4));
            Assert.That(v4.IsIPv4MappedToIPv6, Is.False);
            Assert.That(v4.MapToIPv4(), Is.EqualTo(v4));
            IPAddress global = new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
            Assert.That(global.MapToIPv4(), Is.EqualTo(global));
            Assert.That(global.MapToIPv6(), Is.EqualTo(global));
        }

        [Test]
        public void BytesAreInNetworkOrder()
        {
            byte[] wire = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
            IPv6Address address = IPv6Address.Read(wire);
            Assert.That(address, Is.EqualTo(new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)));
            Assert.That(address.GetByte(3), Is.EqualTo(0xb8));
            Assert.That(address.GetByte(15), Is.EqualTo(0x01));
            byte[] back = new byte[16];
            address.Write(back);
            Assert.That(back, Is.EqualTo(wire));
        }

        [Test]
        public void ScopesFollowRfc4291()
        {
            Assert.That(new IPv6Address(0xfe80, 0, 0, 0, 0, 0, 0, 1).IsLinkLocal, Is.True);
            Assert.That(new IPv6Address(0xfebf, 0, 0, 0, 0, 0, 0, 1).IsLinkLocal, Is.True);
            Assert.That(new IPv6Address(0xfec0, 0, 0, 0, 0, 0, 0, 1).IsLinkLocal, Is.False);
            Assert.That(new IPv6Address(0xff02, 0, 0, 0, 0, 0, 0, 1).IsMulticast, Is.True);
            Assert.That(new IPv6Address(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1).IsMulticast, Is.False);
            Assert.That(IPv6Address.Any.IsAny, Is.True);
        }

        [Test]
        public void AnIPv4AddressAndTheSameBitsAsIPv6AreDifferentAddresses()
        {
            IPAddress v4 = new IPv4Address(198, 18, 0, 2);
            IPAddress v6 = new IPv6Address(0, 0xC6120002);
            Assert.That(v4.IsIPv4, Is.True);
            Assert.That(v4.Family, Is.EqualTo(AddressFamily.InterNetwork));
            Assert.That(v6.Family, Is.EqualTo(AddressFamily.InterNetworkV6));
            Assert.That(v4 == v6, Is.False);
            Assert.That(v4.V4, Is.EqualTo(new IPv4Address(198, 18, 0, 2)));
            Assert.That(default(IPAddress).IsAny && default(IPAddress).IsIPv4, Is.True);
            TextCapture capture = new TextCapture();
            v4.WriteTo(capture);
            Assert.That(capture.ToString(), Is.EqualTo("198.18.0.2"));
        }
    }
}
