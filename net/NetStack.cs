using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net
{
    /// <summary>
    /// The IPv4 stack on one network device: Ethernet, ARP, IPv4, ICMP, UDP, TCP and sockets.
    /// Construct once at start-up (everything is allocated then); it registers itself as the device's receiver.
    /// Single-threaded: the kernel main loop calls the driver poll (which calls <see cref="Receive"/> and
    /// <see cref="ReceiveBatchDone"/>), <see cref="Poll"/> every 1–10 ms, and the applications.
    /// </summary>
    public sealed class NetStack : IPacketReceiver, IStatisticsSource
    {
        public NetStack(INetDevice device, IClock clock, IPageAllocator pageAllocator, NetConfig config, ulong randomSeed)
        {
            Device = device;
            Config = config;
            device.Receiver = this;
        }

        public INetDevice Device { get; }

        public NetConfig Config { get; }

        /// <summary>This host's address.</summary>
        public IPv4Address Address => Config.Address;

        /// <summary>
        /// Makes a socket: (Stream, Tcp) or (Dgram, Udp). Returns null when every socket is in use or the pair
        /// is not supported.
        /// </summary>
        public Socket CreateSocket(SocketType socketType, ProtocolType protocolType) => null;

        /// <summary>
        /// Runs timers (TCP retransmission, delayed ACK, persist, TIME_WAIT; ARP expiry and retries; reassembly
        /// timeouts), retries transmits the device refused, and delivers socket callbacks. Call every 1–10 ms.
        /// </summary>
        public void Poll()
        {
        }

        /// <summary>Earliest time (IClock nanoseconds) at which <see cref="Poll"/> has timer work; long.MaxValue for none.</summary>
        public long NextTimerNanoseconds => long.MaxValue;

        /// <summary>One received Ethernet frame (the stack frees it).</summary>
        public void Receive(Packet frame)
        {
            frame.Free();
        }

        /// <summary>End of a driver poll: sends the batched ACKs and delivers socket callbacks.</summary>
        public void ReceiveBatchDone()
        {
        }

        /// <summary>Prints what the shell's <c>net</c> command shows: address, ARP cache, sockets, counters.</summary>
        public void PrintStatus(ITextOutput output)
        {
        }

        public int StatisticsCount => 0;

        public string StatisticName(int index) => "";

        public long StatisticValue(int index) => 0;
    }
}
