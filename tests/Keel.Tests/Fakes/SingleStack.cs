using Keel.Net;

namespace Keel.Tests.Fakes
{
    /// <summary>One stack (198.18.0.2) on a test NIC whose transmitted frames are captured.</summary>
    public sealed class SingleStack
    {
        public readonly NativePageAllocator Allocator = new NativePageAllocator();
        public readonly FakeClock Clock = new FakeClock();
        public readonly TestNetDevice Device;
        public readonly FrameCapture Capture = new FrameCapture();
        public readonly NetStack Stack;

        public SingleStack(NetConfig config = null)
        {
            Device = new TestNetDevice(Allocator, 2);
            Device.Sink = Capture;
            config ??= NetConfig.Create(NetPair.AddressB, 24, new IPv4Address(198, 18, 0, 254));
            config.Address = NetPair.AddressB;
            Stack = new NetStack(Device, Clock, Allocator, config, 99);
        }

        public void Inject(byte[] frame)
        {
            Device.Inject(frame);
            Stack.ReceiveBatchDone();
        }

        /// <summary>Teaches the stack the host's MAC (an ARP request from the host) and drops the reply.</summary>
        public void LearnHost()
        {
            Inject(GoldenFrames.ArpRequestFromHost);
            Capture.Frames.Clear();
        }

        public long Counter(int index) => Stack.Counter(index);

        public bool Idle(out string detail)
        {
            Stack.Shutdown();
            detail = "tx " + Device.TransmitPackets.InUse + " rx " + Device.ReceivePackets.InUse + " rxpages " + Device.ReceivePages.InFlight +
                     " stackpages " + Stack.TransmitPages.InFlight;
            return Device.PoolsIdle && Stack.TransmitPages.InFlight == 0;
        }
    }
}
