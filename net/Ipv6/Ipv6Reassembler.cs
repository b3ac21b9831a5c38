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
    /// again from the header after the fragment header. The slots, their deadlines and lengths are
    /// <see cref="ReassemblySlots"/>; this class keeps each slot's key and first-fragment details.
    /// </summary>
    internal sealed unsafe class Ipv6Reassembler
    {
        private const int MaxDatagram = 65535;

        private readonly Ipv6Layer _ip;
        private readonly long[] _counters;
        private readonly ReassemblySlots _slots;
        private readonly IPv6Address[] _source;
        private readonly IPv6Address[] _destination;
        private readonly uint[] _id;
        private readonly int[] _nextHeader;
        private readonly int[] _hopLimit;

        /// <summary>Bytes of headers in front of the first fragment's data (IPv6, extension and fragment headers), put
        /// back in front of it for the Time Exceeded message; 0 until the first fragment came.</summary>
        private readonly int[] _firstHeaders;
        private readonly int _packetLimit;

        public Ipv6Reassembler(Ipv6Layer ip, int slots, int packetLimit, Duration timeout)
        {
            _ip = ip;
            _counters = ip.Counters;
            _slots = new ReassemblySlots(slots, timeout);
            _source = new IPv6Address[slots];
            _destination = new IPv6Address[slots];
            _id = new uint[slots];
            _nextHeader = new int[slots];
            _hopLimit = new int[slots];
            _firstHeaders = new int[slots];
            _packetLimit = packetLimit;
        }

        /// <summary>Fragments held by all slots.</summary>
        public int Held => _slots.Held;

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
            if (_slots.Length == 0 || length <= 0 || fragmentOffset + length > MaxDatagram - Ipv6Layer.HeaderLength ||
                (more && (length & 7) != 0))
            {
                Drop(packet);
                return;
            }
            if (fragmentOffset == 0 && !ChainComplete(packet, start, nextHeader))
            {
                _counters[Ipv6Statistics.ReasmIncompleteChain]++;
                _ip.Icmp.SendError(packet, Icmpv6Layer.TypeParameterProblem, Icmpv6Layer.CodeIncompleteChain, 0, in info, false);
                _slots.Discard(Find(info.Source, info.Destination, id));
                Drop(packet);
                return;
            }
            if (_slots.Held >= _packetLimit)
            {
                _slots.Discard(_slots.Oldest());
            }
            int slot = Find(info.Source, info.Destination, id);
            if (slot < 0)
            {
                slot = _slots.Open(now, out _);
                _source[slot] = info.Source;
                _destination[slot] = info.Destination;
                _id[slot] = id;
                _nextHeader[slot] = -1;
                _firstHeaders[slot] = 0;
            }
            if (fragmentOffset == 0)
            {
                _nextHeader[slot] = nextHeader;
                _hopLimit[slot] = info.HopLimit;
                _firstHeaders[slot] = start;
            }
            if (!_slots.TakeEnd(slot, fragmentOffset + length, more))
            {
                _slots.Discard(slot);
                Drop(packet);
                return;
            }
            packet.Pull(start);
            if (!Insert(slot, packet, fragmentOffset))
            {
                return;
            }
            if (_slots.Complete(slot) && _nextHeader[slot] >= 0)
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
            if (_slots.Full(slot))
            {
                _slots.Discard(slot);
                Drop(packet);
                return false;
            }
            Packet previous = null;
            Packet next = _slots.Head(slot);
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
                _slots.Discard(slot);
                Drop(packet);
                return false;
            }
            _slots.Link(slot, previous, packet, next, offset);
            return true;
        }

        private void Complete(int slot, in Ipv6Inbound last)
        {
            int total = _slots.Total(slot);
            Packet whole = _ip.Stack.AllocateTransmit();
            if (whole == null)
            {
                _slots.Discard(slot);
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
            bool ok = FragmentChain.AppendChain(whole, _slots.Head(slot), _ip.Stack.TransmitPages, _ip.Stack.Counters);
            int nextHeader = _nextHeader[slot];
            Ipv6Inbound info = new Ipv6Inbound(_source[slot], _destination[slot], _hopLimit[slot], last.LinkMulticast, last.ToTentative);
            _slots.Discard(slot);
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
            for (int i = 0; i < _slots.Length; i++)
            {
                if (_slots.InUse(i) && _id[i] == id && _source[i] == source && _destination[i] == destination)
                {
                    return i;
                }
            }
            return -1;
        }

        private void Drop(Packet packet)
        {
            _counters[Ipv6Statistics.ReasmDropped]++;
            packet.Free();
        }

        public void Poll(Instant now)
        {
            for (int i = _slots.NextExpired(now, 0); i >= 0; i = _slots.NextExpired(now, i + 1))
            {
                _counters[Ipv6Statistics.ReasmTimeouts]++;
                TimeExceeded(i);
                _slots.Discard(i);
            }
        }

        /// <summary>
        /// RFC 8200 section 4.5: when the first fragment came, its source gets Time Exceeded code 1 quoting it (its
        /// headers are still in front of its data in the linear area).
        /// </summary>
        private void TimeExceeded(int slot)
        {
            Packet first = _slots.Head(slot);
            if (first == null || first.Tag != 0 || _firstHeaders[slot] == 0 || first.Push(_firstHeaders[slot]) == null)
            {
                return;
            }
            Ipv6Inbound info = new Ipv6Inbound(_source[slot], _destination[slot], _hopLimit[slot], false, false);
            _ip.Icmp.SendError(first, Icmpv6Layer.TypeTimeExceeded, Icmpv6Layer.CodeReassemblyTimeExceeded, 0, in info, false);
        }

        public void Clear() => _slots.Clear();
    }
}
