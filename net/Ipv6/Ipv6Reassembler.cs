using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// IPv6 fragment reassembly (RFC 8200 section 4.5) in a fixed number of slots, with a cap on the fragments
    /// held by all slots together (memory stays bounded under a flood) and a 60 s timeout. A datagram with
    /// overlapping fragments is dropped whole (RFC 5722; exact duplicates are only ignored), as is one whose first
    /// fragment does not hold the whole header chain up to the upper-layer header (RFC 7112). Fragments are held
    /// as received; a complete datagram is copied once into transmit pages behind a fresh IPv6 header and walked
    /// again from the header after the fragment header.
    /// </summary>
    internal sealed unsafe class Ipv6Reassembler
    {
        private const int MaxDatagram = 65535;
        private const int MaxFragmentsPerDatagram = 64;

        private readonly Ipv6Layer _ip;
        private readonly long[] _counters;
        private readonly IPv6Address[] _source;
        private readonly IPv6Address[] _destination;
        private readonly uint[] _id;
        private readonly int[] _nextHeader;
        private readonly int[] _total;
        private readonly int[] _received;
        private readonly int[] _count;
        private readonly int[] _hopLimit;

        /// <summary>Bytes of headers in front of the first fragment's data (IPv6, extension and fragment headers), put
        /// back in front of it for the Time Exceeded message; 0 until the first fragment came.</summary>
        private readonly int[] _firstHeaders;
        private readonly Instant[] _deadline;
        private readonly Packet[] _head;
        private readonly bool[] _used;
        private readonly int _packetLimit;
        private readonly Duration _timeout;
        private int _held;

        public Ipv6Reassembler(Ipv6Layer ip, int slots, int packetLimit, Duration timeout)
        {
            _ip = ip;
            _counters = ip.Counters;
            _source = new IPv6Address[slots];
            _destination = new IPv6Address[slots];
            _id = new uint[slots];
            _nextHeader = new int[slots];
            _total = new int[slots];
            _received = new int[slots];
            _count = new int[slots];
            _hopLimit = new int[slots];
            _firstHeaders = new int[slots];
            _deadline = new Instant[slots];
            _head = new Packet[slots];
            _used = new bool[slots];
            _packetLimit = packetLimit;
            _timeout = timeout;
        }

        /// <summary>Fragments held by all slots.</summary>
        public int Held => _held;

        /// <summary>Takes a fragment: data at its IPv6 header, the fragment header at <paramref name="offset"/> (linear).</summary>
        public void Input(Packet packet, int offset, in Ipv6Inbound info, Instant now)
        {
            byte* f = packet.Data + offset;
            int nextHeader = f[0];
            int field = NetBytes.Read16(f + 2);
            uint id = NetBytes.Read32(f + 4);
            int fragmentOffset = field & 0xFFF8;
            bool more = (field & 1) != 0;
            int start = offset + Ipv6Layer.FragmentHeaderLength;
            int length = packet.Length - start;
            if (_used.Length == 0 || length <= 0 || fragmentOffset + length > MaxDatagram - Ipv6Layer.HeaderLength ||
                (more && (length & 7) != 0))
            {
                Drop(packet);
                return;
            }
            if (fragmentOffset == 0 && !ChainComplete(packet, start, nextHeader))
            {
                _counters[Ipv6Statistics.ReasmIncompleteChain]++;
                _ip.Icmp.SendError(packet, Icmpv6Layer.TypeParameterProblem, Icmpv6Layer.CodeIncompleteChain, 0, in info, false);
                Discard(Find(info.Source, info.Destination, id));
                Drop(packet);
                return;
            }
            if (_held >= _packetLimit)
            {
                Discard(Oldest());
            }
            int slot = Find(info.Source, info.Destination, id);
            if (slot < 0)
            {
                slot = Allocate();
                _source[slot] = info.Source;
                _destination[slot] = info.Destination;
                _id[slot] = id;
                _nextHeader[slot] = -1;
                _firstHeaders[slot] = 0;
                _total[slot] = -1;
                _received[slot] = 0;
                _count[slot] = 0;
                _head[slot] = null;
                _deadline[slot] = now + _timeout;
                _used[slot] = true;
            }
            if (fragmentOffset == 0)
            {
                _nextHeader[slot] = nextHeader;
                _hopLimit[slot] = info.HopLimit;
                _firstHeaders[slot] = start;
            }
            int end = fragmentOffset + length;
            if (!more)
            {
                if ((_total[slot] >= 0 && _total[slot] != end) || end < FragmentChain.End(_head[slot]))
                {
                    Discard(slot);
                    Drop(packet);
                    return;
                }
                _total[slot] = end;
            }
            else if (_total[slot] >= 0 && end > _total[slot])
            {
                Discard(slot);
                Drop(packet);
                return;
            }
            packet.Pull(start);
            if (!Insert(slot, packet, fragmentOffset))
            {
                return;
            }
            if (_total[slot] >= 0 && _received[slot] == _total[slot] && _nextHeader[slot] >= 0)
            {
                Complete(slot, in info);
            }
        }

        /// <summary>
        /// True when the headers from <paramref name="start"/> (the first of type <paramref name="nextHeader"/>) reach
        /// an upper-layer header inside the packet (RFC 7112 section 5).
        /// </summary>
        private static bool ChainComplete(Packet packet, int start, int nextHeader)
        {
            int at = start;
            for (int headers = 0; headers <= Ipv6Layer.MaxExtensionHeaders; headers++)
            {
                if (nextHeader != Ipv6Layer.NextDestinationOptions && nextHeader != Ipv6Layer.NextRouting &&
                    nextHeader != Ipv6Layer.NextHopByHop && nextHeader != Ipv6Layer.NextFragment)
                {
                    // The upper-layer header must be there too; the smallest (UDP, ICMPv6 with its checksum) is 4 to 8 bytes.
                    return nextHeader == Ipv6Layer.NextNone || at + 4 <= packet.Length;
                }
                if (nextHeader == Ipv6Layer.NextFragment || !packet.EnsureLinear(at + 2))
                {
                    return false;
                }
                byte* h = packet.Data + at;
                nextHeader = h[0];
                at += (h[1] + 1) * 8;
            }
            return false;
        }

        /// <summary>Inserts a fragment sorted by offset. False when it was dropped (a duplicate, or an overlap that ends the datagram).</summary>
        private bool Insert(int slot, Packet packet, int offset)
        {
            if (_count[slot] >= MaxFragmentsPerDatagram)
            {
                Discard(slot);
                Drop(packet);
                return false;
            }
            Packet previous = null;
            Packet next = _head[slot];
            while (next != null && (int)next.Tag < offset)
            {
                previous = next;
                next = next.Next;
            }
            int end = offset + packet.Length;
            if (next != null && (int)next.Tag == offset && next.Length == packet.Length)
            {
                packet.Free(); // an exact duplicate (RFC 8200 section 4.5 allows dropping only it)
                return false;
            }
            if ((previous != null && (int)previous.Tag + previous.Length > offset) || (next != null && (int)next.Tag < end))
            {
                _counters[Ipv6Statistics.ReasmOverlaps]++;
                Discard(slot);
                Drop(packet);
                return false;
            }
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
            _held++;
            return true;
        }

        private void Complete(int slot, in Ipv6Inbound last)
        {
            int total = _total[slot];
            Packet whole = _ip.Stack.AllocateTransmit();
            if (whole == null)
            {
                Discard(slot);
                _counters[Ipv6Statistics.ReasmDropped]++;
                return;
            }
            byte* ip = whole.Put(Ipv6Layer.HeaderLength);
            NetBytes.Write32(ip, (uint)Ipv6Layer.Version << 28);
            NetBytes.Write16(ip + 4, total);
            ip[6] = (byte)_nextHeader[slot];
            ip[7] = (byte)_hopLimit[slot];
            NetBytes.WriteIPv6(ip + 8, _source[slot]);
            NetBytes.WriteIPv6(ip + 24, _destination[slot]);
            bool ok = FragmentChain.AppendChain(whole, _head[slot], _ip.Stack.TransmitPages, _ip.Stack.Counters);
            int nextHeader = _nextHeader[slot];
            Ipv6Inbound info = new Ipv6Inbound(_source[slot], _destination[slot], _hopLimit[slot], last.LinkMulticast, last.ToTentative);
            Discard(slot);
            if (!ok || whole.Length != total + Ipv6Layer.HeaderLength)
            {
                _counters[Ipv6Statistics.ReasmDropped]++;
                whole.Free();
                return;
            }
            _counters[Ipv6Statistics.Reassembled]++;
            _ip.Walk(whole, nextHeader, Ipv6Layer.HeaderLength, 6, in info, true);
        }

        private int Find(IPv6Address source, IPv6Address destination, uint id)
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i] && _id[i] == id && _source[i] == source && _destination[i] == destination)
                {
                    return i;
                }
            }
            return -1;
        }

        private int Oldest()
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

        private int Allocate()
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (!_used[i])
                {
                    return i;
                }
            }
            int oldest = Oldest();
            Discard(oldest);
            return oldest;
        }

        private void Drop(Packet packet)
        {
            _counters[Ipv6Statistics.ReasmDropped]++;
            packet.Free();
        }

        /// <summary>Frees a slot's fragments (nothing for -1).</summary>
        private void Discard(int slot)
        {
            if (slot < 0)
            {
                return;
            }
            _held -= FragmentChain.Free(_head[slot]);
            _head[slot] = null;
            _used[slot] = false;
        }

        public void Poll(Instant now)
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i] && now >= _deadline[i])
                {
                    _counters[Ipv6Statistics.ReasmTimeouts]++;
                    TimeExceeded(i);
                    Discard(i);
                }
            }
        }

        /// <summary>
        /// RFC 8200 section 4.5: when the first fragment came, its source gets Time Exceeded code 1 quoting it (its
        /// headers are still in front of its data in the linear area).
        /// </summary>
        private void TimeExceeded(int slot)
        {
            Packet first = _head[slot];
            if (first == null || first.Tag != 0 || _firstHeaders[slot] == 0 || first.Push(_firstHeaders[slot]) == null)
            {
                return;
            }
            Ipv6Inbound info = new Ipv6Inbound(_source[slot], _destination[slot], _hopLimit[slot], false, false);
            _ip.Icmp.SendError(first, Icmpv6Layer.TypeTimeExceeded, Icmpv6Layer.CodeReassemblyTimeExceeded, 0, in info, false);
        }

        public void Clear()
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
