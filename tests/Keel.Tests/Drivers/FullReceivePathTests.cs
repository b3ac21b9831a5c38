using System;
using Keel.Buffers;
using Keel.Drivers.VirtioNet;
using Keel.HostStack;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Tests.Net;
using Keel.Tests.Simulation;
using NUnit.Framework;

namespace Keel.Tests.Drivers
{
    /// <summary>
    /// The whole receive path on the host: simulated virtio-net device → driver (real rings, page pool, NAPI
    /// poll) → <see cref="NetStack"/> → socket, for UDP and TCP. The peer is a second stack on the card fake
    /// (<see cref="TestNetDevice"/>), wired to the simulated device's wire both ways.
    /// </summary>
    public class FullReceivePathTests
    {
        private static readonly IPv4Address Host = new IPv4Address(198, 18, 0, 1);
        private static readonly IPv4Address Guest = new IPv4Address(198, 18, 0, 2);

        private sealed class Wire : ITestFrameSink, ISimTxSink
        {
            public SimulatedVirtioNetDevice Device;
            public TestNetDevice Peer;
            public long ToGuest;
            public long ToHost;
            private readonly byte[] _buffer = new byte[70000];

            public void Accept(TestNetDevice from, Packet frame)
            {
                int length = frame.Length;
                frame.CopyTo(0, new Span<byte>(_buffer, 0, length));
                if (Device.InjectFrame(new ReadOnlySpan<byte>(_buffer, 0, length)))
                {
                    ToGuest++;
                }
            }

            public void FrameSent(byte[] data, int offset, int length)
            {
                byte[] copy = new byte[length];
                Array.Copy(data, offset, copy, 0, length);
                Peer.Inject(copy);
                ToHost++;
            }
        }

        private Bench _bench;
        private NetStack _guest;
        private NetStack _host;
        private TestNetDevice _peer;
        private Wire _wire;

        [SetUp]
        public void SetUp()
        {
            _bench = new Bench();
            Assert.That(_bench.Start(), Is.True);
            _guest = new NetStack(_bench.Driver, _bench.Kernel, _bench.Memory, NetConfig.Create(Guest, 24, IPv4Address.Any), 3);
            _peer = new TestNetDevice(new NativePageAllocator(), 1);
            _host = new NetStack(_peer, _bench.Kernel, new NativePageAllocator(), NetConfig.Create(Host, 24, IPv4Address.Any), 5);
            _wire = new Wire { Device = _bench.Device, Peer = _peer };
            _peer.Sink = _wire;
            _bench.Device.TxSink = _wire;
        }

        [TearDown]
        public void TearDown()
        {
            Assert.That(_bench.Memory.Violations, Is.Zero, _bench.Memory.FirstViolation);
            _bench.Dispose();
        }

        private void Run(int milliseconds)
        {
            for (int i = 0; i < milliseconds * 10; i++)
            {
                _bench.Kernel.Advance(100_000);
                _peer.CompleteTransmits();
                _bench.Kernel.RunPending();
                _guest.Poll();
                _host.Poll();
            }
        }

        [Test]
        public void UdpDatagramsReachTheSocket()
        {
            Socket server = _guest.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            Assert.That(server.Bind(new IPEndPoint(IPv4Address.Any, 5201)), Is.EqualTo(SocketError.Success));
            Socket client = _host.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
            byte[] data = new byte[1400];
            byte[] buffer = new byte[2000];
            SocketError error;
            int received = 0;
            for (int n = 0; n < 200; n++)
            {
                for (int i = 0; i < data.Length; i++)
                {
                    data[i] = (byte)(i * 7 + n);
                }
                client.SendTo(new ReadOnlySpan<byte>(data, 0, 100 + n * 6), new IPEndPoint(Guest, 5201), out error);
                Run(1);
                IPEndPoint from;
                int got;
                while ((got = server.ReceiveFrom(buffer, out from, out error)) > 0)
                {
                    Assert.That(got, Is.EqualTo(100 + received * 6));
                    Assert.That(buffer[got - 1], Is.EqualTo((byte)((got - 1) * 7 + received)));
                    Assert.That(from.Address, Is.EqualTo((IPAddress)Host));
                    received++;
                }
            }
            Assert.That(received, Is.EqualTo(200), "every datagram through device, driver, stack and socket");
            Assert.That(_bench.Stat("rx_queue_0_packets"), Is.GreaterThanOrEqualTo(200));
            Assert.That(_bench.Stat("rx_length_errors") + _bench.Stat("rx_frame_errors"), Is.Zero);
        }

        [Test]
        public void TcpStreamReachesTheSocketIntact()
        {
            Socket listener = _guest.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPv4Address.Any, 5001));
            listener.Listen(4);
            Socket client = _host.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            client.Connect(new IPEndPoint(Guest, 5001));
            Socket accepted = null;
            for (int i = 0; i < 200 && accepted == null; i++)
            {
                Run(1);
                listener.Accept(out accepted);
            }
            Assert.That(accepted, Is.Not.Null, "handshake over the simulated device");
            const int total = 300_000;
            byte[] chunk = new byte[8192];
            byte[] buffer = new byte[65536];
            int sent = 0, received = 0;
            SocketError error;
            for (int round = 0; round < 20000 && received < total; round++)
            {
                if (sent < total)
                {
                    int length = Math.Min(chunk.Length, total - sent);
                    for (int i = 0; i < length; i++)
                    {
                        chunk[i] = (byte)((sent + i) * 13);
                    }
                    int n = client.Send(new ReadOnlySpan<byte>(chunk, 0, length), out error);
                    if (n > 0)
                    {
                        sent += n;
                    }
                }
                Run(1);
                int got;
                while ((got = accepted.Receive(buffer, out error)) > 0)
                {
                    for (int i = 0; i < got; i++)
                    {
                        Assert.That(buffer[i], Is.EqualTo((byte)((received + i) * 13)), "byte " + (received + i));
                    }
                    received += got;
                }
            }
            Assert.That(received, Is.EqualTo(total));
            Assert.That(_bench.Stat("rx_queue_0_packets"), Is.GreaterThan(total / 1500));
            Assert.That(_bench.Stat("rx_length_errors") + _bench.Stat("rx_frame_errors") + _bench.Stat("rx_queue_0_drops"), Is.Zero);
            Assert.That(_bench.Stat("page_pool_alloc_failed"), Is.Zero);
        }
    }
}
