using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;

namespace Keel.Net.Ip
{
    /// <summary>
    /// IPv4 fragment reassembly (RFC 791/815) with a fixed number of slots. Fragments are held as the driver's
    /// packets, sorted by offset, overlaps trimmed; a complete datagram is copied once into transmit pages and
    /// handed to the protocols with a fresh 20-byte IP header. Anything odd is counted and dropped.
    /// </summary>
    internal sealed unsafe class Ipv4Reassembler
    {
        private const int MaxDatagram = 65535;
        private const int MaxFragmentsPerDatagram = 64;

        private readonly NetStack _stack;
        private readonly uint[] _source;
        private readonly uint[] _destination;
        private readonly int[] _id;
        private readonly int[] _protocol;
        private readonly int[] _total;
        private readonly int[] _received;
        private readonly int[] _count;
        private readonly Instant[] _deadline;
        private readonly Packet[] _head;
        private readonly bool[] _used;
        private readonly Duration _timeout;

        public Ipv4Reassembler(NetStack stack, int slots, Duration timeout)
        {
            _stack = stack;
            _source = new uint[slots];
            _destination = new uint[slots];
            _id = new int[slots];
            _protocol = new int[slots];
            _total = new int[slots];
            _received = new int[slots];
            _count = new int[slots];
            _deadline = new Instant[slots];
            _head = new Packet[slots];
            _used = new bool[slots];
            _timeout = timeout;
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
            if (_used.Length == 0 || length <= 0 || offset + length > MaxDatagram - Ipv4Layer.HeaderLength ||
                (more && (length & 7) != 0))
            {
                Drop(packet);
                return;
            }
            int slot = Find(source, destination, id, protocol);
            if (slot < 0)
            {
                slot = Allocate(now);
                _source[slot] = source;
                _destination[slot] = destination;
                _id[slot] = id;
                _protocol[slot] = protocol;
                _total[slot] = -1;
                _received[slot] = 0;
                _count[slot] = 0;
                _head[slot] = null;
                _deadline[slot] = now + _timeout;
                _used[slot] = true;
            }
            packet.Pull(headerLength);
            if (!more)
            {
                int end = offset + length;
                if ((_total[slot] >= 0 && _total[slot] != end) || end < FragmentChain.End(_head[slot]))
                {
                    Discard(slot);
                    Drop(packet);
                    return;
                }
                _total[slot] = end;
            }
            else if (_total[slot] >= 0 && offset + length > _total[slot])
            {
                Discard(slot);
                Drop(packet);
                return;
            }
            if (!Insert(slot, packet, offset))
            {
                return;
            }
            if (_total[slot] >= 0 && _received[slot] == _total[slot])
            {
                Complete(slot);
            }
        }

        /// <summary>Inserts a fragment sorted by offset, trimming bytes already held. False when it was dropped.</summary>
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
                    Discard(slot);
                    Drop(packet);
                    return false;
                }
                packet.TrimTo((int)next.Tag - offset);
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
            return true;
        }

        private void Complete(int slot)
        {
            int total = _total[slot];
            Packet whole = _stack.AllocateTransmit();
            if (whole == null)
            {
                Discard(slot);
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
            bool ok = FragmentChain.AppendChain(whole, _head[slot], _stack.TransmitPages, _stack.Counters);
            uint source = _source[slot];
            uint destination = _destination[slot];
            int protocol = _protocol[slot];
            Discard(slot);
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
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i] && _id[i] == id && _source[i] == source && _destination[i] == destination && _protocol[i] == protocol)
                {
                    return i;
                }
            }
            return -1;
        }

        private int Allocate(Instant now)
        {
            int oldest = 0;
            for (int i = 0; i < _used.Length; i++)
            {
                if (!_used[i])
                {
                    return i;
                }
                if (_deadline[i] < _deadline[oldest])
                {
                    oldest = i;
                }
            }
            _stack.Counters[NetStatistics.IpReasmDropped]++;
            Discard(oldest);
            return oldest;
        }

        private void Drop(Packet packet)
        {
            _stack.Counters[NetStatistics.IpReasmDropped]++;
            packet.Free();
        }

        private void Discard(int slot)
        {
            FragmentChain.Free(_head[slot]);
            _head[slot] = null;
            _used[slot] = false;
        }

        public void Poll(Instant now)
        {
            for (int i = 0; i < _used.Length; i++)
            {
                if (_used[i] && now >= _deadline[i])
                {
                    _stack.Counters[NetStatistics.IpReasmTimeouts]++;
                    Discard(i);
                }
            }
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
