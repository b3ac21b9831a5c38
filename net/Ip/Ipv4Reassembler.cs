using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;

namespace Keel.Net.Ip
{
    /// <summary>
    /// IPv4 fragment reassembly (RFC 791/815) with a fixed number of slots. Fragments are held as the driver's
    /// packets, sorted by offset, overlaps trimmed; a complete datagram is copied once into transmit pages and
    /// handed to the protocols with a fresh 20-byte IP header. Anything odd is counted and dropped. The slots,
    /// their deadlines and lengths are <see cref="ReassemblySlots"/>; this class keeps each slot's key.
    /// </summary>
    internal sealed unsafe class Ipv4Reassembler
    {
        private const int MaxDatagram = 65535;

        private readonly NetStack _stack;
        private readonly ReassemblySlots _slots;
        private readonly uint[] _source;
        private readonly uint[] _destination;
        private readonly int[] _id;
        private readonly int[] _protocol;

        public Ipv4Reassembler(NetStack stack, int slots, Duration timeout)
        {
            _stack = stack;
            _slots = new ReassemblySlots(slots, timeout);
            _source = new uint[slots];
            _destination = new uint[slots];
            _id = new int[slots];
            _protocol = new int[slots];
        }

        /// <summary>Takes a fragment (data at its IPv4 header, header already validated).</summary>
        public void Input(Packet packet, int headerLength, uint source, uint destination, Instant now)
        {
            byte* ip = packet.Data;
            int id = NetBytes.Read16(ip + 4);
            int protocol = ip[9];
            int field = NetBytes.Read16(ip + 6);
            int offset = (field & Ipv4Layer.FragmentOffsetMask) * 8;
            bool more = (field & Ipv4Layer.FlagMoreFragments) != 0;
            int length = packet.Length - headerLength;
            if (_slots.Length == 0 || length <= 0 || offset + length > MaxDatagram - Ipv4Layer.HeaderLength ||
                (more && (length & 7) != 0))
            {
                Drop(packet);
                return;
            }
            int slot = Find(source, destination, id, protocol);
            if (slot < 0)
            {
                slot = _slots.Open(now, out bool evicted);
                if (evicted)
                {
                    _stack.Counters[NetStatistics.IpReasmDropped]++;
                }
                _source[slot] = source;
                _destination[slot] = destination;
                _id[slot] = id;
                _protocol[slot] = protocol;
            }
            packet.Pull(headerLength);
            if (!_slots.TakeEnd(slot, offset + length, more))
            {
                _slots.Discard(slot);
                Drop(packet);
                return;
            }
            if (!Insert(slot, packet, offset))
            {
                return;
            }
            if (_slots.Complete(slot))
            {
                Complete(slot);
            }
        }

        /// <summary>Inserts a fragment sorted by offset, trimming bytes already held. False when it was dropped.</summary>
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
            while (next != null && (int)next.Tag <= offset)
            {
                previous = next;
                next = next.Next;
            }
            int end = offset + packet.Length;
            if (previous != null)
            {
                int previousEnd = (int)previous.Tag + previous.Length;
                if (previousEnd >= end)
                {
                    packet.Free(); // duplicate
                    return false;
                }
                if (previousEnd > offset)
                {
                    packet.Pull(previousEnd - offset);
                    offset = previousEnd;
                }
            }
            if (next != null && (int)next.Tag < end)
            {
                // Trim our tail to the next fragment; swallowed followers are rare, drop the datagram then.
                if ((int)next.Tag + next.Length <= end)
                {
                    _slots.Discard(slot);
                    Drop(packet);
                    return false;
                }
                packet.TrimTo((int)next.Tag - offset);
            }
            _slots.Link(slot, previous, packet, next, offset);
            return true;
        }

        private void Complete(int slot)
        {
            int total = _slots.Total(slot);
            Packet whole = _stack.AllocateTransmit();
            if (whole == null)
            {
                _slots.Discard(slot);
                _stack.Counters[NetStatistics.IpReasmDropped]++;
                return;
            }
            byte* ip = whole.Put(Ipv4Layer.HeaderLength);
            ip[0] = 0x45;
            ip[1] = 0;
            NetBytes.Write16(ip + 2, total + Ipv4Layer.HeaderLength);
            NetBytes.Write16(ip + 4, _id[slot]);
            NetBytes.Write16(ip + 6, 0);
            ip[8] = 1;
            ip[9] = (byte)_protocol[slot];
            *(ushort*)(ip + 10) = 0;
            NetBytes.Write32(ip + 12, _source[slot]);
            NetBytes.Write32(ip + 16, _destination[slot]);
            *(ushort*)(ip + 10) = Checksum.Finish(Checksum.Sum(ip, Ipv4Layer.HeaderLength));
            bool ok = FragmentChain.AppendChain(whole, _slots.Head(slot), _stack.TransmitPages, _stack.Counters);
            uint source = _source[slot];
            uint destination = _destination[slot];
            int protocol = _protocol[slot];
            _slots.Discard(slot);
            if (!ok || whole.Length != total + Ipv4Layer.HeaderLength)
            {
                _stack.Counters[NetStatistics.IpReasmDropped]++;
                whole.Free();
                return;
            }
            _stack.Counters[NetStatistics.IpReassembled]++;
            _stack.Deliver(whole, Ipv4Layer.HeaderLength, source, destination, protocol, _stack.IsBroadcast(destination));
        }

        private int Find(uint source, uint destination, int id, int protocol)
        {
            for (int i = 0; i < _slots.Length; i++)
            {
                if (_slots.InUse(i) && _id[i] == id && _source[i] == source && _destination[i] == destination && _protocol[i] == protocol)
                {
                    return i;
                }
            }
            return -1;
        }

        private void Drop(Packet packet)
        {
            _stack.Counters[NetStatistics.IpReasmDropped]++;
            packet.Free();
        }

        public void Poll(Instant now)
        {
            for (int i = _slots.NextExpired(now, 0); i >= 0; i = _slots.NextExpired(now, i + 1))
            {
                _stack.Counters[NetStatistics.IpReasmTimeouts]++;
                _slots.Discard(i);
            }
        }

        public void Clear() => _slots.Clear();
    }
}
