using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Arp;
using Keel.Net.Internal;
using Keel.Net.Ip;
using Keel.Net.Sockets;
using Keel.Net.Tcp;

namespace Keel.Net
{
    /// <summary>
    /// The IPv4 stack on one network device: Ethernet, ARP, IPv4, ICMP, UDP, TCP and sockets.
    /// Construct once at start-up (everything is allocated then); it registers itself as the device's receiver.
    /// Single-threaded: the kernel main loop calls the driver poll (which calls <see cref="Receive"/> and
    /// <see cref="ReceiveBatchDone"/>), <see cref="Poll"/> every 1–10 ms, and the applications.
    /// </summary>
    public sealed unsafe class NetStack : IPacketReceiver, IStatisticsSource
    {
        internal const int EtherTypeIPv4 = 0x0800;
        internal const int EtherTypeArp = 0x0806;
        internal const int EthernetHeaderLength = 14;
        internal const int EthernetMinimumFrame = 60;
        internal const ulong BroadcastMac = 0xFFFFFFFFFFFFUL;
        internal const int ArpOpRequest = 1;
        internal const int ArpOpReply = 2;
        internal const int ArpPacketLength = 28;
        internal const int ArpHardwareEthernet = 1;
        internal const int IPv4HeaderLength = 20;

        /// <summary>Largest IPv4 packet (total length field).</summary>
        internal const int MaxIPv4Length = 65535;
        internal const int IPv4Version = 4;
        internal const int IPv4DefaultTtl = 64;
        internal const int IPv4FlagDontFragment = 0x4000;
        internal const int IPv4FlagMoreFragments = 0x2000;
        internal const int IPv4FragmentOffsetMask = 0x1FFF;
        internal const int ProtocolIcmp = 1;
        internal const int ProtocolTcp = 6;
        internal const int ProtocolUdp = 17;
        internal const int IcmpHeaderLength = 8;
        internal const int IcmpEchoReply = 0;
        internal const int IcmpDestinationUnreachable = 3;
        internal const int IcmpEchoRequest = 8;
        internal const int IcmpCodePortUnreachable = 3;
        internal const int UdpHeaderLength = 8;
        internal const int TransmitBacklogLimit = 256;
        internal const int EphemeralPortFirst = 49152;
        internal const int EphemeralPortCount = 16384;

        private readonly IClock _clock;
        private readonly ArpTable _arp;
        private readonly Ipv4Reassembler _reassembler;
        private readonly Prng _random;
        private readonly Socket[] _sockets;
        private readonly byte[] _macBytes = new byte[6];
        private readonly uint _address;
        private readonly uint _netmask;
        private readonly uint _gateway;
        private Socket _freeSockets;
        private Socket _udpSockets;
        private Socket _eventHead;
        private Socket _eventTail;
        private PacketQueue _backlog;
        private bool _announced;
        private ushort _ipId;
        private int _nextEphemeral;

        /// <summary>Counter values, indexed by the <see cref="NetStatistics"/> constants.</summary>
        public readonly long[] Counters = new long[NetStatistics.Count];

        internal readonly TcpLayer Tcp;
        internal readonly PagePool TransmitPages;
        internal readonly ulong Mac;
        internal readonly int Mtu;
        internal long Now;

        /// <summary>The device completes TCP/UDP checksums (and the configuration allows it).</summary>
        internal readonly bool ChecksumOffload;

        /// <summary>Largest TCP payload one segment handed to the device may carry (TSO); 0 = MSS-sized segments only.</summary>
        internal readonly int TsoMaxPayload;

        public NetStack(INetDevice device, IClock clock, IPageAllocator pageAllocator, NetConfig config, ulong randomSeed)
        {
            Device = device;
            Config = config;
            _clock = clock;
            _random = new Prng(randomSeed);
            device.GetMacAddress(_macBytes);
            fixed (byte* mac = _macBytes)
            {
                Mac = NetBytes.ReadMac(mac);
            }
            Mtu = device.Mtu;
            ChecksumOffload = config.TransmitChecksumOffload && device.SupportsChecksumOffload;
            int tso = ChecksumOffload && config.TcpSegmentationOffload ? device.MaxTsoBytes : 0;
            if (tso > MaxIPv4Length)
            {
                tso = MaxIPv4Length;
            }
            // Payload of one TSO segment: the IP length limit less IPv4 + TCP headers, and at most
            // Packet.MaxFragments - 2 pages (the send buffer's pages need not start where the segment does).
            int payload = tso - IPv4HeaderLength - 60;
            int pageLimit = (Packet.MaxFragments - 2) * DmaPage.Size;
            TsoMaxPayload = tso <= 0 ? 0 : payload < pageLimit ? payload : pageLimit;
            _address = config.Address.Value;
            _netmask = config.PrefixLength <= 0 ? 0 : config.PrefixLength >= 32 ? 0xFFFFFFFF : ~(0xFFFFFFFFu >> config.PrefixLength);
            _gateway = config.Gateway.Value;
            TransmitPages = new PagePool(pageAllocator, config.TransmitPages);
            _arp = new ArpTable(this, config.ArpCacheSize, config.ArpTimeoutMilliseconds, config.ArpPendingPackets);
            _reassembler = new Ipv4Reassembler(this, config.IpReassemblySlots, config.IpReassemblyTimeoutMilliseconds);
            Tcp = new TcpLayer(this, config);
            _sockets = new Socket[config.MaxSockets];
            for (int i = config.MaxSockets - 1; i >= 0; i--)
            {
                Socket socket = new Socket(this, i, new SendBuffer(TransmitPages, config.TcpSendBufferSize));
                _sockets[i] = socket;
                socket.PoolNext = _freeSockets;
                _freeSockets = socket;
            }
            _ipId = (ushort)_random.NextUInt();
            _nextEphemeral = (int)(_random.NextUInt() % EphemeralPortCount);
            Now = clock.NowNanoseconds;
            device.Receiver = this;
        }

        public INetDevice Device { get; }

        public NetConfig Config { get; }

        /// <summary>This host's address.</summary>
        public IPv4Address Address => Config.Address;

        /// <summary>Sockets not in use (the pool behind <see cref="CreateSocket"/> and Accept).</summary>
        public int FreeSockets
        {
            get
            {
                int count = 0;
                for (Socket s = _freeSockets; s != null; s = s.PoolNext)
                {
                    count++;
                }
                return count;
            }
        }

        /// <summary>Packets held by the stack (ARP pending, transmit backlog, reassembly, socket queues) are counted by the pools.</summary>
        public int TransmitBacklog => _backlog.Count;

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
            Socket socket = AllocateSocket();
            if (socket == null)
            {
                return null;
            }
            socket.Open(socketType, protocolType, true);
            return socket;
        }

        internal Socket AllocateSocket()
        {
            Socket socket = _freeSockets;
            if (socket == null)
            {
                // Recycle the TIME_WAIT connection closest to expiry (RFC 1122 allows reusing TIME_WAIT state).
                TcpConnection oldest = null;
                for (int i = 0; i < _sockets.Length; i++)
                {
                    TcpConnection c = _sockets[i].Tcp;
                    if (c.State == TcpState.TimeWait && c.Orphan &&
                        (oldest == null || c.TimeWaitDeadline < oldest.TimeWaitDeadline))
                    {
                        oldest = c;
                    }
                }
                if (oldest == null)
                {
                    Counters[NetStatistics.TcpSocketExhausted]++;
                    return null;
                }
                Counters[NetStatistics.TcpTimewaitRecycled]++;
                oldest.EnterClosed(SocketError.Success);
                socket = _freeSockets;
                if (socket == null)
                {
                    return null;
                }
            }
            _freeSockets = socket.PoolNext;
            socket.PoolNext = null;
            return socket;
        }

        /// <summary>Gives a socket whose application and protocol are both done with it back to the pool.</summary>
        internal void ReleaseSocket(Socket socket)
        {
            if (socket.InPool)
            {
                return;
            }
            if (socket.OnUdpList)
            {
                UnlinkUdp(socket);
            }
            socket.ResetForPool();
            socket.PoolNext = _freeSockets;
            _freeSockets = socket;
        }

        internal int AllocateEphemeralPort(int protocol)
        {
            for (int attempt = 0; attempt < EphemeralPortCount; attempt++)
            {
                int port = EphemeralPortFirst + _nextEphemeral;
                _nextEphemeral = (_nextEphemeral + 1) % EphemeralPortCount;
                if (!PortInUse(protocol, port, false))
                {
                    return port;
                }
            }
            return 0;
        }

        /// <summary>True when another bound socket of <paramref name="protocol"/> holds <paramref name="port"/>.</summary>
        internal bool PortInUse(int protocol, int port, bool reuse)
        {
            for (int i = 0; i < _sockets.Length; i++)
            {
                Socket s = _sockets[i];
                if (s.InPool || s.LocalPort != port || (int)s.ProtocolType != protocol)
                {
                    continue;
                }
                if (protocol == ProtocolUdp)
                {
                    if (!reuse || !s.ReuseAddress)
                    {
                        return true;
                    }
                }
                else
                {
                    TcpState state = s.Tcp.State;
                    if (state == TcpState.Listen || s.Tcp.Parent == null && state == TcpState.Closed && s.IsBound)
                    {
                        return true;
                    }
                    if (state == TcpState.TimeWait && !reuse)
                    {
                        return true;
                    }
                }
            }
            return false;
        }

        internal void LinkUdp(Socket socket)
        {
            if (!socket.OnUdpList)
            {
                socket.UdpNext = _udpSockets;
                _udpSockets = socket;
                socket.OnUdpList = true;
            }
        }

        internal void UnlinkUdp(Socket socket)
        {
            Socket previous = null;
            for (Socket s = _udpSockets; s != null; s = s.UdpNext)
            {
                if (s == socket)
                {
                    if (previous == null)
                    {
                        _udpSockets = s.UdpNext;
                    }
                    else
                    {
                        previous.UdpNext = s.UdpNext;
                    }
                    break;
                }
                previous = s;
            }
            socket.UdpNext = null;
            socket.OnUdpList = false;
        }

        /// <summary>Records readiness changes for the socket's handler (delivered by <see cref="DispatchEvents"/>).</summary>
        internal void Notify(Socket socket, SocketEvents events)
        {
            if (socket.Handler == null || socket.InPool)
            {
                return;
            }
            socket.PendingEvents |= events;
            if (!socket.OnEventList)
            {
                socket.OnEventList = true;
                socket.EventNext = null;
                if (_eventTail == null)
                {
                    _eventHead = socket;
                }
                else
                {
                    _eventTail.EventNext = socket;
                }
                _eventTail = socket;
            }
        }

        private void DispatchEvents()
        {
            // Handlers may cause new events; bound the work per call.
            int budget = _sockets.Length * 4;
            while (_eventHead != null && budget-- > 0)
            {
                Socket socket = _eventHead;
                _eventHead = socket.EventNext;
                if (_eventHead == null)
                {
                    _eventTail = null;
                }
                socket.EventNext = null;
                socket.OnEventList = false;
                SocketEvents events = socket.PendingEvents;
                socket.PendingEvents = SocketEvents.None;
                ISocketHandler handler = socket.Handler;
                if (handler != null && events != SocketEvents.None && !socket.InPool)
                {
                    handler.OnSocketEvent(socket, events);
                }
            }
        }

        // ---------------------------------------------------------------- entry points

        /// <summary>
        /// Runs timers (TCP retransmission, delayed ACK, persist, TIME_WAIT; ARP expiry and retries; reassembly
        /// timeouts), retries transmits the device refused, and delivers socket callbacks. Call every 1–10 ms.
        /// </summary>
        public void Poll()
        {
            Now = _clock.NowNanoseconds;
            if (!_announced && Device.LinkUp)
            {
                _announced = true;
                SendGratuitousArp();
            }
            FlushBacklog();
            _arp.Poll(Now);
            _reassembler.Poll(Now);
            Tcp.Poll(Now);
            Tcp.FlushBatch(Now);
            FlushBacklog();
            DispatchEvents();
        }

        /// <summary>The transmit page pool gives back free pages above its recent need (issue 12); returns how many.</summary>
        public int ReleaseExcessPages(int slack) => TransmitPages.ReleaseExcess(slack);

        /// <summary>Earliest time (IClock nanoseconds) at which <see cref="Poll"/> has timer work; long.MaxValue for none.</summary>
        public long NextTimerNanoseconds
        {
            get
            {
                long next = Tcp.NextDeadline();
                if (!_backlog.IsEmpty || Tcp.HasScheduled)
                {
                    // Output waits for the device (ring full, packet pool empty): retry soon even if no
                    // completion interrupt wakes the driver.
                    long soon = _clock.NowNanoseconds + RetryNanoseconds;
                    if (soon < next)
                    {
                        next = soon;
                    }
                }
                return next;
            }
        }

        /// <summary>Longest wait before output stopped by the device is retried (see <see cref="NextTimerNanoseconds"/>).</summary>
        internal const long RetryNanoseconds = 1000000;

        /// <summary>Sends a gratuitous ARP request announcing our address (also done by the first Poll).</summary>
        public void SendGratuitousArp()
        {
            _announced = true;
            SendArp(ArpOpRequest, BroadcastMac, _address);
        }

        /// <summary>One received Ethernet frame (the stack frees it).</summary>
        public void Receive(Packet frame)
        {
            Now = _clock.NowNanoseconds;
            Counters[NetStatistics.EthRxFrames]++;
            Counters[NetStatistics.EthRxBytes] += frame.Length;
            if (!frame.EnsureLinear(EthernetHeaderLength))
            {
                Counters[NetStatistics.EthRxTruncated]++;
                frame.Free();
                return;
            }
            byte* header = frame.Data;
            ulong destination = NetBytes.ReadMac(header);
            int type = NetBytes.Read16(header + 12);
            if (destination != Mac && destination != BroadcastMac)
            {
                Counters[NetStatistics.EthRxNotForUs]++;
                frame.Free();
                return;
            }
            frame.Pull(EthernetHeaderLength);
            if (type == EtherTypeIPv4)
            {
                IPv4Input(frame);
            }
            else if (type == EtherTypeArp)
            {
                ArpInput(frame);
            }
            else
            {
                Counters[NetStatistics.EthRxUnknownType]++;
                frame.Free();
            }
        }

        /// <summary>End of a driver poll: sends the batched ACKs and delivers socket callbacks.</summary>
        public void ReceiveBatchDone()
        {
            Now = _clock.NowNanoseconds;
            FlushBacklog();
            Tcp.FlushBatch(Now);
            FlushBacklog();
            DispatchEvents();
        }

        /// <summary>
        /// Closes every socket at once (RST for TCP) and frees every packet and page the stack holds, so pools
        /// can be checked or destroyed. The stack can still be used afterwards.
        /// </summary>
        public void Shutdown()
        {
            for (int i = 0; i < _sockets.Length; i++)
            {
                Socket s = _sockets[i];
                if (!s.InPool)
                {
                    s.Abort();
                    ReleaseSocket(s);
                }
            }
            _arp.Clear();
            _reassembler.Clear();
            _backlog.FreeAll();
            _eventHead = null;
            _eventTail = null;
            TransmitPages.ReleaseFreePages();
        }

        // ---------------------------------------------------------------- ARP

        private void ArpInput(Packet packet)
        {
            Counters[NetStatistics.ArpRx]++;
            if (!packet.EnsureLinear(ArpPacketLength))
            {
                Counters[NetStatistics.ArpBad]++;
                packet.Free();
                return;
            }
            byte* a = packet.Data;
            if (NetBytes.Read16(a) != ArpHardwareEthernet || NetBytes.Read16(a + 2) != EtherTypeIPv4 || a[4] != 6 || a[5] != 4)
            {
                Counters[NetStatistics.ArpBad]++;
                packet.Free();
                return;
            }
            int op = NetBytes.Read16(a + 6);
            ulong senderMac = NetBytes.ReadMac(a + 8);
            uint senderIp = NetBytes.Read32(a + 14);
            uint targetIp = NetBytes.Read32(a + 24);
            packet.Free();
            if (op != ArpOpRequest && op != ArpOpReply)
            {
                Counters[NetStatistics.ArpBad]++;
                return;
            }
            if (senderMac == Mac)
            {
                return; // our own frame looped back
            }
            if (senderIp == _address)
            {
                Counters[NetStatistics.ArpConflicts]++;
                return;
            }
            if (senderMac == BroadcastMac || (senderMac & 0x010000000000UL) != 0)
            {
                Counters[NetStatistics.ArpBad]++;
                return;
            }
            bool forUs = targetIp == _address;
            _arp.Update(senderIp, senderMac, forUs, Now);
            if (op == ArpOpRequest && forUs)
            {
                SendArp(ArpOpReply, senderMac, senderIp);
            }
        }

        internal void SendArp(int op, ulong targetMac, uint targetIp)
        {
            Packet packet = AllocateTransmit();
            if (packet == null)
            {
                return;
            }
            byte* a = packet.Put(ArpPacketLength);
            NetBytes.Write16(a, ArpHardwareEthernet);
            NetBytes.Write16(a + 2, EtherTypeIPv4);
            a[4] = 6;
            a[5] = 4;
            NetBytes.Write16(a + 6, op);
            NetBytes.WriteMac(a + 8, Mac);
            NetBytes.Write32(a + 14, _address);
            NetBytes.WriteMac(a + 18, op == ArpOpRequest ? 0 : targetMac);
            NetBytes.Write32(a + 24, targetIp);
            if (op == ArpOpRequest)
            {
                Counters[NetStatistics.ArpRequestsSent]++;
            }
            else
            {
                Counters[NetStatistics.ArpRepliesSent]++;
            }
            TransmitEthernet(packet, targetMac, EtherTypeArp);
        }

        internal void NoteUnreachable(uint address)
        {
            for (Socket s = _udpSockets; s != null; s = s.UdpNext)
            {
                if (s.LastDestination == address)
                {
                    s.Error = SocketError.HostUnreachable;
                }
            }
        }

        // ---------------------------------------------------------------- IPv4 input

        private void IPv4Input(Packet packet)
        {
            Counters[NetStatistics.IpRx]++;
            if (!packet.EnsureLinear(IPv4HeaderLength))
            {
                Counters[NetStatistics.IpBadHeader]++;
                packet.Free();
                return;
            }
            byte* ip = packet.Data;
            int headerLength = (ip[0] & 0xF) * 4;
            if ((ip[0] >> 4) != IPv4Version || headerLength < IPv4HeaderLength || !packet.EnsureLinear(headerLength))
            {
                Counters[NetStatistics.IpBadHeader]++;
                packet.Free();
                return;
            }
            ip = packet.Data;
            if (!Checksum.IsValid(Checksum.Sum(ip, headerLength)))
            {
                Counters[NetStatistics.IpBadChecksum]++;
                packet.Free();
                return;
            }
            int totalLength = NetBytes.Read16(ip + 2);
            if (totalLength < headerLength || totalLength > packet.Length)
            {
                Counters[NetStatistics.IpBadLength]++;
                packet.Free();
                return;
            }
            if (totalLength < packet.Length)
            {
                packet.TrimTo(totalLength);
            }
            uint source = NetBytes.Read32(ip + 12);
            uint destination = NetBytes.Read32(ip + 16);
            bool broadcast = IsBroadcast(destination);
            if (destination != _address && !broadcast)
            {
                Counters[NetStatistics.IpNotForUs]++;
                packet.Free();
                return;
            }
            if (ip[8] == 0)
            {
                Counters[NetStatistics.IpTtlZero]++;
                packet.Free();
                return;
            }
            int protocol = ip[9];
            int fragment = NetBytes.Read16(ip + 6);
            if ((fragment & (IPv4FlagMoreFragments | IPv4FragmentOffsetMask)) != 0)
            {
                Counters[NetStatistics.IpFragRx]++;
                _reassembler.Input(packet, headerLength, source, destination, Now);
                return;
            }
            Deliver(packet, headerLength, source, destination, protocol, broadcast);
        }

        /// <summary>Hands a whole datagram (data starting at its IPv4 header) to its protocol.</summary>
        internal void Deliver(Packet packet, int headerLength, uint source, uint destination, int protocol, bool broadcast)
        {
            if (protocol == ProtocolTcp)
            {
                if (broadcast)
                {
                    Counters[NetStatistics.IpNotForUs]++;
                    packet.Free();
                    return;
                }
                Tcp.Input(packet, headerLength, source, destination, Now);
            }
            else if (protocol == ProtocolUdp)
            {
                UdpInput(packet, headerLength, source, destination, broadcast);
            }
            else if (protocol == ProtocolIcmp)
            {
                IcmpInput(packet, headerLength, source, broadcast);
            }
            else
            {
                Counters[NetStatistics.IpUnknownProtocol]++;
                packet.Free();
            }
        }

        internal bool IsBroadcast(uint address) =>
            address == 0xFFFFFFFF || (_netmask != 0xFFFFFFFF && address == (_address | ~_netmask));

        // ---------------------------------------------------------------- ICMP

        private void IcmpInput(Packet packet, int headerLength, uint source, bool broadcast)
        {
            Counters[NetStatistics.IcmpRx]++;
            int length = packet.Length - headerLength;
            if (length < IcmpHeaderLength || !packet.EnsureLinear(headerLength + IcmpHeaderLength) ||
                !Checksum.IsValid(Checksum.SumPacket(packet, headerLength, length)))
            {
                Counters[NetStatistics.IcmpBad]++;
                packet.Free();
                return;
            }
            int type = packet.Data[headerLength];
            if (type == IcmpEchoRequest)
            {
                Counters[NetStatistics.IcmpEchoRequests]++;
                if (!broadcast)
                {
                    SendEchoReply(packet, headerLength, length, source);
                }
            }
            else if (type == IcmpDestinationUnreachable)
            {
                Counters[NetStatistics.IcmpUnreachableRx]++;
            }
            else
            {
                Counters[NetStatistics.IcmpOtherRx]++;
            }
            packet.Free();
        }

        private void SendEchoReply(Packet request, int headerLength, int length, uint destination)
        {
            Packet reply = AllocateTransmit();
            if (reply == null)
            {
                return;
            }
            if (length <= reply.Tailroom)
            {
                request.CopyTo(headerLength, reply.Put(length), length);
            }
            else
            {
                request.CopyTo(headerLength, reply.Put(IcmpHeaderLength), IcmpHeaderLength);
                if (!CopyIntoPages(reply, request, headerLength + IcmpHeaderLength, length - IcmpHeaderLength))
                {
                    reply.Free();
                    return;
                }
            }
            byte* icmp = reply.Data;
            icmp[0] = IcmpEchoReply;
            icmp[1] = 0;
            *(ushort*)(icmp + 2) = 0;
            *(ushort*)(icmp + 2) = Checksum.Finish(Checksum.SumPacket(reply, 0, reply.Length));
            Counters[NetStatistics.IcmpEchoRepliesSent]++;
            OutputIPv4(reply, destination, ProtocolIcmp, false);
        }

        private void SendPortUnreachable(Packet offending, int headerLength, uint destination)
        {
            Packet packet = AllocateTransmit();
            if (packet == null)
            {
                return;
            }
            int quoted = headerLength + 8;
            if (quoted > offending.Length)
            {
                quoted = offending.Length;
            }
            byte* icmp = packet.Put(IcmpHeaderLength + quoted);
            if (icmp == null)
            {
                packet.Free();
                return;
            }
            icmp[0] = IcmpDestinationUnreachable;
            icmp[1] = IcmpCodePortUnreachable;
            *(ushort*)(icmp + 2) = 0;
            *(uint*)(icmp + 4) = 0;
            offending.CopyTo(0, icmp + IcmpHeaderLength, quoted);
            *(ushort*)(icmp + 2) = Checksum.Finish(Checksum.Sum(icmp, IcmpHeaderLength + quoted));
            Counters[NetStatistics.IcmpUnreachableSent]++;
            OutputIPv4(packet, destination, ProtocolIcmp, false);
        }

        // ---------------------------------------------------------------- UDP

        private void UdpInput(Packet packet, int headerLength, uint source, uint destination, bool broadcast)
        {
            Counters[NetStatistics.UdpRx]++;
            if (!packet.EnsureLinear(headerLength + UdpHeaderLength))
            {
                Counters[NetStatistics.UdpBadLength]++;
                packet.Free();
                return;
            }
            byte* udp = packet.Data + headerLength;
            int sourcePort = NetBytes.Read16(udp);
            int destinationPort = NetBytes.Read16(udp + 2);
            int length = NetBytes.Read16(udp + 4);
            if (length < UdpHeaderLength || length > packet.Length - headerLength || destinationPort == 0)
            {
                Counters[NetStatistics.UdpBadLength]++;
                packet.Free();
                return;
            }
            if (length < packet.Length - headerLength)
            {
                packet.TrimTo(headerLength + length);
            }
            if (*(ushort*)(udp + 6) != 0 && (packet.Flags & Packet.FlagChecksumValid) == 0)
            {
                ulong sum = Checksum.PseudoHeader(source, destination, ProtocolUdp, length) + Checksum.SumPacket(packet, headerLength, length);
                if (!Checksum.IsValid(sum))
                {
                    Counters[NetStatistics.UdpBadChecksum]++;
                    packet.Free();
                    return;
                }
            }
            Socket match = null;
            for (Socket s = _udpSockets; s != null; s = s.UdpNext)
            {
                if (s.LocalPort != destinationPort || (s.LocalAddress != 0 && s.LocalAddress != destination))
                {
                    continue;
                }
                if (s.UdpConnected)
                {
                    if (s.RemoteAddress == source && s.RemotePort == sourcePort)
                    {
                        match = s;
                        break;
                    }
                }
                else if (match == null)
                {
                    match = s;
                }
            }
            if (match == null)
            {
                Counters[NetStatistics.UdpNoPort]++;
                if (!broadcast)
                {
                    SendPortUnreachable(packet, headerLength, source);
                }
                packet.Free();
                return;
            }
            if (match.ShutdownReceive || match.UdpQueue.TrueSize + packet.TrueSize > match.ReceiveBufferSize)
            {
                Counters[NetStatistics.UdpRcvbufErrors]++;
                packet.Free();
                return;
            }
            packet.Pull(headerLength + UdpHeaderLength);
            packet.Tag = source;
            packet.Timestamp = sourcePort;
            match.UdpQueue.Enqueue(packet);
            Notify(match, SocketEvents.Readable);
        }

        /// <summary>Builds and sends one UDP datagram. Returns Success or the reason it was not sent.</summary>
        internal SocketError UdpOutput(Socket socket, byte* data, int length, uint destination, int destinationPort)
        {
            if (length > Mtu - IPv4HeaderLength - UdpHeaderLength || length < 0)
            {
                return SocketError.MessageSize;
            }
            if (!Routable(destination))
            {
                Counters[NetStatistics.IpNoRoute]++;
                return SocketError.NetworkUnreachable;
            }
            Packet packet = AllocateTransmit();
            if (packet == null)
            {
                Counters[NetStatistics.UdpTxErrors]++;
                return SocketError.NoBufferSpaceAvailable;
            }
            if (length <= packet.Tailroom)
            {
                NetBytes.Copy(data, packet.Put(length), length);
            }
            else
            {
                int page;
                if (!TransmitPages.TryAllocate(out page))
                {
                    Counters[NetStatistics.TxPageAllocFailures]++;
                    Counters[NetStatistics.UdpTxErrors]++;
                    packet.Free();
                    return SocketError.NoBufferSpaceAvailable;
                }
                NetBytes.Copy(data, TransmitPages.Address(page), length);
                packet.AppendFragment(TransmitPages, page, 0, length, DmaPage.Size);
            }
            byte* udp = packet.Push(UdpHeaderLength);
            int total = length + UdpHeaderLength;
            NetBytes.Write16(udp, socket.LocalPort);
            NetBytes.Write16(udp + 2, destinationPort);
            NetBytes.Write16(udp + 4, total);
            *(ushort*)(udp + 6) = 0;
            uint source = socket.LocalAddress != 0 ? socket.LocalAddress : _address;
            if (ChecksumOffload)
            {
                // The device sums the datagram; the field holds the (uncomplemented) pseudo-header sum.
                *(ushort*)(udp + 6) = (ushort)Checksum.Fold(Checksum.PseudoHeader(source, destination, ProtocolUdp, total));
                packet.SetChecksumPartial(0, 6);
            }
            else
            {
                ushort checksum = Checksum.Finish(Checksum.PseudoHeader(source, destination, ProtocolUdp, total) + Checksum.SumPacket(packet, 0, total));
                *(ushort*)(udp + 6) = checksum == 0 ? (ushort)0xFFFF : checksum;
            }
            Counters[NetStatistics.UdpTx]++;
            socket.LastDestination = destination;
            OutputIPv4(packet, destination, ProtocolUdp, false);
            return SocketError.Success;
        }

        // ---------------------------------------------------------------- IPv4 output

        internal bool Routable(uint destination) =>
            IsBroadcast(destination) || ((destination ^ _address) & _netmask) == 0 || _gateway != 0;

        /// <summary>
        /// Sends a transport packet (data starts at the transport header) to <paramref name="destination"/>.
        /// Takes ownership. Fragments it when it exceeds the MTU and <paramref name="dontFragment"/> is false.
        /// </summary>
        internal bool OutputIPv4(Packet packet, uint destination, int protocol, bool dontFragment)
        {
            bool broadcast = IsBroadcast(destination);
            uint nextHop = destination;
            if (!broadcast && ((destination ^ _address) & _netmask) != 0)
            {
                if (_gateway == 0)
                {
                    Counters[NetStatistics.IpNoRoute]++;
                    packet.Free();
                    return false;
                }
                nextHop = _gateway;
            }
            int length = packet.Length;
            if (length + IPv4HeaderLength > Mtu && (packet.Flags & Packet.FlagTcpSegmentation) == 0)
            {
                if (dontFragment)
                {
                    Counters[NetStatistics.TxDropped]++;
                    packet.Free();
                    return false;
                }
                return Fragment(packet, destination, protocol, nextHop, broadcast);
            }
            byte* ip = packet.Push(IPv4HeaderLength);
            WriteIPv4Header(ip, length + IPv4HeaderLength, _ipId++, dontFragment ? IPv4FlagDontFragment : 0, protocol, destination);
            Counters[NetStatistics.IpTx]++;
            ResolveAndTransmit(packet, nextHop, broadcast);
            return true;
        }

        private void WriteIPv4Header(byte* ip, int totalLength, int id, int fragmentField, int protocol, uint destination)
        {
            ip[0] = (IPv4Version << 4) | (IPv4HeaderLength / 4);
            ip[1] = 0;
            NetBytes.Write16(ip + 2, totalLength);
            NetBytes.Write16(ip + 4, id);
            NetBytes.Write16(ip + 6, fragmentField);
            ip[8] = IPv4DefaultTtl;
            ip[9] = (byte)protocol;
            *(ushort*)(ip + 10) = 0;
            NetBytes.Write32(ip + 12, _address);
            NetBytes.Write32(ip + 16, destination);
            *(ushort*)(ip + 10) = Checksum.Finish(Checksum.Sum(ip, IPv4HeaderLength));
        }

        private bool Fragment(Packet packet, uint destination, int protocol, uint nextHop, bool broadcast)
        {
            int total = packet.Length;
            int maxData = (Mtu - IPv4HeaderLength) & ~7;
            int id = _ipId++;
            bool ok = true;
            for (int offset = 0; offset < total; offset += maxData)
            {
                int take = total - offset < maxData ? total - offset : maxData;
                Packet piece = AllocateTransmit();
                if (piece == null)
                {
                    ok = false;
                    break;
                }
                if (!CopyRange(piece, packet, offset, take))
                {
                    piece.Free();
                    ok = false;
                    break;
                }
                bool more = offset + take < total;
                byte* ip = piece.Push(IPv4HeaderLength);
                WriteIPv4Header(ip, take + IPv4HeaderLength, id, (offset >> 3) | (more ? IPv4FlagMoreFragments : 0), protocol, destination);
                Counters[NetStatistics.IpTx]++;
                Counters[NetStatistics.IpFragTx]++;
                ResolveAndTransmit(piece, nextHop, broadcast);
            }
            packet.Free();
            return ok;
        }

        /// <summary>
        /// Appends bytes [offset, offset+count) of <paramref name="source"/> to <paramref name="target"/>: linear
        /// bytes are copied, page fragments are shared (one more reference each).
        /// </summary>
        internal static bool CopyRange(Packet target, Packet source, int offset, int count)
        {
            int segments = source.SegmentCount;
            for (int i = 0; i < segments && count > 0; i++)
            {
                int length;
                byte* p = source.Segment(i, out length);
                if (offset >= length)
                {
                    offset -= length;
                    continue;
                }
                int take = length - offset < count ? length - offset : count;
                if (i == 0)
                {
                    byte* d = target.Put(take);
                    if (d == null)
                    {
                        return false;
                    }
                    NetBytes.Copy(p + offset, d, take);
                }
                else
                {
                    ref PageFragment fragment = ref source.Fragment(i - 1);
                    fragment.Pool.AddRef(fragment.Page, 1);
                    if (!target.AppendFragment(fragment.Pool, fragment.Page, fragment.Offset + offset, take, 0))
                    {
                        fragment.Pool.Release(fragment.Page);
                        return false;
                    }
                }
                count -= take;
                offset = 0;
            }
            return count == 0;
        }

        /// <summary>Copies <paramref name="count"/> bytes of <paramref name="source"/> into new transmit pages attached to <paramref name="target"/>.</summary>
        internal bool CopyIntoPages(Packet target, Packet source, int offset, int count)
        {
            while (count > 0)
            {
                int page;
                if (!TransmitPages.TryAllocate(out page))
                {
                    Counters[NetStatistics.TxPageAllocFailures]++;
                    return false;
                }
                int take = count < DmaPage.Size ? count : DmaPage.Size;
                source.CopyTo(offset, TransmitPages.Address(page), take);
                if (!target.AppendFragment(TransmitPages, page, 0, take, DmaPage.Size))
                {
                    TransmitPages.Release(page);
                    return false;
                }
                offset += take;
                count -= take;
            }
            return true;
        }

        private void ResolveAndTransmit(Packet packet, uint nextHop, bool broadcast)
        {
            if (broadcast)
            {
                TransmitEthernet(packet, BroadcastMac, EtherTypeIPv4);
                return;
            }
            ulong mac;
            if (_arp.TryResolve(nextHop, Now, out mac))
            {
                TransmitEthernet(packet, mac, EtherTypeIPv4);
            }
            else
            {
                _arp.QueueAndResolve(packet, nextHop, Now);
            }
        }

        /// <summary>Sends an IPv4 packet (IP header in place) whose next hop has just resolved.</summary>
        internal void TransmitFrame(Packet packet, ulong destinationMac)
        {
            TransmitEthernet(packet, destinationMac, EtherTypeIPv4);
        }

        private void TransmitEthernet(Packet packet, ulong destinationMac, int etherType)
        {
            byte* e = packet.Push(EthernetHeaderLength);
            if (e == null)
            {
                Counters[NetStatistics.TxDropped]++;
                packet.Free();
                return;
            }
            NetBytes.WriteMac(e, destinationMac);
            NetBytes.WriteMac(e + 6, Mac);
            NetBytes.Write16(e + 12, etherType);
            if (packet.Length < EthernetMinimumFrame && packet.FragmentCount == 0)
            {
                int pad = EthernetMinimumFrame - packet.Length;
                byte* tail = packet.Put(pad);
                if (tail != null)
                {
                    new System.Span<byte>(tail, pad).Clear();
                }
            }
            Counters[NetStatistics.EthTxFrames]++;
            Counters[NetStatistics.EthTxBytes] += packet.Length;
            if (!_backlog.IsEmpty)
            {
                FlushBacklog();
            }
            if (_backlog.IsEmpty && Device.Transmit(packet))
            {
                return;
            }
            if (_backlog.Count >= TransmitBacklogLimit)
            {
                Counters[NetStatistics.TxDropped]++;
                packet.Free();
                return;
            }
            Counters[NetStatistics.TxBusyQueued]++;
            _backlog.Enqueue(packet);
        }

        private void FlushBacklog()
        {
            while (!_backlog.IsEmpty)
            {
                Packet packet = _backlog.Dequeue();
                if (!Device.Transmit(packet))
                {
                    _backlog.PushFront(packet);
                    return;
                }
            }
        }

        /// <summary>True when frames the device refused are waiting (senders should hold back).</summary>
        internal bool TransmitCongested => !_backlog.IsEmpty;

        /// <summary>True when a new frame would be taken by the device now (nothing backlogged, ring not stopped).</summary>
        internal bool CanTransmit => _backlog.IsEmpty && Device.CanTransmit;

        internal Packet AllocateTransmit()
        {
            Packet packet = Device.TransmitPackets.TryAllocate(Packet.DefaultHeadroom);
            if (packet == null)
            {
                Counters[NetStatistics.TxPacketAllocFailures]++;
            }
            return packet;
        }

        // ---------------------------------------------------------------- status

        internal static void WriteMac(ITextOutput output, ulong mac)
        {
            for (int i = 0; i < 6; i++)
            {
                if (i != 0)
                {
                    output.Write(':');
                }
                int b = (int)(mac >> (40 - 8 * i)) & 0xFF;
                output.Write(HexDigit(b >> 4));
                output.Write(HexDigit(b & 0xF));
            }
        }

        private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'a' + value - 10);

        /// <summary>Prints what the shell's <c>net</c> command shows: address, ARP cache, sockets, counters.</summary>
        public void PrintStatus(ITextOutput output)
        {
            long now = _clock.NowNanoseconds;
            output.Write("address ");
            Config.Address.WriteTo(output);
            output.Write('/');
            output.Write((long)Config.PrefixLength);
            output.Write("  gateway ");
            Config.Gateway.WriteTo(output);
            output.Write("  mac ");
            WriteMac(output, Mac);
            output.Write("  mtu ");
            output.Write((long)Mtu);
            output.Write(Device.LinkUp ? "  link up" : "  link down");
            output.WriteLine();
            output.Write("arp cache:");
            output.WriteLine();
            _arp.Print(output, now);
            output.Write("sockets (");
            output.Write((long)FreeSockets);
            output.Write(" free of ");
            output.Write((long)_sockets.Length);
            output.Write("):");
            output.WriteLine();
            for (int i = 0; i < _sockets.Length; i++)
            {
                if (!_sockets[i].InPool)
                {
                    _sockets[i].PrintLine(output);
                }
            }
            Tcp.PrintSynQueue(output, now);
            output.Write("buffers: tx packets in use ");
            output.Write((long)Device.TransmitPackets.InUse);
            output.Write(", tx pages in flight ");
            output.Write((long)TransmitPages.InFlight);
            output.Write(" of ");
            output.Write((long)TransmitPages.Capacity);
            output.Write(", tx backlog ");
            output.Write((long)_backlog.Count);
            output.Write(", arp pending ");
            output.Write((long)_arp.PendingCount);
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
            if (column != 0)
            {
                output.WriteLine();
            }
        }

        public int StatisticsCount => NetStatistics.Count;

        public string StatisticName(int index) => NetStatistics.Name(index);

        public long StatisticValue(int index) => index >= 0 && index < NetStatistics.Count ? Counters[index] : 0;

        /// <summary>Current value of a counter (index from <see cref="NetStatistics"/>).</summary>
        public long Counter(int index) => Counters[index];
    }
}
