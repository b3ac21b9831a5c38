using System;
using Keel.Hal;
using Keel.Net.Arp;
using Keel.Net.Ethernet;
using Keel.Net.Sockets;

namespace Keel.Net.Dhcp
{
    /// <summary>
    /// DHCP client (RFC 2131, options of RFC 2132) for one <see cref="NetStack"/>: DISCOVER → OFFER →
    /// REQUEST → ACK with exponential back-off, an ARP probe of the offered address (RFC 5227) before it is
    /// used, then renewal at T1 (unicast), rebinding at T2 (broadcast) and a fresh start when the lease runs
    /// out or a server says NAK. It is an ordinary user of a UDP socket on port 68; the only things it needs
    /// from the stack beyond sockets are <see cref="NetStack.ConfigureAddress"/>, <see cref="NetStack.SetMtu"/>
    /// and the ARP probe hook. Call <see cref="Poll"/> from the main loop (after the stack's Poll).
    /// Every received message is checked (see <see cref="DhcpMessage.Parse"/>); what fails is counted and dropped.
    /// </summary>
    public sealed unsafe partial class DhcpClient : IStatisticsSource
    {

        /// <summary>First retransmission timeout (RFC 2131 4.1: 4 s, doubled up to 64 s, ±1 s).</summary>
        public static Duration InitialTimeout => Duration.FromSeconds(4);

        /// <summary>Longest retransmission timeout (RFC 2131 4.1: 64 s).</summary>
        public static Duration MaxTimeout => Duration.FromSeconds(64);

        /// <summary>REQUESTs sent for one offer before starting over with a DISCOVER.</summary>
        public const int MaxRequests = 4;

        /// <summary>Least wait between retransmissions while renewing or rebinding (RFC 2131 4.4.5).</summary>
        public static Duration MinRenewRetry => Duration.FromSeconds(60);

        /// <summary>Wait after a DECLINE before starting again (RFC 2131 3.1.5: at least 10 s).</summary>
        public static Duration DeclineWait => Duration.FromSeconds(10);

        /// <summary>Wait after a NAK or expiry before the next DISCOVER (a hostile NAK stream cannot make a storm).</summary>
        public static Duration RestartWait => Duration.FromSeconds(2);

        /// <summary>Shortest lease honoured: shorter ones are stretched to this.</summary>
        public const int MinLeaseSeconds = 30;

        // RFC 5227 section 1.1 constants.
        public static Duration ProbeWait => Duration.FromSeconds(1);
        public const int ProbeCount = 3;
        public static Duration ProbeMin => Duration.FromSeconds(1);
        public static Duration ProbeMax => Duration.FromSeconds(2);
        public static Duration AnnounceWait => Duration.FromSeconds(2);
        public static Duration AnnounceInterval => Duration.FromSeconds(2);

        private readonly NetStack _stack;
        private readonly byte[] _buffer = new byte[1500];
        private readonly ulong _mac;
        private Socket _socket;
        private DhcpState _state;
        private Instant _deadline;
        private Duration _timeout;
        private int _attempts;
        private uint _xid;
        private Instant _started;
        private Instant _requestSent;
        private uint _offered;
        private uint _server;
        private int _probesSent;
        private bool _announcePending;
        private Instant _announceAt;
        private DhcpReply _lease;
        private Instant _t1;
        private Instant _t2;
        private Instant _expiry;

        /// <summary>Counter values, indexed by the <see cref="DhcpStatistics"/> constants.</summary>
        public readonly long[] Counters = new long[DhcpStatistics.Count];

        public int StatisticsCount => DhcpStatistics.Count;

        public string StatisticName(int index) => DhcpStatistics.Name(index);

        public long StatisticValue(int index) => index >= 0 && index < DhcpStatistics.Count ? Counters[index] : 0;

        public StatisticKind StatisticKind(int index) => Keel.Hal.StatisticKind.Counter;

        public string StatisticHelp(int index) => DhcpStatistics.Help(index);

        /// <summary>Where lease changes are reported (one line each); null for none.</summary>
        public ITextOutput Log;

        public DhcpClient(NetStack stack)
        {
            _stack = stack;
            _mac = stack.Mac;
        }

        public DhcpState State => _state;

        /// <summary>True while an address is leased (bound, renewing or rebinding).</summary>
        public bool HasLease => _state == DhcpState.Bound || _state == DhcpState.Renewing || _state == DhcpState.Rebinding;

        /// <summary>Increases every time a lease is taken or its options change (for users that copy them, e.g. DNS servers).</summary>
        public int LeaseVersion { get; private set; }

        public IPv4Address Address => new IPv4Address(HasLease ? _lease.YourAddress : 0);

        public int PrefixLength => HasLease ? _stack.Config.PrefixLength : 0;

        public IPv4Address Router => new IPv4Address(HasLease ? _lease.Router : 0);

        public IPv4Address Server => new IPv4Address(_server);

        public int DnsServerCount => HasLease ? _lease.DnsCount : 0;

        public IPv4Address DnsServer(int index) =>
            new IPv4Address(index == 0 ? _lease.Dns0 : index == 1 ? _lease.Dns1 : index == 2 ? _lease.Dns2 : 0);

        /// <summary>Lease length granted by the server, seconds (0xFFFFFFFF = infinite).</summary>
        public uint LeaseSeconds => _lease.LeaseSeconds;

        /// <summary>When the lease ends (Instant.MaxValue for an infinite lease).</summary>
        public Instant Expiry => _expiry;

        /// <summary>When renewal starts (T1).</summary>
        public Instant Renewal => _t1;

        /// <summary>When rebinding starts (T2).</summary>
        public Instant Rebinding => _t2;

        /// <summary>Earliest time <see cref="Poll"/> has timer work.</summary>
        public Instant NextWake => _state == DhcpState.Stopped ? Instant.MaxValue : _deadline;

        /// <summary>Opens the socket on port 68 and sends the first DISCOVER at the next Poll. False when no socket is free or the port is taken.</summary>
        public bool Start()
        {
            if (_socket == null)
            {
                _socket = _stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
                if (_socket == null)
                {
                    return false;
                }
                if (_socket.Bind(new IPEndPoint(IPv4Address.Any, DhcpMessage.ClientPort)) != SocketError.Success)
                {
                    _socket.Close();
                    _socket = null;
                    return false;
                }
            }
            _stack.ConfigureAddress(IPv4Address.Any, 0, IPv4Address.Any);
            Restart(Now, Duration.Zero);
            return true;
        }

        /// <summary>Stops the client (the address stays configured; nothing is sent).</summary>
        public void Stop()
        {
            _state = DhcpState.Stopped;
            _stack.Arp.ProbeTarget = 0;
            if (_socket != null)
            {
                _socket.Close();
                _socket = null;
            }
        }

        private Instant Now => Instant.Now(_stack.Clock);

        /// <summary>Reads replies, then runs the timer of the current state.</summary>
        public void Poll()
        {
            if (_state == DhcpState.Stopped || _socket == null)
            {
                return;
            }
            Instant now = Now;
            Receive(now);
            if (_state == DhcpState.Probing && _stack.Arp.ProbeConflict)
            {
                Counters[DhcpStatistics.ProbeConflicts]++;
                SendDecline(now);
                return;
            }
            if (now >= _deadline)
            {
                OnTimer(now);
            }
        }

        private void Receive(Instant now)
        {
            for (int budget = 0; budget < 16; budget++)
            {
                IPEndPoint from;
                SocketError error;
                int length;
                fixed (byte* data = _buffer)
                {
                    length = _socket.ReceiveFrom(new Span<byte>(data, _buffer.Length), out from, out error);
                    if (error == SocketError.WouldBlock)
                    {
                        return;
                    }
                    if (error == SocketError.MessageSize)
                    {
                        Counters[DhcpStatistics.Truncated]++;
                        continue;
                    }
                    if (error != SocketError.Success)
                    {
                        return;
                    }
                    if (from.Port != DhcpMessage.ServerPort)
                    {
                        Counters[DhcpStatistics.WrongSource]++;
                        continue;
                    }
                    DhcpReply reply;
                    DhcpParseResult result = DhcpMessage.Parse(data, length, _xid, _mac, out reply);
                    if (result != DhcpParseResult.Ok)
                    {
                        Counters[result == DhcpParseResult.Short ? DhcpStatistics.Short
                            : result == DhcpParseResult.NotReply ? DhcpStatistics.NotReply
                            : result == DhcpParseResult.NotOurs ? DhcpStatistics.NotOurs
                            : result == DhcpParseResult.Malformed ? DhcpStatistics.Malformed
                            : DhcpStatistics.Hostile]++;
                        continue;
                    }
                    OnReply(ref reply, now);
                }
            }
        }

        private void OnReply(ref DhcpReply reply, Instant now)
        {
            int type = reply.MessageType;
            if (type == DhcpMessage.Offer)
            {
                Counters[DhcpStatistics.OffersReceived]++;
                if (_state != DhcpState.Selecting || reply.ServerId == 0)
                {
                    Counters[DhcpStatistics.Unexpected]++;
                    return;
                }
                _offered = reply.YourAddress;
                _server = reply.ServerId;
                _state = DhcpState.Requesting;
                _attempts = 0;
                _timeout = InitialTimeout;
                SendRequest(now);
                return;
            }
            if (type == DhcpMessage.Ack)
            {
                Counters[DhcpStatistics.AcksReceived]++;
                if (_state == DhcpState.Requesting && (reply.ServerId == 0 || reply.ServerId == _server))
                {
                    _lease = reply;
                    _offered = reply.YourAddress;
                    StartProbe(now);
                }
                else if ((_state == DhcpState.Renewing || _state == DhcpState.Rebinding) && reply.YourAddress == _lease.YourAddress)
                {
                    if (reply.ServerId != 0)
                    {
                        _server = reply.ServerId;
                    }
                    Counters[_state == DhcpState.Renewing ? DhcpStatistics.Renewals : DhcpStatistics.Rebinds]++;
                    _lease = reply;
                    Bind(now, false);
                }
                else
                {
                    Counters[DhcpStatistics.Unexpected]++;
                }
                return;
            }
            if (type == DhcpMessage.Nak)
            {
                Counters[DhcpStatistics.NaksReceived]++;
                bool fromOurServer = reply.ServerId == 0 || reply.ServerId == _server;
                if ((_state == DhcpState.Requesting || _state == DhcpState.Renewing) && fromOurServer || _state == DhcpState.Rebinding)
                {
                    Report("dhcp: NAK, starting over");
                    Unconfigure();
                    Restart(now, RestartWait);
                }
                else
                {
                    Counters[DhcpStatistics.Unexpected]++;
                }
                return;
            }
            Counters[DhcpStatistics.Unexpected]++;
        }

        private void OnTimer(Instant now)
        {
            switch (_state)
            {
                case DhcpState.Init:
                    _xid = _stack.Random.NextUInt();
                    _started = now;
                    _attempts = 0;
                    _timeout = InitialTimeout;
                    _state = DhcpState.Selecting;
                    SendDiscover(now);
                    break;
                case DhcpState.Selecting:
                    Counters[DhcpStatistics.Retransmissions]++;
                    SendDiscover(now);
                    break;
                case DhcpState.Requesting:
                    if (_attempts >= MaxRequests)
                    {
                        Restart(now, Duration.Zero);
                        return;
                    }
                    Counters[DhcpStatistics.Retransmissions]++;
                    SendRequest(now);
                    break;
                case DhcpState.Probing:
                    if (_probesSent < ProbeCount)
                    {
                        _probesSent++;
                        Counters[DhcpStatistics.ProbesSent]++;
                        _stack.Arp.Send(ArpLayer.OpRequest, EthernetLayer.BroadcastMac, _offered);
                        _deadline = now + (_probesSent < ProbeCount
                            ? RandomBetween(ProbeMin, ProbeMax)
                            : AnnounceWait);
                    }
                    else
                    {
                        Bind(now, true);
                    }
                    break;
                case DhcpState.Bound:
                    if (_announcePending && now >= _announceAt)
                    {
                        _announcePending = false;
                        _stack.SendGratuitousArp(); // RFC 5227 2.3: the second announcement
                    }
                    if (now >= _t1)
                    {
                        _state = DhcpState.Renewing;
                        _xid = _stack.Random.NextUInt();
                        _started = now;
                        SendRenew(now, _t2);
                    }
                    else
                    {
                        _deadline = _announcePending && _announceAt < _t1 ? _announceAt : _t1;
                    }
                    break;
                case DhcpState.Renewing:
                    if (now >= _t2)
                    {
                        _state = DhcpState.Rebinding;
                        _xid = _stack.Random.NextUInt();
                        SendRenew(now, _expiry);
                    }
                    else
                    {
                        Counters[DhcpStatistics.Retransmissions]++;
                        SendRenew(now, _t2);
                    }
                    break;
                case DhcpState.Rebinding:
                    if (now >= _expiry)
                    {
                        Counters[DhcpStatistics.Expiries]++;
                        Report("dhcp: lease expired");
                        Unconfigure();
                        Restart(now, RestartWait);
                    }
                    else
                    {
                        Counters[DhcpStatistics.Retransmissions]++;
                        SendRenew(now, _expiry);
                    }
                    break;
            }
        }

        private void Restart(Instant now, Duration wait)
        {
            _state = DhcpState.Init;
            _stack.Arp.ProbeTarget = 0;
            _stack.Arp.ProbeConflict = false;
            _server = 0;
            _offered = 0;
            _deadline = now + wait;
        }

        private void Unconfigure()
        {
            _stack.ConfigureAddress(IPv4Address.Any, 0, IPv4Address.Any);
            _stack.SetMtu(_stack.Device.Mtu);
            _lease = default;
            _t1 = _t2 = _expiry = Instant.None;
            LeaseVersion++;
        }

        private void StartProbe(Instant now)
        {
            _state = DhcpState.Probing;
            _probesSent = 0;
            _stack.Arp.ProbeTarget = _offered;
            _stack.Arp.ProbeConflict = false;
            _deadline = now + RandomBetween(Duration.Zero, ProbeWait);
        }

        /// <summary>Takes the lease in <see cref="_lease"/> into use; <paramref name="fresh"/> after a probe, false after a renewal.</summary>
        private void Bind(Instant now, bool fresh)
        {
            _stack.Arp.ProbeTarget = 0;
            uint mask = _lease.SubnetMask;
            if (mask == 0)
            {
                uint first = _lease.YourAddress >> 24; // no option 1: the address's class (RFC 1122 3.3.1.1)
                mask = first < 128 ? 0xFF000000u : first < 192 ? 0xFFFF0000u : 0xFFFFFF00u;
            }
            int prefix = DhcpMessage.PrefixLength(mask);
            uint router = _lease.Router;
            if (router != 0 && ((router ^ _lease.YourAddress) & mask) != 0)
            {
                Counters[DhcpStatistics.Hostile]++;
                router = 0; // a router off the subnet cannot be reached: ignored
            }
            _lease.Router = router;
            _stack.ConfigureAddress(new IPv4Address(_lease.YourAddress), prefix, new IPv4Address(router));
            _stack.SetMtu(_lease.Mtu >= 576 ? _lease.Mtu : _stack.Device.Mtu);
            SetTimes(_requestSent);
            _state = DhcpState.Bound;
            LeaseVersion++;
            if (fresh)
            {
                Counters[DhcpStatistics.Leases]++;
                _announcePending = true;
                _announceAt = now + AnnounceInterval;
                _deadline = _announceAt < _t1 ? _announceAt : _t1;
                PrintLease(Log);
            }
            else
            {
                _deadline = _t1;
            }
        }

        /// <summary>Lease times count from when the REQUEST was sent (RFC 2131 4.4.1).</summary>
        private void SetTimes(Instant start)
        {
            uint lease = _lease.LeaseSeconds;
            if (lease == 0xFFFFFFFF)
            {
                _t1 = _t2 = _expiry = Instant.MaxValue;
                return;
            }
            if (lease < MinLeaseSeconds)
            {
                lease = MinLeaseSeconds;
                _lease.LeaseSeconds = lease;
            }
            Duration length = Duration.FromSeconds(lease);
            // RFC 2131 4.4.5 defaults: T1 = 0.5, T2 = 0.875 of the lease; server values only when T1 < T2 < lease.
            Duration t1 = length / 2;
            Duration t2 = length / 8 * 7;
            uint r1 = _lease.RenewalSeconds;
            uint r2 = _lease.RebindingSeconds;
            if (r2 != 0 && r2 < lease)
            {
                t2 = Duration.FromSeconds(r2);
            }
            if (r1 != 0 && Duration.FromSeconds(r1) < t2)
            {
                t1 = Duration.FromSeconds(r1);
            }
            else if (t1 >= t2)
            {
                t1 = t2 / 2;
            }
            _t1 = start + t1;
            _t2 = start + t2;
            _expiry = start + length;
        }

        private void SendDiscover(Instant now)
        {
            Counters[DhcpStatistics.DiscoversSent]++;
            Send(DhcpMessage.Discover, now, 0, 0, 0, IPv4Address.Broadcast);
            ArmBackoff(now);
        }

        private void SendRequest(Instant now)
        {
            _attempts++;
            _requestSent = now;
            Counters[DhcpStatistics.RequestsSent]++;
            Send(DhcpMessage.Request, now, 0, _offered, _server, IPv4Address.Broadcast);
            ArmBackoff(now);
        }

        /// <summary>REQUEST with ciaddr set: unicast to the server while renewing, broadcast while rebinding.</summary>
        private void SendRenew(Instant now, Instant until)
        {
            _requestSent = now;
            Counters[DhcpStatistics.RequestsSent]++;
            bool rebinding = _state == DhcpState.Rebinding;
            IPv4Address to = rebinding || _server == 0 ? IPv4Address.Broadcast : new IPv4Address(_server);
            Send(DhcpMessage.Request, now, _lease.YourAddress, 0, 0, to);
            Duration wait = Duration.Max((until - now) / 2, MinRenewRetry);
            _deadline = Instant.Min(now + wait, until);
        }

        private void SendDecline(Instant now)
        {
            Counters[DhcpStatistics.DeclinesSent]++;
            Report("dhcp: address in use (ARP probe answered), declined");
            Send(DhcpMessage.Decline, now, 0, _offered, _server, IPv4Address.Broadcast);
            _lease = default;
            Restart(now, DeclineWait);
        }

        private void Send(int type, Instant now, uint clientAddress, uint requested, uint server, IPv4Address to)
        {
            fixed (byte* data = _buffer)
            {
                // The broadcast flag asks servers to broadcast replies: we take no unicast before we have an address.
                bool broadcastFlag = clientAddress == 0;
                int length = DhcpMessage.Build(data, _buffer.Length, type, _xid, (int)(now - _started).Seconds, broadcastFlag, _mac,
                    clientAddress, requested, server, _buffer.Length);
                SocketError error;
                _socket.SendTo(new ReadOnlySpan<byte>(data, length), new IPEndPoint(to, DhcpMessage.ServerPort), out error);
                if (error != SocketError.Success)
                {
                    Counters[DhcpStatistics.SendFailures]++;
                }
            }
        }

        /// <summary>Next retransmission: the current timeout ±1 s (RFC 2131 4.1), then the timeout doubles up to 64 s.</summary>
        private void ArmBackoff(Instant now)
        {
            Duration jitter = RandomBetween(Duration.Zero, Duration.FromSeconds(2)) - Duration.FromSeconds(1);
            _deadline = now + _timeout + jitter;
            _timeout = Duration.Min(_timeout * 2, MaxTimeout);
        }

        /// <summary>A random duration from <paramref name="min"/> to <paramref name="max"/>, in whole milliseconds.</summary>
        private Duration RandomBetween(Duration min, Duration max) =>
            min + Duration.FromMilliseconds((long)(_stack.Random.NextUInt() % (uint)((max - min).Milliseconds + 1)));

        private void Report(string text)
        {
            if (Log != null)
            {
                Log.Write(text);
                Log.WriteLine();
            }
        }
    }
}
