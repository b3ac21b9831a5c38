namespace Keel.Buffers
{
    /// <summary>
    /// FIFO of packets linked through <see cref="Packet.Next"/>. Needs no memory of its own;
    /// a packet may sit on one queue at a time.
    /// </summary>
    public struct PacketQueue
    {
        private Packet _head;
        private Packet _tail;

        /// <summary>Packets on the queue.</summary>
        public int Count { get; private set; }

        /// <summary>Sum of <see cref="Packet.Length"/> of the queued packets.</summary>
        public int Bytes { get; private set; }

        /// <summary>Sum of <see cref="Packet.TrueSize"/> of the queued packets (memory charged).</summary>
        public int TrueSize { get; private set; }

        public bool IsEmpty => _head == null;

        /// <summary>First packet, still on the queue; null when empty.</summary>
        public Packet Peek() => _head;

        public void Enqueue(Packet packet)
        {
            packet.Next = null;
            if (_tail == null)
            {
                _head = packet;
            }
            else
            {
                _tail.Next = packet;
            }
            _tail = packet;
            Count++;
            Bytes += packet.Length;
            TrueSize += packet.TrueSize;
        }

        /// <summary>
        /// Appends <paramref name="packet"/>'s bytes to the last packet without a copy (<see cref="Packet.TryAppendPacket"/>);
        /// true when done — <paramref name="packet"/> is then empty and the caller frees it.
        /// </summary>
        public bool TryCoalesceTail(Packet packet)
        {
            if (_tail == null)
            {
                return false;
            }
            int length = packet.Length;
            int before = _tail.TrueSize;
            if (!_tail.TryAppendPacket(packet))
            {
                return false;
            }
            Bytes += length;
            TrueSize += _tail.TrueSize - before;
            return true;
        }

        /// <summary>Puts a packet back at the front (e.g. a frame the device refused, to be retried first).</summary>
        public void PushFront(Packet packet)
        {
            packet.Next = _head;
            _head = packet;
            if (_tail == null)
            {
                _tail = packet;
            }
            Count++;
            Bytes += packet.Length;
            TrueSize += packet.TrueSize;
        }

        /// <summary>Removes and returns the first packet; null when empty.</summary>
        public Packet Dequeue()
        {
            Packet packet = _head;
            if (packet == null)
            {
                return null;
            }
            _head = packet.Next;
            if (_head == null)
            {
                _tail = null;
            }
            packet.Next = null;
            Count--;
            Bytes -= packet.Length;
            TrueSize -= packet.TrueSize;
            return packet;
        }

        /// <summary>
        /// Call after changing the length of the head packet in place (for example after a partial read),
        /// so <see cref="Bytes"/> stays true.
        /// </summary>
        public void AdjustBytes(int delta)
        {
            Bytes += delta;
        }

        /// <summary>
        /// Moves every packet whose <see cref="Packet.Tag"/> is <paramref name="tag"/> to the end of
        /// <paramref name="target"/>, keeping the order of both (packets waiting for one address resolution).
        /// </summary>
        public void MoveTagged(uint tag, ref PacketQueue target)
        {
            int count = Count;
            for (int k = 0; k < count; k++)
            {
                Packet packet = Dequeue();
                if (packet.Tag == tag)
                {
                    target.Enqueue(packet);
                }
                else
                {
                    Enqueue(packet);
                }
            }
        }

        /// <summary>Frees every queued packet.</summary>
        public void FreeAll()
        {
            Packet packet;
            while ((packet = Dequeue()) != null)
            {
                packet.Free();
            }
        }
    }
}
