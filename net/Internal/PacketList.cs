using Keel.Buffers;

namespace Keel.Net.Internal
{
    /// <summary>FIFO of packets linked through Packet.Next that can also put a packet back at the front.</summary>
    internal struct PacketList
    {
        private Packet _head;
        private Packet _tail;

        public int Count { get; private set; }

        public bool IsEmpty => _head == null;

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
        }

        public void PushFront(Packet packet)
        {
            packet.Next = _head;
            _head = packet;
            if (_tail == null)
            {
                _tail = packet;
            }
            Count++;
        }

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
            return packet;
        }

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
