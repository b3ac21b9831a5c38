using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Ip;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// TCP demultiplexing and segment output: a hash table of connections keyed by the full 4-tuple (sized at
    /// start-up), the list of listeners, the list of connections with timers, and the per-batch ACK/output list.
    /// </summary>
    internal sealed unsafe partial class TcpLayer : IPoolMaker<TcpConnection>
    {
        internal const int FlagFin = 0x01;
        internal const int FlagSyn = 0x02;
        internal const int FlagRst = 0x04;
        internal const int FlagPsh = 0x08;
        internal const int FlagAck = 0x10;
        internal const int FlagUrg = 0x20;
        internal const int HeaderLength = 20;
        internal const int MaxWindowScale = 14;
        internal const int DefaultMss = 536;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;
        internal readonly NetConfig Config;
        private readonly TcpConnection[] _buckets;
        private readonly int _bucketMask;
        private TcpConnection _listeners;
        private TcpConnection _active;
        private TcpConnection _timeWaitHead; // TIME_WAIT connections, the first to expire first
        private TcpConnection _timeWaitTail;
        private TcpConnection _batchHead;
        private TcpConnection _batchTail;
        private TcpConnection _flushHead; // the list FlushBatch is working through
        private TcpConnection _flushTail;

        /// <summary>Large scoreboard rings lent to the connections with many segments in flight.</summary>
        internal readonly ScoreboardPool Scoreboards;

        /// <summary>Connection objects, one per socket at most, made like the sockets: some at start-up, the rest when first needed.</summary>
        private readonly LazyPool<TcpConnection> _connections;

        public TcpLayer(NetStack stack, NetConfig config)
        {
            Stack = stack;
            Counters = stack.Counters;
            Config = config;
            // One record per MSS-sized segment in flight: the send buffer over the smallest usual MSS. A
            // large ring for one connection in 16, at least 8 (bulk senders at once).
            Scoreboards = new ScoreboardPool(config.MaxSockets / 16 + 8, config.TcpSendBufferSize / 1024 + 32);
            _connections = new LazyPool<TcpConnection>(config.MaxSockets, config.PreallocatedSockets, this);
            int buckets = 16;
            while (buckets < config.MaxSockets * 2)
            {
                buckets <<= 1;
            }
            _buckets = new TcpConnection[buckets];
            _bucketMask = buckets - 1;
            InitListenQueues();
            TsOffset = stack.Random.NextUInt();
        }

        /// <summary>
        /// Offset of the timestamps clock (RFC 7323 section 5.4 asks for a random one; here one per stack, so a SYN-ACK
        /// sent from the SYN queue and the connection made later agree).
        /// </summary>
        internal uint TsOffset;

        /// <summary>A connection for <paramref name="socket"/>, fresh (CLOSED, unbound); null when all are in use.</summary>
        internal TcpConnection Open(Socket socket)
        {
            TcpConnection c = _connections.Take();
            if (c == null)
            {
                return null;
            }
            c.Open(socket, Config);
            return c;
        }

        /// <summary>A new connection object (made at start-up up to <see cref="NetConfig.PreallocatedSockets"/>, the rest when first needed).</summary>
        TcpConnection IPoolMaker<TcpConnection>.Make(int index) => new TcpConnection(this, new SendBuffer(Stack.TransmitPages, Config.TcpSendBufferSize));

        /// <summary>Gives back a connection that is over (CLOSED, out of every table).</summary>
        internal void Release(TcpConnection c)
        {
            c.Children.Leaves();
            _connections.Give(c);
        }

        /// <summary>Timestamp clock value (milliseconds) at <paramref name="now"/>.</summary>
        internal uint TsNow(Instant now) => (uint)now.SinceOrigin.Milliseconds + TsOffset;

        internal Duration MinRto => Config.TcpMinRto;

        internal Duration MaxRto => Config.TcpMaxRto;

        internal Duration InitialRto => Config.TcpInitialRto;

        internal Duration TimeWaitTimeout => Config.TcpTimeWait;

        /// <summary>Connections in TIME_WAIT at once (<see cref="NetConfig.TcpMaxTimeWait"/>; 0 there: half the sockets).</summary>
        internal long MaxTimeWait => Config.TcpMaxTimeWait > 0 ? Config.TcpMaxTimeWait : Config.MaxSockets / 2;

        internal Duration FinWait2Timeout => Config.TcpFinWait2Timeout;

        internal Duration DelayedAckTimeout => Config.TcpDelayedAck;

        // ------------------------------------------------------------ input

        internal void Input(Packet packet, int ipHeaderLength, IPAddress source, IPAddress destination, Instant now)
        {
            Counters[NetStatistics.TcpRxSegments]++;
            int tcpLength = packet.Length - ipHeaderLength;
            if (tcpLength < HeaderLength || !packet.EnsureLinear(ipHeaderLength + HeaderLength))
            {
                Counters[NetStatistics.TcpBadHeader]++;
                packet.Free();
                return;
            }
            byte* th = packet.Data + ipHeaderLength;
            int dataOffset = (th[12] >> 4) * 4;
            if (dataOffset < HeaderLength || dataOffset > tcpLength || !packet.EnsureLinear(ipHeaderLength + dataOffset))
            {
                Counters[NetStatistics.TcpBadHeader]++;
                packet.Free();
                return;
            }
            th = packet.Data + ipHeaderLength;
            if ((packet.Flags & Packet.FlagChecksumValid) == 0)
            {
                ulong sum = Checksum.PseudoHeader(source, destination, Ipv4Layer.ProtocolTcp, tcpLength) +
                            Checksum.SumPacket(packet, ipHeaderLength, tcpLength);
                if (!Checksum.IsValid(sum))
                {
                    Counters[NetStatistics.TcpBadChecksum]++;
                    packet.Free();
                    return;
                }
            }
            TcpSegment segment = default;
            segment.Source = source;
            segment.Destination = destination;
            segment.SourcePort = NetBytes.Read16(th);
            segment.DestinationPort = NetBytes.Read16(th + 2);
            segment.Sequence = NetBytes.Read32(th + 4);
            segment.Acknowledgment = NetBytes.Read32(th + 8);
            segment.Flags = th[13];
            segment.Window = NetBytes.Read16(th + 14);
            segment.WindowScale = -1;
            int flags = segment.Flags;
            if (segment.SourcePort == 0 || segment.DestinationPort == 0 ||
                ((flags & FlagSyn) != 0 && (flags & (FlagFin | FlagRst)) != 0) ||
                (flags & (FlagSyn | FlagRst | FlagAck)) == 0)
            {
                // Port 0, SYN+FIN, SYN+RST, or none of SYN/RST/ACK (a "null" or Christmas-tree probe).
                Counters[NetStatistics.TcpBadHeader]++;
                packet.Free();
                return;
            }
            if (dataOffset > HeaderLength && !TcpOptions.Parse(th + HeaderLength, dataOffset - HeaderLength, ref segment, (flags & FlagSyn) != 0))
            {
                Counters[NetStatistics.TcpBadOptions]++;
            }
            packet.Pull(ipHeaderLength + dataOffset);
            segment.DataLength = packet.Length;

            TcpConnection c = Lookup(segment.LocalEndPoint, segment.RemoteEndPoint);
            if (c != null && c.State == TcpState.TimeWait && c.AcceptsNewSyn(ref segment))
            {
                // A new incarnation of the 4-tuple (RFC 6191, as Linux's TCP_TW_SYN): TIME_WAIT ends, the listener answers.
                Counters[NetStatistics.TcpTimewaitSynReused]++;
                c.EnterClosed(SocketError.Success);
                c = null;
            }
            if (c == null)
            {
                TcpConnection listener = FindListener(segment.LocalEndPoint);
                if (listener != null)
                {
                    ListenInput(listener, packet, ref segment, now);
                    return;
                }
                Counters[NetStatistics.TcpNoSocket]++;
                packet.Free();
                if ((flags & FlagRst) == 0)
                {
                    SendResetFor(ref segment);
                }
                return;
            }
            c.Input(packet, ref segment, now);
        }

        // ------------------------------------------------------------ output

        /// <summary>
        /// Builds and sends one segment of connection <paramref name="c"/>: <paramref name="length"/> bytes of
        /// its send buffer starting at <paramref name="bufferOffset"/>. False when no packet could be built.
        /// </summary>
        internal bool SendSegment(TcpConnection c, uint sequence, int flags, int bufferOffset, int length)
        {
            Packet packet = Stack.AllocateTransmit();
            if (packet == null)
            {
                return false;
            }
            if (length > 0)
            {
                if (length <= packet.Tailroom)
                {
                    c.Send.CopyOut(bufferOffset, packet.Put(length), length);
                }
                else if (!c.Send.AttachTo(packet, bufferOffset, length))
                {
                    packet.Free();
                    return false;
                }
            }
            // Options: on a SYN what we offer (everything on an active open, what the peer offered on a passive
            // one); afterwards timestamps when agreed, and SACK blocks on pure ACKs.
            int optionsLength = 0;
            bool syn = (flags & FlagSyn) != 0;
            bool offerAll = c.State == TcpState.SynSent || c.State == TcpState.Closed;
            bool sack = false;
            bool timestamps = c.Options.Timestamps;
            bool windowScale = false;
            uint* blocks = stackalloc uint[2 * TcpSegment.MaxSackBlocks];
            int blockCount = 0;
            if (syn)
            {
                sack = offerAll ? Config.TcpSack : c.Options.Sack;
                timestamps = offerAll ? Config.TcpTimestamps : c.Options.Timestamps;
                windowScale = offerAll || c.Options.WindowScaling;
                optionsLength = TcpOptions.SynLength(sack, timestamps, windowScale);
            }
            else
            {
                if (timestamps)
                {
                    optionsLength = TcpOptions.AlignedTimestampLength;
                }
                if (c.Options.Sack && length == 0 && (flags & (FlagFin | FlagRst)) == 0 && (!c.Reassembly.IsEmpty || c.Reassembly.DsackPending))
                {
                    blockCount = c.BuildSackBlocks(blocks, timestamps ? 3 : 4);
                    if (blockCount > 0)
                    {
                        optionsLength += 4 + 8 * blockCount;
                    }
                }
            }
            byte* th = packet.Push(HeaderLength + optionsLength);
            NetBytes.Write16(th, c.Local.Port);
            NetBytes.Write16(th + 2, c.Remote.Port);
            NetBytes.Write32(th + 4, sequence);
            NetBytes.Write32(th + 8, (flags & FlagAck) != 0 ? c.Rcv.Nxt : 0);
            th[12] = (byte)(((HeaderLength + optionsLength) / 4) << 4);
            th[13] = (byte)flags;
            int window;
            if ((flags & FlagSyn) != 0)
            {
                window = c.ReceiveBufferSize < 65535 ? c.ReceiveBufferSize : 65535;
                c.Rcv.SynWindowSent(window);
            }
            else
            {
                window = c.AdvertiseWindow();
            }
            NetBytes.Write16(th + 14, window);
            *(uint*)(th + 16) = 0; // checksum and urgent pointer
            if (optionsLength != 0)
            {
                byte* o = th + HeaderLength;
                uint tsVal = c.TsNow(Stack.Now);
                uint tsEcr = c.State == TcpState.SynSent ? 0 : c.Options.TsRecent;
                if (syn)
                {
                    TcpOptions.WriteSyn(o, c.Options.ReceiveMss, sack, timestamps, tsVal, tsEcr, windowScale ? c.Options.ReceiveWindowScale : -1);
                }
                else
                {
                    if (timestamps)
                    {
                        TcpOptions.WriteTimestamps(o, tsVal, tsEcr);
                        o += TcpOptions.AlignedTimestampLength;
                    }
                    if (blockCount > 0)
                    {
                        TcpOptions.WriteSack(o, blocks, blockCount);
                    }
                }
            }
            int total = packet.Length;
            if (Stack.ChecksumOffload)
            {
                // The device sums header and payload; the field holds the (uncomplemented) pseudo-header sum.
                *(ushort*)(th + 16) = (ushort)Checksum.Fold(Checksum.PseudoHeader(c.Local.Address, c.Remote.Address, Ipv4Layer.ProtocolTcp, total));
                packet.SetChecksumPartial(0, 16);
                if (length > c.SendMss)
                {
                    // TSO: the device cuts the payload into MSS segments (each with its own checksum, sequence
                    // number and IP id; FIN/PSH only on the last).
                    packet.Flags |= Packet.FlagTcpSegmentation;
                    packet.GsoSize = c.SendMss;
                    Counters[NetStatistics.TcpTsoSegments]++;
                }
            }
            else
            {
                *(ushort*)(th + 16) = Checksum.Finish(
                    Checksum.PseudoHeader(c.Local.Address, c.Remote.Address, Ipv4Layer.ProtocolTcp, total) + Checksum.SumPacket(packet, 0, total));
            }
            if ((flags & FlagAck) != 0)
            {
                c.AckSent();
            }
            if ((flags & FlagRst) != 0)
            {
                Counters[NetStatistics.TcpResetsSent]++;
            }
            c.Stats.SegmentOut();
            Stack.OutputIP(packet, c.Local.Address, c.Remote.Address, Ipv4Layer.ProtocolTcp, c.PathMtu.DontFragment);
            return true;
        }

        /// <summary>RST in answer to a segment that has no connection (RFC 9293 "reset generation").</summary>
        internal void SendResetFor(ref TcpSegment segment)
        {
            uint sequence;
            uint ack;
            int flags;
            if ((segment.Flags & FlagAck) != 0)
            {
                sequence = segment.Acknowledgment;
                ack = 0;
                flags = FlagRst;
            }
            else
            {
                sequence = 0;
                ack = segment.Sequence + (uint)segment.DataLength;
                if ((segment.Flags & FlagSyn) != 0)
                {
                    ack++;
                }
                if ((segment.Flags & FlagFin) != 0)
                {
                    ack++;
                }
                flags = FlagRst | FlagAck;
            }
            SendBare(segment.LocalEndPoint, segment.RemoteEndPoint, sequence, ack, flags, 0);
        }

        /// <summary>A header-only segment not tied to a connection's state.</summary>
        internal void SendBare(IPEndPoint local, IPEndPoint remote, uint sequence, uint ack, int flags, int window)
        {
            Packet packet = Stack.AllocateTransmit();
            if (packet == null)
            {
                return;
            }
            byte* th = packet.Push(HeaderLength);
            NetBytes.Write16(th, local.Port);
            NetBytes.Write16(th + 2, remote.Port);
            NetBytes.Write32(th + 4, sequence);
            NetBytes.Write32(th + 8, ack);
            th[12] = (HeaderLength / 4) << 4;
            th[13] = (byte)flags;
            NetBytes.Write16(th + 14, window);
            *(uint*)(th + 16) = 0;
            *(ushort*)(th + 16) = Checksum.Finish(
                Checksum.PseudoHeader(local.Address, remote.Address, Ipv4Layer.ProtocolTcp, HeaderLength) + Checksum.Sum(th, HeaderLength));
            if ((flags & FlagRst) != 0)
            {
                Counters[NetStatistics.TcpResetsSent]++;
            }
            Counters[NetStatistics.TcpTxSegments]++;
            Stack.OutputIP(packet, local.Address, remote.Address, Ipv4Layer.ProtocolTcp, true);
        }
    }
}
