using System.Collections.Generic;
using Keel.Net;
using Keel.Net.Ipv6;
using Keel.Tests.Fakes;
using NUnit.Framework;

namespace Keel.Tests.Net.Ipv6
{
    /// <summary>A <see cref="SingleStack"/> with IPv6 on, brought up to a usable link-local address.</summary>
    internal sealed class Ipv6TestStack
    {
        public readonly SingleStack S;

        public Ipv6TestStack(System.Action<NetConfig> configure = null, bool up = true)
        {
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, new IPv4Address(198, 18, 0, 254));
            config.Ipv6Enabled = true;
            configure?.Invoke(config);
            S = new SingleStack(config);
            if (up)
            {
                S.Stack.Poll();
                Run(3000);
                Assert.That(S.Stack.Ipv6LinkLocal.IsLinkLocal, Is.True, "link-local address never passed DAD");
            }
        }

        public NetStack Stack => S.Stack;

        public List<byte[]> Sent => S.Capture.Frames;

        public Ipv6Layer Ip => S.Stack.Ipv6;

        public long Counter(int index) => S.Stack.Ipv6Counter(index);

        /// <summary>The stack's link-local address as 16 bytes.</summary>
        public byte[] LinkLocal => Bytes(S.Stack.Ipv6LinkLocal);

        public static byte[] Bytes(IPv6Address a)
        {
            byte[] b = new byte[16];
            a.Write(b);
            return b;
        }

        /// <summary>Lets <paramref name="milliseconds"/> pass in 100 ms polls.</summary>
        public void Run(int milliseconds, int step = 100)
        {
            for (int t = 0; t < milliseconds; t += step)
            {
                S.Clock.AdvanceMilliseconds(step);
                S.Stack.Poll();
            }
        }

        public void Inject(byte[] frame) => S.Inject(frame);

        /// <summary>Frames sent since the last call, removed from the capture.</summary>
        public List<byte[]> TakeSent()
        {
            List<byte[]> sent = new List<byte[]>(S.Capture.Frames);
            S.Capture.Frames.Clear();
            return sent;
        }

        /// <summary>Teaches the stack the host's MAC for fe80::1 (a Neighbor Solicitation from it) and forgets what it sent.</summary>
        public void LearnHost()
        {
            Inject(Frames.Icmpv6(135, 0, Frames.NeighborSolicitationBody(LinkLocal, Frames.LinkAddressOption(1, Frames.HostMac)),
                Frames.HostLinkLocal, LinkLocal, 255));
            TakeSent();
        }

        public void AssertIdle()
        {
            string detail;
            Assert.That(S.Idle(out detail), Is.True, detail);
        }
    }
}
