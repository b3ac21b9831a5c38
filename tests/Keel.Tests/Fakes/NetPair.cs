using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Tests.Fakes
{
    /// <summary>Two stacks (198.18.0.1 and 198.18.0.2) joined by a <see cref="TestLink"/>, driven by a fake clock.</summary>
    public sealed class NetPair
    {
        public static readonly IPv4Address AddressA = new IPv4Address(198, 18, 0, 1);
        public static readonly IPv4Address AddressB = new IPv4Address(198, 18, 0, 2);

        public readonly NativePageAllocator Allocator = new NativePageAllocator();
        public readonly FakeClock Clock = new FakeClock();
        public readonly TestNetDevice DeviceA;
        public readonly TestNetDevice DeviceB;
        public readonly TestLink Link;
        public readonly NetStack A;
        public readonly NetStack B;

        /// <summary>Clock step per <see cref="Step"/>, microseconds.</summary>
        public long StepMicroseconds = 100;

        /// <param name="packetsB">size of B's device packet pools (receive and transmit), like a driver's</param>
        /// <param name="offloads">both devices offer transmit checksum offload and TSO (cut into MSS frames on the link)</param>
        /// <param name="packetsA">size of A's device packet pools</param>
        /// <param name="linkSlots">frames the link holds at once (<see cref="TestLink"/>)</param>
        public NetPair(NetConfig configA = null, NetConfig configB = null, ulong seed = 1, int packetsB = 2048, bool offloads = false,
            int packetsA = 2048, int linkSlots = 4096)
        {
            DeviceA = new TestNetDevice(Allocator, 1, packetsA);
            DeviceB = new TestNetDevice(Allocator, 2, packetsB);
            if (offloads)
            {
                DeviceA.TransmitChecksumOffload = DeviceB.TransmitChecksumOffload = true;
                DeviceA.TsoBytes = DeviceB.TsoBytes = 65535;
            }
            Link = new TestLink(Clock, DeviceA, DeviceB, linkSlots, seed * 7919 + 1);
            configA ??= NetConfig.Create(AddressA, 24, IPv4Address.Any);
            configB ??= NetConfig.Create(AddressB, 24, IPv4Address.Any);
            configA.Address = AddressA;
            configB.Address = AddressB;
            A = new NetStack(DeviceA, Clock, Allocator, configA, seed * 31 + 5);
            B = new NetStack(DeviceB, Clock, Allocator, configB, seed * 17 + 3);
        }

        /// <summary>A fast-timer configuration for tests (short TIME_WAIT, small minimum RTO).</summary>
        public static NetConfig TestConfig(int timeWaitMilliseconds = 1000)
        {
            NetConfig config = NetConfig.Create(IPv4Address.Any, 24, IPv4Address.Any);
            config.TcpTimeWait = Duration.FromMilliseconds(timeWaitMilliseconds);
            config.TcpFinWait2Timeout = Duration.FromMilliseconds(timeWaitMilliseconds);
            config.TcpMinRto = Duration.FromMilliseconds(20);
            config.TcpInitialRto = Duration.FromMilliseconds(200);
            return config;
        }

        public void Step()
        {
            Clock.AdvanceMicroseconds(StepMicroseconds);
            DeviceA.CompleteTransmits();
            DeviceB.CompleteTransmits();
            Link.Deliver();
            A.Poll();
            B.Poll();
        }

        public void Run(int milliseconds)
        {
            long end = Clock.NowNanoseconds + milliseconds * 1_000_000L;
            while (Clock.NowNanoseconds < end)
            {
                Step();
            }
        }

        /// <summary>Steps until <paramref name="condition"/> holds or the time limit passes.</summary>
        public bool RunUntil(ICondition condition, int milliseconds)
        {
            long end = Clock.NowNanoseconds + milliseconds * 1_000_000L;
            while (Clock.NowNanoseconds < end)
            {
                if (condition.Done())
                {
                    return true;
                }
                Step();
            }
            return condition.Done();
        }

        /// <summary>Closes everything and checks every packet and page went back to its pool.</summary>
        public bool AllReturned(out string detail)
        {
            A.Shutdown();
            B.Shutdown();
            DeviceA.CompleteTransmits();
            DeviceB.CompleteTransmits();
            Link.DropAll();
            detail = "A tx " + DeviceA.TransmitPackets.InUse + " rx " + DeviceA.ReceivePackets.InUse + " rxpages " + DeviceA.ReceivePages.InFlight +
                     " stackpages " + A.TransmitPages.InFlight + "; B tx " + DeviceB.TransmitPackets.InUse + " rx " + DeviceB.ReceivePackets.InUse +
                     " rxpages " + DeviceB.ReceivePages.InFlight + " stackpages " + B.TransmitPages.InFlight;
            return DeviceA.PoolsIdle && DeviceB.PoolsIdle && A.TransmitPages.InFlight == 0 && B.TransmitPages.InFlight == 0;
        }

        public Socket Listen(NetStack stack, int port, int backlog = 8)
        {
            Socket s = stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(stack.AnyAddress, port));
            s.Listen(backlog);
            return s;
        }
    }

    public interface ICondition
    {
        bool Done();
    }
}
