using Keel.Buffers;
using Keel.Hal;

namespace Keel.Net.Internal
{
    /// <summary>
    /// The slots of a fragment reassembler, shared by IPv4's and IPv6's (each keeps its own key per slot beside these
    /// and its own overlap rule): per slot the fragments held (a <see cref="FragmentChain"/> sorted by offset), the
    /// datagram's length once the last fragment told it, the bytes and fragments held, and the deadline; a full table
    /// gives up the slot closest to its deadline; expiry; and the count of fragments held by all slots.
    /// </summary>
    internal sealed class ReassemblySlots
    {
        /// <summary>Fragments one datagram may have; more and it is dropped.</summary>
        internal const int MaxFragmentsPerDatagram = 64;

        private readonly Packet[] _head;
        private readonly bool[] _used;
        private readonly Instant[] _deadline;
        private readonly int[] _total;
        private readonly int[] _received;
        private readonly int[] _count;
        private readonly Duration _timeout;

        public ReassemblySlots(int slots, Duration timeout)
        {
            _head = new Packet[slots];
            _used = new bool[slots];
            _deadline = new Instant[slots];
            _total = new int[slots];
            _received = new int[slots];
            _count = new int[slots];
            _timeout = timeout;
        }

        /// <summary>Number of slots (0: reassembly off).</summary>
        internal int Length => _used.Length;

        /// <summary>Fragments held by all slots.</summary>
        internal int Held { get; private set; }

        internal bool InUse(int slot) => _used[slot];

        /// <summary>The first fragment held (lowest offset), or null.</summary>
        internal Packet Head(int slot) => _head[slot];

        /// <summary>
        /// A slot for a new datagram, its deadline <c>now</c> + the timeout: a free one, else the one closest to its
        /// deadline, whose fragments are freed (<paramref name="evicted"/>).
        /// </summary>
        internal int Open(Instant now, out bool evicted)
        {
            evicted = false;
            int slot = -1;
            for (int i = 0; i < _used.Length; i++)
            {
                if (!_used[i])
                {
                    slot = i;
                    break;
                }
            }
            if (slot < 0)
            {
                slot = Oldest();
                Discard(slot);
                evicted = true;
            }
            _head[slot] = null;
            _total[slot] = -1;
            _received[slot] = 0;
            _count[slot] = 0;
            _deadline[slot] = now + _timeout;
            _used[slot] = true;
            return slot;
        }

        /// <summary>
        /// Checks a fragment ending at <paramref name="end"/> against the datagram's length: the last one
        /// (<paramref name="more"/> false) sets it, and must agree with an earlier last one and end after every fragment
        /// held; any other must end within it. False when the fragment contradicts the datagram (drop both).
        /// </summary>
        internal bool TakeEnd(int slot, int end, bool more)
        {
            if (!more)
            {
                if ((_total[slot] >= 0 && _total[slot] != end) || end < FragmentChain.End(_head[slot]))
                {
                    return false;
                }
                _total[slot] = end;
                return true;
            }
            return _total[slot] < 0 || end <= _total[slot];
        }

        /// <summary>True when the slot holds <see cref="MaxFragmentsPerDatagram"/> fragments.</summary>
        internal bool Full(int slot) => _count[slot] >= MaxFragmentsPerDatagram;

        /// <summary>Links <paramref name="packet"/> (its data the fragment's, at <paramref name="offset"/>) between
        /// <paramref name="previous"/> (null: first) and <paramref name="next"/>, and counts it.</summary>
        internal void Link(int slot, Packet previous, Packet packet, Packet next, int offset)
        {
            packet.Tag = (uint)offset;
            packet.Next = next;
            if (previous == null)
            {
                _head[slot] = packet;
            }
            else
            {
                previous.Next = packet;
            }
            _received[slot] += packet.Length;
            _count[slot]++;
            Held++;
        }

        /// <summary>True when the datagram's length is known and every byte of it is held.</summary>
        internal bool Complete(int slot) => _total[slot] >= 0 && _received[slot] == _total[slot];

        /// <summary>The datagram's length (meaningful once <see cref="Complete"/>).</summary>
        internal int Total(int slot) => _total[slot];

        /// <summary>The used slot closest to its deadline, or -1 when none is used.</summary>
        internal int Oldest()
        {
            int oldest = -1;
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i] && (oldest < 0 || _deadline[i] < _deadline[oldest]))
                {
                    oldest = i;
                }
            }
            return oldest;
        }

        /// <summary>The first used slot from <paramref name="from"/> on whose deadline has passed, or -1.</summary>
        internal int NextExpired(Instant now, int from)
        {
            for (int i = from; i < _used.Length; i++)
            {
                if (_used[i] && now >= _deadline[i])
                {
                    return i;
                }
            }
            return -1;
        }

        /// <summary>Frees a slot's fragments (nothing for -1).</summary>
        internal void Discard(int slot)
        {
            if (slot < 0)
            {
                return;
            }
            Held -= FragmentChain.Free(_head[slot]);
            _head[slot] = null;
            _used[slot] = false;
        }

        /// <summary>Frees every slot's fragments (shutdown).</summary>
        internal void Clear()
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i])
                {
                    Discard(i);
                }
            }
        }
    }
}
