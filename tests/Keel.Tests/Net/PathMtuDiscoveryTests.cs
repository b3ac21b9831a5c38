using Keel.Net.Tcp;
using NUnit.Framework;

namespace Keel.Tests.Net
{
    /// <summary>
    /// The path-MTU part alone: RFC 1191 sections 3, 5 and 7 (DF on every datagram, reduce only, the plateau below
    /// the quoted datagram when the router reports no MTU) and the floor of <see cref="PathMtuDiscovery.MinPathMtu"/>
    /// against forged messages (RFC 5927 section 7), under which DF is no longer set.
    /// </summary>
    public class PathMtuDiscoveryTests
    {
        private const int DeviceMtu = 1500;

        [Test]
        public void StartsAtTheDevicesMtuWithDontFragment()
        {
            PathMtuDiscovery p = default;
            p.Reset();
            Assert.That(p.Current(DeviceMtu), Is.EqualTo(DeviceMtu));
            Assert.That(p.DontFragment, Is.True, "RFC 1191 section 3: DF on every datagram");
        }

        [Test]
        public void TheReportedNextHopMtuLowersTheEstimate()
        {
            PathMtuDiscovery p = default;
            Assert.That(p.Reduce(1000, DeviceMtu, DeviceMtu, out int mtu), Is.True);
            Assert.That(mtu, Is.EqualTo(1000));
            Assert.That(p.Current(DeviceMtu), Is.EqualTo(1000));
            Assert.That(p.DontFragment, Is.True);
        }

        [Test]
        public void ADatagramTooBigMessageNeverRaisesTheEstimate()
        {
            // RFC 1191 section 3: a host must not increase its estimate in response to the message.
            PathMtuDiscovery p = default;
            p.Reduce(1000, DeviceMtu, DeviceMtu, out _);
            Assert.That(p.Reduce(1200, 1000, DeviceMtu, out int mtu), Is.False);
            Assert.That(mtu, Is.EqualTo(1000));
            Assert.That(p.Reduce(1000, 1000, DeviceMtu, out _), Is.False, "equal: nothing changes");
            Assert.That(p.Reduce(9000, 1000, DeviceMtu, out _), Is.False, "above the device's MTU");
            Assert.That(p.Current(DeviceMtu), Is.EqualTo(1000));
        }

        [Test]
        public void ARouterThatReportsNoMtuGetsThePlateauBelowTheDatagram()
        {
            // RFC 1191 section 5 and table 7-1: 1500 -> 1492, then 1492 -> 1006.
            PathMtuDiscovery p = default;
            Assert.That(p.Reduce(0, 1500, DeviceMtu, out int mtu), Is.True);
            Assert.That(mtu, Is.EqualTo(1492));
            Assert.That(p.Reduce(0, 1492, DeviceMtu, out mtu), Is.True);
            Assert.That(mtu, Is.EqualTo(1006));
        }

        [Test]
        public void ATinyMtuIsClampedAndThenSentWithoutDontFragment()
        {
            // RFC 1191 section 3 allows 68; RFC 5927 section 7 shows what a forged 68 costs: the floor is 552.
            PathMtuDiscovery p = default;
            Assert.That(p.Reduce(68, DeviceMtu, DeviceMtu, out int mtu), Is.True);
            Assert.That(mtu, Is.EqualTo(PathMtuDiscovery.MinPathMtu));
            Assert.That(p.DontFragment, Is.False);
            p.Reset();
            Assert.That(p.DontFragment, Is.True);
            Assert.That(p.Current(DeviceMtu), Is.EqualTo(DeviceMtu));
        }

        [Test]
        public void AClampAtTheCurrentMtuStillDropsDontFragment()
        {
            PathMtuDiscovery p = default;
            Assert.That(p.Reduce(300, 576, PathMtuDiscovery.MinPathMtu, out int mtu), Is.False, "552 is not below 552");
            Assert.That(mtu, Is.EqualTo(PathMtuDiscovery.MinPathMtu));
            Assert.That(p.DontFragment, Is.False, "the router cannot forward 552 with DF: let it fragment");
        }
    }
}
