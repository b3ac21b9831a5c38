using System;
using Keel.Net;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// A fresh stack (198.18.0.2) for one fuzz input, small pools so it is quick to make, that already knows the
    /// host 198.18.0.1 (02:00:00:00:00:01), has a UDP socket on 9999 and a TCP listener on 80 whose connections
    /// it accepts and echoes. <see cref="Finish"/> runs the timers, closes everything and checks the invariants:
    /// every packet and page back, every page given back to the allocator, every sent checksum right.
    /// </summary>
    public sealed unsafe class FuzzStack
    {
        public const int UdpPort = 9999;
        public const int TcpPort = 80;

        /// <summary>Longest frame the fake NIC takes (an Ethernet frame at MTU 1500).</summary>
        public const int MaxFrame = 1514;

        public readonly NativePageAllocator Allocator = new NativePageAllocator();
        public readonly FakeClock Clock = new FakeClock();
        public readonly TestNetDevice Device;
        public readonly SentFrameChecker Sent = new SentFrameChecker();
        public readonly NetStack Stack;
        public readonly Socket Udp;
        public readonly Socket Listener;
        private readonly Socket[] _accepted = new Socket[4];
        private readonly byte[] _buffer = new byte[2048];
        private readonly byte[] _frame = new byte[MaxFrame];

        /// <summary>The stack's IPv6 link-local address (16 bytes) when made with IPv6; null otherwise.</summary>
        public readonly byte[] LinkLocal;

        /// <summary>Bytes the stack allocated while taking input frames (after set-up): the hot path must not.</summary>
        public long ReceiveAllocatedBytes;

        /// <summary>
        /// <paramref name="ipv6"/>: IPv6 on (without DAD probes, so it is quick), brought up to a usable link-local
        /// address, and the host's fe80::1 learned as a neighbor.
        /// </summary>
        public FuzzStack(bool sockets = true, bool ipv6 = false)
        {
            Device = new TestNetDevice(Allocator, 2, packets: 128, rxPages: 128);
            Device.Sink = Sent;
            NetConfig config = Config();
            if (ipv6)
            {
                config.Ipv6Enabled = true;
                config.Ipv6DadTransmits = 0;
            }
            Stack = new NetStack(Device, Clock, Allocator, config, 99);
            Inject(GoldenFrames.ArpRequestFromHost);
            if (ipv6)
            {
                Stack.Poll();
                Run(1100, 100);
                LinkLocal = new byte[16];
                Stack.Ipv6LinkLocal.Write(LinkLocal);
                Inject(Fakes.Frames.Icmpv6(135, 0, Fakes.Frames.NeighborSolicitationBody(LinkLocal,
                    Fakes.Frames.LinkAddressOption(1, Fakes.Frames.HostMac)), Fakes.Frames.HostLinkLocal, LinkLocal, 255));
            }
            if (sockets)
            {
                Udp = Stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
                Udp.Bind(new IPEndPoint(IPv4Address.Any, UdpPort));
                Listener = Stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
                Listener.Bind(new IPEndPoint(IPv4Address.Any, TcpPort));
                Listener.Listen(4);
            }
        }

        /// <summary>The stack's settings for fuzzing: the defaults with small buffers and pools.</summary>
        public static NetConfig Config()
        {
            NetConfig config = NetConfig.Create(NetPair.AddressB, 24, new IPv4Address(198, 18, 0, 254));
            config.MaxSockets = 8;
            config.TcpReceiveBufferSize = 16 * 1024;
            config.TcpReceiveBufferMax = 32 * 1024;
            config.TcpSendBufferSize = 16 * 1024;
            config.UdpReceiveBufferSize = 16 * 1024;
            config.TransmitPages = 64;
            return config;
        }

        /// <summary>One frame from the wire (cut to <see cref="MaxFrame"/>), then the end of the driver's batch.</summary>
        public void Inject(ReadOnlySpan<byte> frame)
        {
            int length = Math.Min(frame.Length, MaxFrame);
            frame.Slice(0, length).CopyTo(_frame);
            long before = GC.GetAllocatedBytesForCurrentThread() - Sent.CaptureAllocatedBytes;
            fixed (byte* p = _frame)
            {
                Device.Inject(p, length);
            }
            Stack.ReceiveBatchDone();
            long allocated = GC.GetAllocatedBytesForCurrentThread() - Sent.CaptureAllocatedBytes - before;
            if (allocated != 0 && ReceiveAllocatedBytes == 0)
            {
                FirstAllocatingFrame = _frames;
            }
            ReceiveAllocatedBytes += allocated;
            _frames++;
            CheckConnections();
        }

        /// <summary>
        /// Every TCP connection's sender invariants (<see cref="TcpConnection.CheckInvariants"/>: sequence space,
        /// scoreboard inside the send window, bytes in flight): checked after every frame and every timer step.
        /// </summary>
        public void CheckConnections() => CheckConnections(Stack);

        /// <summary>The sender invariants of every TCP connection of <paramref name="stack"/>.</summary>
        public static void CheckConnections(NetStack stack)
        {
            for (int i = 0; i < stack.Sockets.Made; i++)
            {
                Socket socket = stack.Sockets.At(i);
                TcpConnection c = socket.InPool ? null : socket.Tcp;
                string broken = c?.CheckInvariants();
                if (broken != null)
                {
                    throw new FuzzInvariantException("TCP connection in " + c.State + ": " + broken);
                }
            }
        }

        private int _frames;

        /// <summary>Index (from 0, the set-up's ARP request included) of the first injected frame that allocated.</summary>
        public int FirstAllocatingFrame = -1;

        /// <summary>The <paramref name="index"/>th accepted connection still open; null when there is none.</summary>
        public Socket Accepted(int index) => _accepted[index];

        /// <summary>What an application does: accepts, reads and echoes on TCP, reads UDP.</summary>
        public void Serve()
        {
            if (Listener == null)
            {
                return;
            }
            SocketError error;
            Socket accepted;
            while (Listener.Accept(out accepted) == SocketError.Success && accepted != null)
            {
                int slot = Array.IndexOf(_accepted, null);
                if (slot < 0)
                {
                    accepted.Close();
                    continue;
                }
                _accepted[slot] = accepted;
            }
            for (int i = 0; i < _accepted.Length; i++)
            {
                Socket s = _accepted[i];
                if (s == null)
                {
                    continue;
                }
                int n = s.Receive(_buffer, out error);
                if (n > 0)
                {
                    s.Send(new ReadOnlySpan<byte>(_buffer, 0, n), out error);
                }
                else if (n == 0 && error == SocketError.Success)
                {
                    s.Close();
                    _accepted[i] = null;
                }
            }
            IPEndPoint from;
            while (Udp.ReceiveFrom(_buffer, out from, out error) > 0)
            {
            }
        }

        /// <summary>Lets time pass (timers: retransmission, delayed ACK, reassembly, ARP) in steps of the stack's poll.</summary>
        public void Run(int milliseconds, int stepMilliseconds = 50)
        {
            for (int t = 0; t < milliseconds; t += stepMilliseconds)
            {
                Clock.AdvanceMilliseconds(stepMilliseconds);
                Stack.Poll();
                CheckConnections();
                Serve();
            }
        }

        /// <summary>Closes everything and checks the pools and the allocator balance.</summary>
        public void Finish()
        {
            Stack.Shutdown();
            FuzzInvariantException.Check(Stack.TransmitPages.InFlight == 0, "transmit pages still in flight after shutdown");
            FuzzInvariantException.Check(Device.TransmitPackets.InUse == 0, "transmit packets not returned");
            FuzzInvariantException.Check(Device.ReceivePackets.InUse == 0, "receive packets not returned");
            FuzzInvariantException.Check(Device.ReceivePages.InFlight == 0, "receive pages not returned");
            FuzzInvariantException.Check(Device.DestroyPools(), "device pools could not be destroyed");
            Stack.TransmitPages.ReleaseFreePages();
            FuzzInvariantException.Check(Allocator.Outstanding == 0, "pages not given back to the allocator: " + Allocator.Outstanding);
        }
    }
}
