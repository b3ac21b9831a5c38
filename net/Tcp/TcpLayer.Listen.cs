using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;
using Keel.Net.Ip;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Passive opens the way Linux does them (net/ipv4/tcp_input.c tcp_conn_request, tcp_minisocks.c
    /// tcp_check_req, syncookies.c): a SYN makes a <see cref="SynRequest"/> in the <see cref="SynQueue"/>, not a
    /// socket; when the listener already has <c>backlog</c> half-open connections (or the table is full) the
    /// SYN-ACK carries a SYN cookie instead and nothing is kept. The ACK that completes the handshake, matched
    /// to its entry or carrying a valid cookie, makes the connection and puts it on the accept queue (the
    /// listener's children). Accept queue full: the SYN is dropped, and so is a completing ACK (the entry is
    /// kept and the SYN-ACK timer lets the client try again), both counted in tcp_listen_overflows, as Linux
    /// with tcp_abort_on_overflow = 0. No socket left for a completed handshake: RST, so the client is never
    /// left hanging. A listener over its share of the socket table (<see cref="MayAdmit"/>) answers a SYN with
    /// a RST at once (tcp_listen_limit_refused), so one service's clients cannot take the sockets of the others.
    /// </summary>
    internal sealed unsafe partial class TcpLayer
    {
        /// <summary>Half-open connections all listeners together may hold.</summary>
        internal const int SynQueueCapacity = 128;

        private SynQueue _synQueue;
        private SynCookies _cookies;

        internal SynQueue SynQueue => _synQueue;

        private void InitListenQueues()
        {
            _synQueue = new SynQueue(SynQueueCapacity);
            Prng random = Stack.Random;
            _cookies = new SynCookies(random.Next(), random.Next(), random.Next(), random.Next());
        }

        /// <summary>A segment for a listening socket (no connection matched the 4-tuple). Takes the packet.</summary>
        private void ListenInput(TcpConnection listener, Packet packet, ref TcpSegment segment, Instant now)
        {
            int flags = segment.Flags;
            SynRequest request = _synQueue.Find(segment.LocalEndPoint, segment.RemoteEndPoint);
            if ((flags & FlagRst) != 0)
            {
                packet.Free();
                // RFC 9293 3.10.7.4 / RFC 5961: a reset in SYN-RECEIVED with the exact sequence ends the attempt.
                if (request != null && segment.Sequence == request.Irs + 1)
                {
                    Counters[NetStatistics.TcpResetsReceived]++;
                    _synQueue.Remove(request);
                }
                return;
            }
            if ((flags & FlagSyn) != 0)
            {
                packet.Free();
                if ((flags & FlagAck) != 0)
                {
                    SendResetFor(ref segment);
                    return;
                }
                ListenSyn(listener, request, ref segment, now);
                return;
            }
            // An ACK (the SYN/RST/ACK-less segments were dropped by Input).
            if (request != null)
            {
                if (segment.Acknowledgment != request.Iss + 1 || segment.Sequence != request.Irs + 1)
                {
                    packet.Free();
                    SendResetFor(ref segment);
                    return;
                }
                TcpSegment options = default;
                options.Mss = request.PeerMss;
                options.WindowScale = request.PeerWindowScale;
                options.SackPermitted = request.PeerSackPermitted;
                options.HasTimestamp = request.PeerTimestamps;
                options.TsVal = request.PeerTsVal;
                Instant sent = request.Retransmits == 0 ? request.FirstSent : Instant.None;
                if (CompleteHandshake(listener, packet, ref segment, ref options, request.Iss, request.Irs, sent, now))
                {
                    _synQueue.Remove(request);
                }
                else if (request.InUse)
                {
                    request.Acked = true;
                }
                return;
            }
            int mssIndex = _cookies.Check(segment.Source, segment.Destination, segment.SourcePort, segment.DestinationPort,
                segment.Sequence - 1, segment.Acknowledgment - 1, SynCookies.Minute(now));
            if (mssIndex < 0)
            {
                Counters[NetStatistics.TcpSynCookiesFailed]++;
                packet.Free();
                SendResetFor(ref segment);
                return;
            }
            TcpSegment cookieOptions = default;
            cookieOptions.Mss = SynCookies.MssTable(mssIndex, segment.Source.IsIPv6);
            cookieOptions.WindowScale = -1;
            cookieOptions.SackPermitted = false;
            if (segment.HasTimestamp)
            {
                // The SYN-ACK's TSval carried window scale and SACK-permitted (Linux cookie_timestamp_decode,
                // after cookie_v4_check takes the timestamp offset off the echoed value).
                int peerWindowScale;
                bool sack;
                if (!Config.TcpTimestamps ||
                    !SynCookies.DecodeTimestamp(segment.TsEcr - TsOffset, out peerWindowScale, out sack) ||
                    (sack && !Config.TcpSack))
                {
                    Counters[NetStatistics.TcpSynCookiesFailed]++;
                    packet.Free();
                    SendResetFor(ref segment);
                    return;
                }
                cookieOptions.WindowScale = peerWindowScale;
                cookieOptions.SackPermitted = sack;
                cookieOptions.HasTimestamp = true;
                cookieOptions.TsVal = segment.TsVal;
            }
            Counters[NetStatistics.TcpSynCookiesReceived]++;
            CompleteHandshake(listener, packet, ref segment, ref cookieOptions, segment.Acknowledgment - 1, segment.Sequence - 1, Instant.None, now);
        }

        private void ListenSyn(TcpConnection listener, SynRequest request, ref TcpSegment segment, Instant now)
        {
            if (request != null)
            {
                // The client repeats its SYN (our SYN-ACK was lost): answer again, as Linux does.
                if (segment.Sequence == request.Irs)
                {
                    // Same deadline (repeated SYNs must not keep the entry alive); no RTT sample (Karn).
                    request.FirstSent = Instant.None;
                    request.PeerTsVal = segment.TsVal;
                    SendSynAckFor(request.Listener, request.Local, request.Remote, request.Iss, request.Irs + 1, request.PeerWindowScale,
                        request.PeerSackPermitted, request.PeerTimestamps, request.PeerTsVal, TsNow(now));
                }
                return;
            }
            if (listener.Children.IsFull)
            {
                // Accept queue full: Linux drops the SYN (the client retries it).
                Counters[NetStatistics.TcpListenOverflows]++;
                return;
            }
            if (!MayAdmit(listener))
            {
                // Over the listener's share: refused at once, never left waiting.
                Counters[NetStatistics.TcpListenLimitRefused]++;
                SendResetFor(ref segment);
                return;
            }
            int backlog = listener.Children.Backlog;
            SynRequest entry = _synQueue.CountFor(listener) < backlog ? _synQueue.Add(listener) : null;
            if (entry == null)
            {
                // SYN queue full: answer with a cookie and keep nothing (RFC 4987 3.6).
                int index;
                int peerMss = segment.Mss > 0 ? segment.Mss : DefaultMss;
                SynCookies.EncodableMss(peerMss, segment.Source.IsIPv6, out index);
                uint cookie = _cookies.Make(segment.Source, segment.Destination, segment.SourcePort, segment.DestinationPort,
                    segment.Sequence, index, SynCookies.Minute(now));
                Counters[NetStatistics.TcpSynCookiesSent]++;
                // With timestamps the TSval keeps window scale and SACK-permitted (Linux cookie_init_timestamp);
                // without, Linux clears the SYN's options and so does this.
                bool timestamps = Config.TcpTimestamps && segment.HasTimestamp;
                bool sack = timestamps && Config.TcpSack && segment.SackPermitted;
                int peerWindowScale = timestamps ? segment.WindowScale : -1;
                uint tsVal = timestamps ? SynCookies.EncodeTimestamp((uint)now.SinceOrigin.Milliseconds, peerWindowScale, sack) + TsOffset : 0;
                SendSynAckFor(listener, segment.LocalEndPoint, segment.RemoteEndPoint,
                    cookie, segment.Sequence + 1, peerWindowScale, sack, timestamps, segment.TsVal, tsVal);
                return;
            }
            entry.Local = segment.LocalEndPoint;
            entry.Remote = segment.RemoteEndPoint;
            entry.Irs = segment.Sequence;
            entry.Iss = Stack.Random.NextUInt();
            entry.PeerMss = segment.Mss;
            entry.PeerWindowScale = segment.WindowScale;
            entry.PeerSackPermitted = Config.TcpSack && segment.SackPermitted;
            entry.PeerTimestamps = Config.TcpTimestamps && segment.HasTimestamp;
            entry.PeerTsVal = segment.TsVal;
            entry.PeerWindow = segment.Window;
            entry.FirstSent = now;
            SendSynAck(entry, entry.Iss, now);
        }

        /// <summary>
        /// The handshake is complete: a socket for the connection, on the listener's accept queue, then the ACK
        /// (and any data on it) goes through the connection's own input. False when it was not made (accept
        /// queue full: dropped; no socket: RST sent and the attempt is over).
        /// </summary>
        private bool CompleteHandshake(TcpConnection listener, Packet packet, ref TcpSegment segment, ref TcpSegment options,
            uint iss, uint irs, Instant synAckSent, Instant now)
        {
            if (listener.Children.IsFull)
            {
                Counters[NetStatistics.TcpListenOverflows]++;
                packet.Free();
                return false;
            }
            bool admitted = MayAdmit(listener);
            Socket childSocket = admitted ? Stack.Sockets.Open(ProtocolType.Tcp, false) : null;
            if (childSocket == null)
            {
                Counters[admitted ? NetStatistics.TcpListenOverflows : NetStatistics.TcpListenLimitRefused]++;
                packet.Free();
                SendResetFor(ref segment);
                SynRequest request = _synQueue.Find(segment.LocalEndPoint, segment.RemoteEndPoint);
                if (request != null)
                {
                    _synQueue.Remove(request);
                }
                return false;
            }
            childSocket.Handler = listener.Socket.Handler;
            TcpConnection child = childSocket.Tcp;
            child.OpenFromRequest(listener, segment.LocalEndPoint, segment.RemoteEndPoint,
                iss, irs, ref options, segment.Window, synAckSent, now);
            Stack.Sockets.IndexPort(childSocket);
            listener.Children.Add(child);
            listener.Children.Admit(child);
            Hash(child);
            Activate(child);
            Counters[NetStatistics.TcpPassiveOpens]++;
            child.Input(packet, ref segment, now);
            return true;
        }

        /// <summary>Sockets held back per listener: <see cref="NetConfig.TcpListenerReserve"/>, at most a sixteenth of the table.</summary>
        internal int ListenerReserve
        {
            get
            {
                int share = Config.MaxSockets / 16;
                return Config.TcpListenerReserve < share ? Config.TcpListenerReserve : share;
            }
        }

        /// <summary>
        /// Whether <paramref name="listener"/> may take a socket for one more connection: the sockets left after it
        /// (free or recyclable TIME_WAIT) must cover <see cref="NetConfig.TcpListenerReserve"/> for the
        /// applications' own sockets and, for every other listener with fewer connections than that, the rest
        /// of its reserve. A listener below its own reserve is thus always served while sockets remain.
        /// </summary>
        private bool MayAdmit(TcpConnection listener)
        {
            int reserve = ListenerReserve;
            int held = reserve;
            for (TcpConnection x = _listeners; x != null; x = x.Links.ListenNext)
            {
                int admitted = x.Children.Admitted;
                if (x != listener && admitted < reserve)
                {
                    held += reserve - admitted;
                }
            }
            return Stack.Sockets.AvailableCount > held;
        }

        /// <summary>Sends (or resends) the SYN-ACK of a queued request and sets its retransmission deadline.</summary>
        private void SendSynAck(SynRequest r, uint iss, Instant now)
        {
            SendSynAckFor(r.Listener, r.Local, r.Remote, iss, r.Irs + 1, r.PeerWindowScale,
                r.PeerSackPermitted, r.PeerTimestamps, r.PeerTsVal, TsNow(now));
            r.Deadline = now + (InitialRto << r.Retransmits);
        }

        /// <summary>The SYN queue's timer (Linux reqsk_timer_handler): resend SYN-ACKs with backoff, drop after the last.</summary>
        private void PollSynQueue(Instant now)
        {
            if (_synQueue.Count == 0)
            {
                return;
            }
            for (int i = 0; i < _synQueue.Capacity; i++)
            {
                SynRequest r = _synQueue.At(i);
                if (!r.InUse || r.Deadline > now)
                {
                    continue;
                }
                if (r.Retransmits >= SynQueue.MaxSynAckRetries)
                {
                    Counters[NetStatistics.TcpSynAckTimeouts]++;
                    _synQueue.Remove(r);
                    continue;
                }
                r.Retransmits++;
                Counters[NetStatistics.TcpRetransmits]++;
                SendSynAck(r, r.Iss, now);
            }
        }

        /// <summary>Window-scale shift we offer for a receive buffer (the same rule the connection uses).</summary>
        internal static int WindowScaleFor(int receiveBufferSize)
        {
            int shift = 0;
            while (shift < MaxWindowScale && (receiveBufferSize >> shift) > 65535)
            {
                shift++;
            }
            return shift;
        }

        /// <summary>A SYN-ACK not tied to a connection: MSS, and SACK-permitted, timestamps (<paramref name="tsVal"/>,
        /// echoing <paramref name="tsEcr"/>) and window scale when the SYN offered them (<paramref name="peerWindowScale"/> &gt;= 0).</summary>
        private void SendSynAckFor(TcpConnection listener, IPEndPoint local, IPEndPoint remote,
            uint iss, uint ack, int peerWindowScale, bool sack, bool timestamps, uint tsEcr, uint tsVal)
        {
            Packet packet = Stack.AllocateTransmit();
            if (packet == null)
            {
                return;
            }
            int optionsLength = TcpOptions.SynLength(sack, timestamps, peerWindowScale >= 0);
            int length = HeaderLength + optionsLength;
            byte* th = packet.Push(length);
            NetBytes.Write16(th, local.Port);
            NetBytes.Write16(th + 2, remote.Port);
            NetBytes.Write32(th + 4, iss);
            NetBytes.Write32(th + 8, ack);
            th[12] = (byte)((length / 4) << 4);
            th[13] = FlagSyn | FlagAck;
            int buffer = listener.ReceiveBufferSize;
            NetBytes.Write16(th + 14, buffer < 65535 ? buffer : 65535);
            *(uint*)(th + 16) = 0;
            int mss = Stack.MtuFor(remote.Address) - NetStack.IpHeaderLength(remote.Address) - HeaderLength;
            if (listener.UserMss > 0 && listener.UserMss < mss)
            {
                mss = listener.UserMss;
            }
            TcpOptions.WriteSyn(th + HeaderLength, mss, sack, timestamps,
                tsVal, tsEcr, peerWindowScale >= 0 ? WindowScaleFor(listener.ReceiveWindowLimit) : -1);
            *(ushort*)(th + 16) = Checksum.Finish(
                Checksum.PseudoHeader(local.Address, remote.Address, Ipv4Layer.ProtocolTcp, length) + Checksum.Sum(th, length));
            Counters[NetStatistics.TcpTxSegments]++;
            Stack.OutputIP(packet, local.Address, remote.Address, Ipv4Layer.ProtocolTcp, true);
        }

        /// <summary>Lists the half-open connections (for `net`, like ss's SYN-RECV lines).</summary>
        internal void PrintSynQueue(Keel.Hal.ITextOutput output, Instant now)
        {
            if (_synQueue.Count == 0)
            {
                return;
            }
            output.Write("syn queue (");
            output.Write((long)_synQueue.Count);
            output.Write(" of ");
            output.Write((long)_synQueue.Capacity);
            output.Write("):");
            output.WriteLine();
            for (int i = 0; i < _synQueue.Capacity; i++)
            {
                SynRequest r = _synQueue.At(i);
                if (!r.InUse)
                {
                    continue;
                }
                output.Write("  tcp ");
                r.Local.WriteTo(output);
                output.Write(' ');
                r.Remote.WriteTo(output);
                output.Write(" SYN_RECV synack retrans ");
                output.Write((long)r.Retransmits);
                output.Write(" next in ");
                output.Write((r.Deadline - now).Milliseconds);
                output.Write(" ms");
                output.WriteLine();
            }
        }
    }
}
