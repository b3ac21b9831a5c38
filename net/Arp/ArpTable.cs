using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Ethernet;
using Keel.Net.Internal;

namespace Keel.Net.Arp
{
    /// <summary>
    /// ARP cache (RFC 826): fixed arrays sized at start-up, entries that expire, a small shared queue of packets
    /// waiting for a resolution, and refreshes of entries in use shortly before they expire.
    /// </summary>
    internal sealed unsafe class ArpTable
    {
        internal const int StateFree = 0;
        internal const int StateIncomplete = 1;
        internal const int StateReachable = 2;

        private static Duration RetryInterval => Duration.FromSeconds(1);
        private const int MaxRequests = 3;

        private readonly NetStack _stack;
        private readonly uint[] _address;
        private readonly ulong[] _mac;
        private readonly int[] _state;
        private readonly Instant[] _expires;
        private readonly Instant[] _nextRequest;
        private readonly int[] _requests;
        private readonly Duration _timeout;
        private readonly int _pendingLimit;
        private PacketQueue _pending;

        public ArpTable(NetStack stack, int size, Duration timeout, int pendingLimit)
        {
            _stack = stack;
            if (size < 1)
            {
                size = 1;
            }
            _address = new uint[size];
            _mac = new ulong[size];
            _state = new int[size];
            _expires = new Instant[size];
            _nextRequest = new Instant[size];
            _requests = new int[size];
            _timeout = timeout;
            _pendingLimit = pendingLimit;
        }

        public int Size => _address.Length;

        public int State(int index) => _state[index];

        public uint Address(int index) => _address[index];

        public ulong Mac(int index) => _mac[index];

        public Instant Expires(int index) => _expires[index];

        public int PendingCount => _pending.Count;

        private int _lastHit;

        private int Find(uint address)
        {
            int last = _lastHit;
            if (_state[last] != StateFree && _address[last] == address)
            {
                return last; // the common case: one peer (gateway or test host) carries all traffic
            }
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] != StateFree && _address[i] == address)
                {
                    _lastHit = i;
                    return i;
                }
            }
            return -1;
        }

        /// <summary>Hardware address for <paramref name="address"/>; false when not (yet) known.</summary>
        public bool TryResolve(uint address, Instant now, out ulong mac)
        {
            int i = Find(address);
            if (i >= 0 && _state[i] == StateReachable)
            {
                mac = _mac[i];
                // Refresh an entry in use shortly before it expires, so a busy flow never waits for ARP.
                if (now > _expires[i] - _timeout / 4 && now >= _nextRequest[i])
                {
                    _nextRequest[i] = now + RetryInterval;
                    _stack.SendArp(ArpLayer.OpRequest, mac, address);
                }
                return true;
            }
            mac = 0;
            return false;
        }

        /// <summary>Queues a packet (Ethernet header not yet pushed) until <paramref name="address"/> resolves.</summary>
        public void QueueAndResolve(Packet packet, uint address, Instant now)
        {
            int i = Find(address);
            if (i < 0)
            {
                i = Allocate(now);
                _address[i] = address;
                _state[i] = StateIncomplete;
                _mac[i] = 0;
                _requests[i] = 0;
                _nextRequest[i] = now;
                _expires[i] = Instant.None;
            }
            if (_pending.Count >= _pendingLimit)
            {
                _stack.Counters[NetStatistics.ArpPendingDropped]++;
                packet.Free();
            }
            else
            {
                packet.Tag = address;
                _pending.Enqueue(packet);
            }
            if (now >= _nextRequest[i])
            {
                SendRequest(i, now);
            }
        }

        private void SendRequest(int i, Instant now)
        {
            _requests[i]++;
            _nextRequest[i] = now + RetryInterval;
            _stack.SendArp(ArpLayer.OpRequest, EthernetLayer.BroadcastMac, _address[i]);
        }

        private int Allocate(Instant now)
        {
            int victim = 0;
            Instant oldest = Instant.MaxValue;
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] == StateFree)
                {
                    return i;
                }
                if (_state[i] == StateReachable && _expires[i] < oldest)
                {
                    oldest = _expires[i];
                    victim = i;
                }
            }
            Remove(victim);
            return victim;
        }

        private void Remove(int i)
        {
            if (_state[i] == StateIncomplete)
            {
                DropPending(_address[i]);
            }
            _state[i] = StateFree;
            _address[i] = 0;
        }

        /// <summary>
        /// Learns a mapping from a received ARP packet. <paramref name="create"/> is true when the packet was
        /// addressed to us (RFC 826 merge: otherwise only existing entries are updated).
        /// </summary>
        public void Update(uint address, ulong mac, bool create, Instant now)
        {
            if (address == 0)
            {
                return;
            }
            int i = Find(address);
            if (i < 0)
            {
                if (!create)
                {
                    return;
                }
                i = Allocate(now);
                _address[i] = address;
            }
            _mac[i] = mac;
            _state[i] = StateReachable;
            _expires[i] = now + _timeout;
            _requests[i] = 0;
            _nextRequest[i] = now;
            FlushPending(address, mac);
        }

        private void FlushPending(uint address, ulong mac)
        {
            PacketQueue ready = default;
            _pending.MoveTagged(address, ref ready);
            while (!ready.IsEmpty)
            {
                _stack.TransmitFrame(ready.Dequeue(), mac);
            }
        }

        private void DropPending(uint address)
        {
            PacketQueue failed = default;
            _pending.MoveTagged(address, ref failed);
            _stack.Counters[NetStatistics.ArpResolveFailed] += failed.Count;
            failed.FreeAll();
        }

        /// <summary>Retries requests, gives up on unanswered ones, forgets expired entries.</summary>
        public void Poll(Instant now)
        {
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] == StateIncomplete)
                {
                    if (now >= _nextRequest[i])
                    {
                        if (_requests[i] >= MaxRequests)
                        {
                            _stack.NoteUnreachable(_address[i]);
                            Remove(i);
                        }
                        else
                        {
                            SendRequest(i, now);
                        }
                    }
                }
                else if (_state[i] == StateReachable && now > _expires[i] + MaxRequests * RetryInterval)
                {
                    Remove(i);
                }
            }
        }

        /// <summary>Frees every queued packet (stack shutdown).</summary>
        public void Clear()
        {
            _pending.FreeAll();
            for (int i = 0; i < _address.Length; i++)
            {
                _state[i] = StateFree;
            }
        }

        public void Print(ITextOutput output, Instant now)
        {
            for (int i = 0; i < _address.Length; i++)
            {
                if (_state[i] == StateFree)
                {
                    continue;
                }
                output.Write("  ");
                new IPv4Address(_address[i]).WriteTo(output);
                output.Write("  ");
                if (_state[i] == StateIncomplete)
                {
                    output.Write("(incomplete)");
                }
                else
                {
                    NetStack.WriteMac(output, _mac[i]);
                    output.Write("  expires in ");
                    output.Write((_expires[i] - now).Seconds);
                    output.Write(" s");
                }
                output.WriteLine();
            }
        }
    }
}
