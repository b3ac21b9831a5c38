using System.Threading;

namespace Keel.Tests.Fakes
{
    /// <summary>One descriptor of a chain as the device read it.</summary>
    public struct DeviceBuffer
    {
        public ulong Address;
        public int Length;
        public bool Writable;
    }

    /// <summary>
    /// The device side of one virtqueue, split or packed, written from the virtio specification (layouts and
    /// flags from <see cref="VirtioSpec"/>): takes the next available chain, hands back used buffers, honours
    /// the driver's interrupt suppression and publishes its own notification suppression. Every address is
    /// checked through <see cref="SimulatedMemory.DeviceAccess"/>. Used by the simulated entropy device and
    /// the control queue, and by the packed ring tests. Can misbehave on command (bad id, bad length).
    /// </summary>
    public sealed unsafe class DeviceRing
    {
        public const int MaxChain = 8;

        private readonly SimulatedMemory _memory;
        private readonly bool _packed;
        private readonly bool _eventIndex;
        private readonly int _size;
        private readonly byte* _desc;
        private readonly byte* _driver;
        private readonly byte* _device;

        // split
        private ushort _lastAvail;
        private ushort _usedIdx;

        // packed
        private int _nextAvail;
        private bool _availWrap = true;
        private int _nextUsed;
        private bool _usedWrap = true;
        private readonly int[] _chainSlots;

        public DeviceRing(SimulatedMemory memory, bool packed, bool eventIndex, int size, ulong descriptors, ulong driverArea, ulong deviceArea)
        {
            _memory = memory;
            _packed = packed;
            _eventIndex = eventIndex;
            _size = size;
            _desc = memory.DeviceAccess(descriptors, VirtioSpec.SplitDescriptorSize * size, "ring outside memory");
            _driver = memory.DeviceAccess(driverArea, packed ? 4 : VirtioSpec.SplitAvailHeader + 2 * size + 2, "driver area outside memory");
            _device = memory.DeviceAccess(deviceArea, packed ? 4 : VirtioSpec.SplitUsedHeader + 8 * size + 2, "device area outside memory");
            _chainSlots = new int[65536];
        }

        public int Size => _size;

        /// <summary>Interrupts suppressed by the driver when the last buffer was used.</summary>
        public long SuppressedInterrupts;

        /// <summary>
        /// Takes the next available chain into <paramref name="chain"/>; returns its id (split: head index,
        /// packed: buffer id) or -1 when none. Indirect descriptors are followed.
        /// </summary>
        public int Pop(DeviceBuffer[] chain, out int count)
        {
            count = 0;
            return _packed ? PopPacked(chain, ref count) : PopSplit(chain, ref count);
        }

        private int PopSplit(DeviceBuffer[] chain, ref int count)
        {
            ushort availIdx = Volatile.Read(ref *(ushort*)(_driver + 2));
            if (availIdx == _lastAvail)
            {
                return -1;
            }
            ushort head = ((ushort*)(_driver + VirtioSpec.SplitAvailHeader))[_lastAvail % _size];
            _lastAvail++;
            if (_eventIndex)
            {
                // avail_event: notify me when you pass what I have read.
                *(ushort*)(_device + VirtioSpec.SplitUsedHeader + 8 * _size) = _lastAvail;
            }
            int id = head;
            for (int guard = 0; guard < MaxChain; guard++)
            {
                if (id >= _size)
                {
                    _memory.RecordViolation("split: descriptor index out of range");
                    return -1;
                }
                byte* d = _desc + VirtioSpec.SplitDescriptorSize * id;
                ushort flags = *(ushort*)(d + 12);
                if ((flags & VirtioSpec.VIRTQ_DESC_F_INDIRECT) != 0)
                {
                    ReadIndirect(*(ulong*)d, (int)*(uint*)(d + 8), false, chain, ref count);
                    return head;
                }
                Add(chain, ref count, *(ulong*)d, (int)*(uint*)(d + 8), (flags & VirtioSpec.VIRTQ_DESC_F_WRITE) != 0);
                if ((flags & VirtioSpec.VIRTQ_DESC_F_NEXT) == 0)
                {
                    return head;
                }
                id = *(ushort*)(d + 14);
            }
            _memory.RecordViolation("split: chain too long");
            return -1;
        }

        private int PopPacked(DeviceBuffer[] chain, ref int count)
        {
            int position = _nextAvail;
            bool wrap = _availWrap;
            int slots = 0;
            int id = -1;
            for (int guard = 0; guard < MaxChain; guard++)
            {
                byte* d = _desc + VirtioSpec.PackedDescriptorSize * position;
                ushort flags = Volatile.Read(ref *(ushort*)(d + 14));
                bool avail = (flags & VirtioSpec.VIRTQ_DESC_F_AVAIL) != 0;
                bool used = (flags & VirtioSpec.VIRTQ_DESC_F_USED) != 0;
                // 2.8.1: available when AVAIL matches the device's wrap counter and USED does not.
                if (avail != wrap || used == wrap)
                {
                    if (slots > 0)
                    {
                        _memory.RecordViolation("packed: chain continues into a descriptor that is not available");
                    }
                    return -1;
                }
                id = *(ushort*)(d + 12);
                if ((flags & VirtioSpec.VIRTQ_DESC_F_INDIRECT) != 0)
                {
                    ReadIndirect(*(ulong*)d, (int)*(uint*)(d + 8), true, chain, ref count);
                }
                else
                {
                    Add(chain, ref count, *(ulong*)d, (int)*(uint*)(d + 8), (flags & VirtioSpec.VIRTQ_DESC_F_WRITE) != 0);
                }
                slots++;
                position++;
                if (position == _size)
                {
                    position = 0;
                    wrap = !wrap;
                }
                if ((flags & VirtioSpec.VIRTQ_DESC_F_NEXT) == 0)
                {
                    _nextAvail = position;
                    _availWrap = wrap;
                    _chainSlots[id] = slots;
                    return id;
                }
            }
            _memory.RecordViolation("packed: chain too long");
            return -1;
        }

        private void ReadIndirect(ulong address, int length, bool packed, DeviceBuffer[] chain, ref int count)
        {
            byte* table = _memory.DeviceAccess(address, length, "indirect table outside memory");
            if (table == null || length % 16 != 0)
            {
                return;
            }
            for (int k = 0; k < length / 16; k++)
            {
                byte* d = table + 16 * k;
                ushort flags = *(ushort*)(d + (packed ? 14 : 12));
                Add(chain, ref count, *(ulong*)d, (int)*(uint*)(d + 8), (flags & VirtioSpec.VIRTQ_DESC_F_WRITE) != 0);
            }
        }

        private void Add(DeviceBuffer[] chain, ref int count, ulong address, int length, bool writable)
        {
            if (_memory.DeviceAccess(address, length, "buffer outside memory") == null || count == chain.Length)
            {
                return;
            }
            chain[count].Address = address;
            chain[count].Length = length;
            chain[count].Writable = writable;
            count++;
        }

        /// <summary>
        /// Returns buffer <paramref name="id"/> with <paramref name="written"/> bytes. Returns true when the
        /// driver wants an interrupt for it (flags / event index honoured).
        /// </summary>
        public bool Push(int id, int written)
        {
            return _packed ? PushPacked(id, written) : PushSplit(id, written);
        }

        private bool PushSplit(int id, int written)
        {
            byte* element = _device + VirtioSpec.SplitUsedHeader + VirtioSpec.SplitUsedElementSize * (_usedIdx % _size);
            *(uint*)element = (uint)id;
            *(uint*)(element + 4) = (uint)written;
            ushort old = _usedIdx;
            _usedIdx++;
            Volatile.Write(ref *(ushort*)(_device + 2), _usedIdx);
            Interlocked.MemoryBarrier();
            bool want;
            if (_eventIndex)
            {
                ushort usedEvent = *(ushort*)(_driver + VirtioSpec.SplitAvailHeader + 2 * _size);
                want = VirtioSpec.vring_need_event(usedEvent, _usedIdx, old);
            }
            else
            {
                want = (*(ushort*)_driver & VirtioSpec.VIRTQ_AVAIL_F_NO_INTERRUPT) == 0;
            }
            if (!want)
            {
                SuppressedInterrupts++;
            }
            return want;
        }

        private bool PushPacked(int id, int written)
        {
            int slots = id >= 0 && id < _chainSlots.Length && _chainSlots[id] > 0 ? _chainSlots[id] : 1;
            byte* d = _desc + VirtioSpec.PackedDescriptorSize * _nextUsed;
            *(ushort*)(d + 12) = (ushort)id;
            *(uint*)(d + 8) = (uint)written;
            ushort flags = _usedWrap ? (ushort)(VirtioSpec.VIRTQ_DESC_F_AVAIL | VirtioSpec.VIRTQ_DESC_F_USED) : (ushort)0;
            _nextUsed += slots;
            if (_nextUsed >= _size)
            {
                _nextUsed -= _size;
                _usedWrap = !_usedWrap;
            }
            Volatile.Write(ref *(ushort*)(d + 14), flags);
            Interlocked.MemoryBarrier();
            ushort offWrap = *(ushort*)_driver;
            ushort eventFlags = *(ushort*)(_driver + 2);
            bool want;
            if (eventFlags == VirtioSpec.RING_EVENT_FLAGS_DISABLE)
            {
                want = false;
            }
            else if (eventFlags == VirtioSpec.RING_EVENT_FLAGS_DESC && _eventIndex)
            {
                // 2.8.10 (as QEMU vring_packed_need_event): off in the other wrap lap counts one ring length back.
                int off = offWrap & 0x7FFF;
                if (_usedWrap != ((offWrap >> 15) != 0))
                {
                    off -= _size;
                }
                want = VirtioSpec.vring_need_event((ushort)off, (ushort)_nextUsed, (ushort)(_nextUsed - slots));
            }
            else
            {
                want = true;
            }
            if (!want)
            {
                SuppressedInterrupts++;
            }
            return want;
        }

        /// <summary>Device notification suppression (the driver's kick_prepare reads it).</summary>
        public void SetNotifications(bool wanted)
        {
            if (_packed)
            {
                *(ushort*)(_device + 2) = wanted ? VirtioSpec.RING_EVENT_FLAGS_ENABLE : VirtioSpec.RING_EVENT_FLAGS_DISABLE;
            }
            else if (!_eventIndex)
            {
                *(ushort*)_device = wanted ? (ushort)0 : VirtioSpec.VIRTQ_USED_F_NO_NOTIFY;
            }
        }

        /// <summary>Writes a used element with an arbitrary id (fault injection), without the bookkeeping of <see cref="Push"/>.</summary>
        public void PushRaw(int id, int written)
        {
            if (_packed)
            {
                byte* d = _desc + VirtioSpec.PackedDescriptorSize * _nextUsed;
                *(ushort*)(d + 12) = (ushort)id;
                *(uint*)(d + 8) = (uint)written;
                ushort flags = _usedWrap ? (ushort)(VirtioSpec.VIRTQ_DESC_F_AVAIL | VirtioSpec.VIRTQ_DESC_F_USED) : (ushort)0;
                Volatile.Write(ref *(ushort*)(d + 14), flags);
                _nextUsed++;
                if (_nextUsed == _size)
                {
                    _nextUsed = 0;
                    _usedWrap = !_usedWrap;
                }
                return;
            }
            PushSplit(id, written);
        }
    }
}
