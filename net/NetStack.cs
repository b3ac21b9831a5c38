using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Hal;
using Keel.Net.Arp;
using Keel.Net.Ethernet;
using Keel.Net.Icmp;
using Keel.Net.Internal;
using Keel.Net.Ip;
using Keel.Net.Ipv6;
using Keel.Net.Sockets;
using Keel.Net.Tcp;
using Keel.Net.Udp;

namespace Keel.Net
{
    /// <summary>
    /// The IPv4 (and, when configured, IPv6) stack on one network device: the public face of its layers —
    /// <see cref="EthernetLayer"/>, <see cref="ArpLayer"/>, <see cref="Ipv4Layer"/> (with reassembly),
    /// <see cref="Ipv6Layer"/> (with Neighbor Discovery, SLAAC, MLD, ICMPv6), <see cref="IcmpLayer"/>,
    /// <see cref="UdpLayer"/>, <see cref="TcpLayer"/> — and of the sockets (<see cref="SocketTable"/>).
    /// Construct once at start-up (everything is allocated then); it registers itself as the device's receiver.
    /// Single-threaded: the kernel main loop calls the driver poll (which calls <see cref="Receive"/> and
    /// <see cref="ReceiveBatchDone"/>), <see cref="Poll"/> every 1–10 ms, and the applications.
    /// </summary>
    public sealed unsafe class NetStack : IPacketReceiver, IStatisticsSource
    {
        private readonly IClock _clock;
        private readonly Prng _random;
        private readonly byte[] _macBytes = new byte[6];
        private bool _announced;

        /// <summary>Counter values, indexed by the <see cref="NetStatistics"/> constants.</summary>
        public readonly long[] Counters = new long[NetStatistics.Count];

        internal readonly EthernetLayer Ethernet;
        internal readonly ArpLayer Arp;
        internal readonly Ipv4Layer Ipv4;

        /// <summary>IPv6 (null unless <see cref="NetConfig.Ipv6Enabled"/>).</summary>
        internal readonly Ipv6Layer Ipv6;
        internal readonly IcmpLayer Icmp;
        internal readonly UdpLayer Udp;
        internal readonly TcpLayer Tcp;
        internal readonly SocketTable Sockets;
        internal readonly PagePool TransmitPages;
        internal readonly ulong Mac;
        internal int Mtu;

        /// <summary>The clock at the start of the current receive batch or poll.</summary>
        internal Instant Now;

        /// <summary>The device completes TCP/UDP checksums (and the configuration allows it).</summary>
        internal readonly bool ChecksumOffload;

        /// <summary>Largest TCP/IPv4 payload one segment handed to the device may carry (TSO); 0 = MSS-sized segments only.</summary>
        internal readonly int TsoMaxPayload;

        /// <summary>The same for TCP/IPv6 (the device's TSO6, negotiated apart from TSO4); 0 = MSS-sized segments only.</summary>
        internal readonly int Tso6MaxPayload;

        public NetStack(INetDevice device, IClock clock, IPageAllocator pageAllocator, NetConfig config, ulong randomSeed)
        {
            Device = device;
            Config = config;
            _clock = clock;
            _random = new Prng(randomSeed, config.Entropy);
            device.GetMacAddress(_macBytes);
            fixed (byte* mac = _macBytes)
            {
                Mac = NetBytes.ReadMac(mac);
            }
            Mtu = device.Mtu;
            ChecksumOffload = config.TransmitChecksumOffload && device.SupportsChecksumOffload;
            TsoMaxPayload = TsoPayload(ChecksumOffload && config.TcpSegmentationOffload ? device.MaxTsoBytes : 0, Ipv4Layer.HeaderLength);
            Tso6MaxPayload = TsoPayload(ChecksumOffload && config.TcpSegmentationOffload ? device.MaxTso6Bytes : 0, Ipv6Layer.HeaderLength);
            TransmitPages = new PagePool(pageAllocator, config.TransmitPages);
            ushort firstIpId = (ushort)_random.NextUInt();
            uint ephemeralSeed = _random.NextUInt();
            Ethernet = new EthernetLayer(this, device, Mac);
            Arp = new ArpLayer(this, config, Mac);
            Ipv4 = new Ipv4Layer(this, config, Mtu, firstIpId);
            Icmp = new IcmpLayer(this);
            if (config.Ipv6Enabled)
            {
                Ipv6 = new Ipv6Layer(this, config, Mac, Mtu);
            }
            Udp = new UdpLayer(this, config);
            Tcp = new TcpLayer(this, config);
            Sockets = new SocketTable(this, config, ephemeralSeed);
            Now = Instant.Now(clock);
            device.Receiver = this;
        }

        /// <summary>
        /// Payload of one TSO segment from the device's limit <paramref name="tso"/> (IP packet bytes): the 64 KiB IP
        /// length limit less the IP and TCP headers, and at most Packet.MaxFragments - 2 pages (the send buffer's
        /// pages need not start where the segment does). 0 without TSO.
        /// </summary>
        private static int TsoPayload(int tso, int ipHeaderLength)
        {
            if (tso <= 0)
            {
                return 0;
            }
            if (tso > Ipv4Layer.MaxLength)
            {
                tso = Ipv4Layer.MaxLength;
            }
            int payload = tso - ipHeaderLength - 60;
            int pageLimit = (Packet.MaxFragments - 2) * DmaPage.Size;
            return payload < pageLimit ? payload : pageLimit;
        }

        public INetDevice Device { get; }

        public NetConfig Config { get; }

        /// <summary>This host's address.</summary>
        public IPv4Address Address => Config.Address;

        /// <summary>
        /// The unspecified address a server binds to for clients of every family the stack carries: :: when it runs
        /// IPv6 (a socket bound there takes IPv4 too, see Socket.V6Only), else 0.0.0.0.
        /// </summary>
        public IPAddress AnyAddress => Ipv6 != null ? IPAddress.IPv6Any : IPAddress.Any;

        /// <summary>Sockets not in use (the pool behind <see cref="CreateSocket"/> and Accept).</summary>
        public int FreeSockets => Sockets.FreeCount;

        /// <summary>Frames the device refused, waiting to be sent.</summary>
        public int TransmitBacklog => Ethernet.BacklogCount;

        internal IClock Clock => _clock;

        internal Prng Random => _random;

        // ---------------------------------------------------------------- sockets

        /// <summary>
        /// Makes a socket: (Stream, Tcp) or (Dgram, Udp). Returns null when every socket is in use or the pair
        /// is not supported.
        /// </summary>
        public Socket CreateSocket(SocketType socketType, ProtocolType protocolType)
        {
            if (!((socketType == SocketType.Stream && protocolType == ProtocolType.Tcp) ||
                  (socketType == SocketType.Dgram && protocolType == ProtocolType.Udp)))
            {
                return null;
            }
            return Sockets.Open(protocolType, true);
        }

        // The layers' services under the names the sockets and TCP use.
        internal void ReleaseSocket(Socket socket) => Sockets.Release(socket);

        internal int AllocateEphemeralPort(int protocol, IPAddress address, bool v6Only) => Sockets.AllocateEphemeralPort(protocol, address, v6Only);

        internal bool PortInUse(int protocol, IPAddress address, bool v6Only, int port, bool reuse) =>
            Sockets.PortInUse(protocol, address, v6Only, port, reuse);

        internal void Notify(Socket socket, SocketEvents events) => Sockets.Notify(socket, events);

        internal void NoteUnreachable(uint address) => Udp.NoteUnreachable(new IPv4Address(address));

        /// <summary>
        /// True when sockets can use addresses of <paramref name="family"/>: IPv4 always, IPv6 when the stack runs
        /// it (<see cref="NetConfig.Ipv6Enabled"/>); otherwise an IPv6 endpoint is refused with AddressFamilyNotSupported.
        /// </summary>
        internal bool Carries(AddressFamily family) => family == AddressFamily.InterNetwork || Ipv6 != null;

        /// <summary>True when <paramref name="destination"/> can be reached (on-link, broadcast or through the gateway or a router).</summary>
        internal bool Routable(IPAddress destination) =>
            destination.IsIPv4 ? Ipv4.Routable(destination.V4.Value) : Ipv6 != null && Ipv6.Routable(destination.V6);

        /// <summary>True when <paramref name="address"/> is one of this host's (IPv4: the configured one; IPv6: any
        /// address in the table that is not a detected duplicate), so a socket may bind to it.</summary>
        internal bool IsLocalAddress(IPAddress address)
        {
            if (address.IsIPv4)
            {
                return address.V4 == Config.Address;
            }
            if (Ipv6 == null)
            {
                return false;
            }
            int state = Ipv6.Addresses.StateOf(address.V6);
            return state != Ipv6AddressTable.StateFree && state != Ipv6AddressTable.StateDuplicate;
        }

        /// <summary>The source address for packets to <paramref name="destination"/> from a socket bound to the
        /// unspecified address: the IPv4 address, or the IPv6 one source selection picks (:: when there is none).</summary>
        internal IPAddress SourceFor(IPAddress destination) =>
            destination.IsIPv4 ? new IPv4Address(Ipv4.Address)
            : Ipv6 != null ? Ipv6.Addresses.SelectSource(destination.V6) : IPv6Address.Any;

        /// <summary>The MTU for packets to <paramref name="peer"/>: the link MTU of its family (IPv6's may be lower, from a
        /// router advertisement), or over IPv6 the path MTU a Packet Too Big taught (Ipv6Layer.PathMtu).</summary>
        internal int MtuFor(IPAddress peer) => peer.IsIPv6 && Ipv6 != null ? Ipv6.MtuFor(peer.V6) : Mtu;

        /// <summary>Bytes of the IP header in front of a transport header (20 for IPv4; 40 for IPv6, which sends no extension headers with TCP or UDP).</summary>
        internal static int IpHeaderLength(IPAddress peer) => peer.IsIPv6 ? Ipv6Layer.HeaderLength : Ipv4Layer.HeaderLength;

        /// <summary>Largest TCP payload of one segment handed to the device for <paramref name="peer"/>'s family
        /// (TSO over IPv4 or IPv6, each as negotiated); 0 = MSS-sized segments only.</summary>
        internal int TsoMaxPayloadFor(IPAddress peer) => peer.IsIPv6 ? Tso6MaxPayload : TsoMaxPayload;

        internal bool IsBroadcast(uint address) => Ipv4.IsBroadcast(address);

        /// <summary>
        /// Sends a transport segment (its header at the packet's data) from <paramref name="source"/> to
        /// <paramref name="destination"/> by the IP of their family (IPv4 writes its own source address). An address
        /// of a family not carried (<see cref="Carries"/>) is counted as unroutable and dropped.
        /// <paramref name="dontFragment"/> applies to IPv4 (IPv6 routers never fragment).
        /// </summary>
        internal bool OutputIP(Packet packet, IPAddress source, IPAddress destination, int protocol, bool dontFragment)
        {
            if (destination.IsIPv4)
            {
                return Ipv4.Output(packet, destination.V4.Value, protocol, dontFragment);
            }
            if (Ipv6 != null && source.IsIPv6 && !source.IsAny)
            {
                return Ipv6.Output(packet, source.V6, destination.V6, protocol, Ipv6.HopLimit);
            }
            Counters[NetStatistics.IpNoRoute]++;
            packet.Free();
            return false;
        }

        /// <summary>
        /// A datagram (data at its IP header, the transport header <paramref name="headerLength"/> bytes in) came
        /// to a port nobody holds: ICMP or ICMPv6 port unreachable to its sender, never for a broadcast or multicast
        /// (<paramref name="broadcast"/>), rate-limited on IPv6 by the ICMPv6 error path.
        /// </summary>
        internal void SendPortUnreachable(Packet packet, int headerLength, IPAddress source, IPAddress destination, bool broadcast)
        {
            if (source.IsIPv4)
            {
                if (!broadcast)
                {
                    Icmp.SendPortUnreachable(packet, headerLength, source.V4.Value);
                }
                return;
            }
            if (Ipv6 != null)
            {
                Ipv6Inbound info = new Ipv6Inbound(source.V6, destination.V6, 0, broadcast, false);
                Ipv6.Icmp.SendError(packet, Icmpv6Layer.TypeDestinationUnreachable, Icmpv6Layer.CodePortUnreachable, 0, in info, false);
            }
        }

        internal void Deliver(Packet packet, int headerLength, uint source, uint destination, int protocol, bool broadcast) =>
            Ipv4.Deliver(packet, headerLength, source, destination, protocol, broadcast);

        internal static bool CopyRange(Packet target, Packet source, int offset, int count) =>
            Ipv4Layer.CopyRange(target, source, offset, count);

        internal bool CopyIntoPages(Packet target, Packet source, int offset, int count) =>
            Ipv4.CopyIntoPages(target, source, offset, count);

        internal void SendArp(int op, ulong targetMac, uint targetIp) => Arp.Send(op, targetMac, targetIp);

        /// <summary>Sends an IPv4 packet (IP header in place) whose next hop has just resolved.</summary>
        internal void TransmitFrame(Packet packet, ulong destinationMac) =>
            Ethernet.Output(packet, destinationMac, EthernetLayer.EtherTypeIPv4);

        internal Packet AllocateTransmit() => Ethernet.AllocateTransmit();

        /// <summary>True when frames the device refused are waiting (senders should hold back).</summary>
        internal bool TransmitCongested => Ethernet.TransmitCongested;

        /// <summary>True when a new frame would be taken by the device now (nothing backlogged, ring not stopped).</summary>
        internal bool CanTransmit => Ethernet.CanTransmit;

        internal static void WriteMac(ITextOutput output, ulong mac) => EthernetLayer.WriteMac(output, mac);

        // ---------------------------------------------------------------- entry points

        /// <summary>
        /// Runs timers (TCP retransmission, delayed ACK, persist, TIME_WAIT; ARP expiry and retries; reassembly
        /// timeouts), retries transmits the device refused, and delivers socket callbacks. Call every 1–10 ms.
        /// </summary>
        public void Poll()
        {
            Now = Instant.Now(_clock);
            if (!_announced && Ipv4.Address != 0 && Device.LinkUp)
            {
                _announced = true;
                SendGratuitousArp();
            }
            Ethernet.FlushBacklog();
            Arp.Poll(Now);
            Ipv4.Poll(Now);
            if (Ipv6 != null)
            {
                Ipv6.Poll(Now, Device.LinkUp);
            }
            Tcp.Poll(Now);
            Tcp.FlushBatch(Now);
            Ethernet.FlushBacklog();
            Sockets.DispatchEvents();
        }

        /// <summary>The transmit page pool gives back free pages above its recent need; returns how many.</summary>
        public int ReleaseExcessPages(int slack) => TransmitPages.ReleaseExcess(slack);

        /// <summary>Earliest time at which <see cref="Poll"/> has timer work; Instant.MaxValue for none.</summary>
        public Instant NextTimer
        {
            get
            {
                Instant next = Tcp.NextDeadline();
                if (Ethernet.TransmitCongested || Tcp.HasScheduled)
                {
                    // Output waits for the device (ring full, packet pool empty): retry soon even if no
                    // completion interrupt wakes the driver.
                    next = Instant.Min(next, Instant.Now(_clock) + RetryDelay);
                }
                return next;
            }
        }

        /// <summary>Longest wait before output stopped by the device is retried (see <see cref="NextTimer"/>).</summary>
        internal static Duration RetryDelay => Duration.FromMilliseconds(1);

        /// <summary>Sends a gratuitous ARP request announcing our address (also done by the first Poll).</summary>
        public void SendGratuitousArp()
        {
            _announced = true;
            if (Ipv4.Address == 0)
            {
                return; // unconfigured (DHCP under way): nothing to announce
            }
            Arp.Send(ArpLayer.OpRequest, EthernetLayer.BroadcastMac, Ipv4.Address);
        }

        /// <summary>One received Ethernet frame (the stack frees it).</summary>
        public void Receive(Packet frame)
        {
            Now = Instant.Now(_clock);
            Ethernet.Input(frame);
        }

        /// <summary>End of a driver poll: sends the batched ACKs and delivers socket callbacks.</summary>
        public void ReceiveBatchDone()
        {
            Now = Instant.Now(_clock);
            Ethernet.FlushBacklog();
            Tcp.FlushBatch(Now);
            Ethernet.FlushBacklog();
            Sockets.DispatchEvents();
        }

        /// <summary>
        /// Closes every socket at once (RST for TCP) and frees every packet and page the stack holds, so pools
        /// can be checked or destroyed. The stack can still be used afterwards.
        /// </summary>
        public void Shutdown()
        {
            Sockets.CloseAll();
            Arp.Clear();
            Ipv4.Clear();
            if (Ipv6 != null)
            {
                Ipv6.Clear();
            }
            Ethernet.Clear();
            TransmitPages.ReleaseFreePages();
        }

        // ---------------------------------------------------------------- runtime configuration (DHCP)

        /// <summary>
        /// Changes this host's address, prefix and gateway at run time (the DHCP client does);
        /// <see cref="IPv4Address.Any"/> leaves the stack unconfigured: it sends from 0.0.0.0 and takes broadcasts
        /// and UDP to any address. A new address is announced with a gratuitous ARP on the next <see cref="Poll"/>.
        /// </summary>
        public void ConfigureAddress(IPv4Address address, int prefixLength, IPv4Address gateway)
        {
            if (address != Config.Address)
            {
                _announced = false;
            }
            Config.Address = address;
            Config.PrefixLength = prefixLength;
            Config.Gateway = gateway;
            Ipv4.Configure(address.Value, prefixLength, gateway.Value);
            Arp.Configure(address.Value);
        }

        /// <summary>Sets the IP MTU (DHCP option 26), never above the device's; 576 at least.</summary>
        public void SetMtu(int mtu)
        {
            Mtu = mtu < 576 ? 576 : mtu > Device.Mtu ? Device.Mtu : mtu;
            Ipv4.SetMtu(Mtu);
        }

        // ---------------------------------------------------------------- status

        /// <summary>Prints what the shell's <c>net</c> command shows: address, ARP cache, sockets, counters.</summary>
        public void PrintStatus(ITextOutput output)
        {
            Instant now = Instant.Now(_clock);
            output.Write("address ");
            Config.Address.WriteTo(output);
            output.Write('/');
            output.Write((long)Config.PrefixLength);
            output.Write("  gateway ");
            Config.Gateway.WriteTo(output);
            output.Write("  mac ");
            EthernetLayer.WriteMac(output, Mac);
            output.Write("  mtu ");
            output.Write((long)Mtu);
            output.Write(Device.LinkUp ? "  link up" : "  link down");
            output.WriteLine();
            output.Write("arp cache:");
            output.WriteLine();
            Arp.Print(output, now);
            if (Ipv6 != null)
            {
                Ipv6.Print(output, now);
            }
            Sockets.Print(output);
            Tcp.PrintSynQueue(output, now);
            output.Write("buffers: tx packets in use ");
            output.Write((long)Device.TransmitPackets.InUse);
            output.Write(", tx pages in flight ");
            output.Write((long)TransmitPages.InFlight);
            output.Write(" of ");
            output.Write((long)TransmitPages.Capacity);
            output.Write(", tx backlog ");
            output.Write((long)Ethernet.BacklogCount);
            output.Write(", arp pending ");
            output.Write((long)Arp.PendingCount);
            output.WriteLine();
            output.Write("counters (non-zero):");
            output.WriteLine();
            int column = 0;
            for (int i = 0; i < NetStatistics.Count; i++)
            {
                if (Counters[i] == 0)
                {
                    continue;
                }
                output.Write("  ");
                output.Write(NetStatistics.Name(i));
                output.Write(' ');
                output.Write(Counters[i]);
                if (++column == 4)
                {
                    output.WriteLine();
                    column = 0;
                }
            }
            if (Ipv6 != null)
            {
                for (int i = 0; i < Ipv6Statistics.Count; i++)
                {
                    if (Ipv6.Counters[i] == 0)
                    {
                        continue;
                    }
                    output.Write("  ");
                    output.Write(Ipv6Statistics.Name(i));
                    output.Write(' ');
                    output.Write(Ipv6.Counters[i]);
                    if (++column == 4)
                    {
                        output.WriteLine();
                        column = 0;
                    }
                }
            }
            if (column != 0)
            {
                output.WriteLine();
            }
        }

        /// <summary>The stack's counters, then (when IPv6 runs) the IPv6 ones (<see cref="Ipv6Statistics"/>).</summary>
        public int StatisticsCount => NetStatistics.Count + (Ipv6 != null ? Ipv6Statistics.Count : 0);

        public string StatisticName(int index) =>
            index < NetStatistics.Count ? NetStatistics.Name(index) : Ipv6Statistics.Name(index - NetStatistics.Count);

        public long StatisticValue(int index) =>
            index >= 0 && index < NetStatistics.Count ? Counters[index]
            : Ipv6 != null && index >= NetStatistics.Count && index < StatisticsCount ? Ipv6.Counters[index - NetStatistics.Count] : 0;

        /// <summary>Current value of an IPv6 counter (index from <see cref="Ipv6Statistics"/>); 0 when IPv6 is off.</summary>
        public long Ipv6Counter(int index) => Ipv6 != null ? Ipv6.Counters[index] : 0;

        /// <summary>True when IPv6 runs on this stack.</summary>
        public bool Ipv6Enabled => Ipv6 != null;

        /// <summary>The link-local address once Duplicate Address Detection passed (:: before, or without IPv6).</summary>
        public IPv6Address Ipv6LinkLocal => Ipv6 != null ? Ipv6.Addresses.LinkLocal : IPv6Address.Any;

        /// <summary>A usable global IPv6 address (static or SLAAC), :: when there is none yet.</summary>
        public IPv6Address Ipv6GlobalAddress
        {
            get
            {
                if (Ipv6 == null)
                {
                    return IPv6Address.Any;
                }
                IPv6Address source = Ipv6.Addresses.SelectSource(new IPv6Address(0x20010DB800000000UL, 0));
                return source.IsLinkLocal ? IPv6Address.Any : source;
            }
        }

        /// <summary>
        /// Sends an ICMPv6 echo request to <paramref name="destination"/> (the shell's <c>ping6</c>); replies go to
        /// <see cref="EchoReplyHandler"/>. False without IPv6, without a usable source address, or without a buffer.
        /// </summary>
        public bool SendEchoRequest(IPv6Address destination, int identifier, int sequence, int dataLength) =>
            Ipv6 != null && Ipv6.Icmp.SendEchoRequest(destination, identifier, sequence, dataLength);

        /// <summary>Told of every ICMPv6 echo reply that arrives (null: they are only counted).</summary>
        public IEchoReplyHandler EchoReplyHandler
        {
            set
            {
                if (Ipv6 != null)
                {
                    Ipv6.Icmp.EchoHandler = value;
                }
            }
        }

        /// <summary>IPv6 DNS servers learned from RDNSS options (RFC 8106): how many slots, and each (:: when the slot is empty).</summary>
        public int Ipv6DnsServerSlots => Ipv6 != null ? Ipv6.Nd.DnsServers.Capacity : 0;

        public IPv6Address Ipv6DnsServer(int slot) =>
            Ipv6 != null && Ipv6.Nd.DnsServers.InUse(slot) ? Ipv6.Nd.DnsServers.Address(slot) : IPv6Address.Any;

        public StatisticKind StatisticKind(int index) =>
            index < NetStatistics.Count && NetStatistics.IsGauge(index) ? Keel.Hal.StatisticKind.Gauge : Keel.Hal.StatisticKind.Counter;

        public string StatisticHelp(int index) => NetStatistics.Help(index);

        /// <summary>Current value of a counter (index from <see cref="NetStatistics"/>).</summary>
        public long Counter(int index) => Counters[index];
    }
}
