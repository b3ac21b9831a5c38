using System.Runtime.InteropServices;
using System.Threading;
using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>One descriptor of a packed ring ("struct pvirtq_desc"), 16 bytes; also the indirect table entry.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PackedDescriptor
    {
        public ulong Address;
        public uint Length;
        public ushort Id;
        public ushort Flags;
    }

    /// <summary>
    /// A packed virtqueue (virtio 1.1 "Packed Virtqueues", Linux virtio_ring.c packed half): one descriptor ring
    /// both sides write, driver and device event suppression structures behind it, wrap counters instead of
    /// free-running indices. Same operations and contract as <see cref="SplitVirtqueue"/> (both sit behind
    /// <see cref="Virtqueue"/>).
    /// <para>
    /// Buffer ids come from a driver-private free list (not ring positions); a chain of n descriptors takes n
    /// consecutive ring slots and carries its id in every descriptor; the device writes one used descriptor per
    /// chain, in the chain's first slot position order, and the driver steps over the chain's slots. The head
    /// descriptor's flags are stored last, with release semantics, so the device never sees a half-written chain.
    /// A used id that is out of range or not in flight cannot be stepped over (the chain length is unknown):
    /// it is counted and the queue is marked broken (the driver resets the device and takes every buffer back).
    /// </para>
    /// </summary>
    public sealed unsafe class PackedVirtqueue
    {
        public const ushort DescriptorNext = 1;
        public const ushort DescriptorWrite = 2;
        public const ushort DescriptorIndirect = 4;
        public const ushort DescriptorAvail = 1 << 7;
        public const ushort DescriptorUsed = 1 << 15;

        /// <summary>Event suppression flags ("struct pvirtq_event_suppress").</summary>
        public const ushort EventEnable = 0;
        public const ushort EventDisable = 1;
        public const ushort EventDescriptor = 2;

        /// <summary>Bit of off_wrap holding the wrap counter.</summary>
        private const int WrapShift = 15;

        public const int MaxSize = 32768;

        private readonly DmaRegion _memory;
        private readonly PackedDescriptor* _ring;
        private readonly ushort* _driverEvent;
        private readonly ushort* _deviceEvent;

        /// <summary>Free-list link of each buffer id.</summary>
        private readonly ushort[] _idNext;

        /// <summary>Ring slots taken by the chain with this id; 0 when the id is not in flight.</summary>
        private readonly ushort[] _chainSlots;

        private int _freeIdHead;
        private int _freeSlots;
        private int _nextAvail;
        private bool _availWrap;
        private int _lastUsed;
        private bool _usedWrap;
        private int _addedSinceKick;
        private int _headsInFlight;
        private ushort _eventFlagsShadow;
        private DmaRegion _indirectTables;
        private int _indirectEntries;
        private int _detachCursor;

        public PackedVirtqueue(int queueIndex, int size, DmaRegion memory, bool eventIndex)
        {
            QueueIndex = queueIndex;
            Size = size;
            _memory = memory;
            EventIndex = eventIndex;
            _ring = (PackedDescriptor*)memory.Virtual;
            _driverEvent = (ushort*)(memory.Virtual + DriverAreaOffset(size));
            _deviceEvent = (ushort*)(memory.Virtual + DeviceAreaOffset(size));
            _idNext = new ushort[size];
            _chainSlots = new ushort[size];
            Reinitialize();
        }

        public int QueueIndex { get; }
        public int Size { get; }
        public bool EventIndex { get; }
        public int FreeCount => _freeSlots;
        public int InFlight => _headsInFlight;
        public int NextHead => _freeIdHead;
        public bool IsBroken { get; private set; }
        public long BadIdCount { get; private set; }
        public long UsedIndexErrors => 0;
        public DmaRegion Memory => _memory;
        public ulong DescriptorPhysical => _memory.Physical;
        public ulong DriverAreaPhysical => _memory.Physical + (ulong)DriverAreaOffset(Size);
        public ulong DeviceAreaPhysical => _memory.Physical + (ulong)DeviceAreaOffset(Size);
        public int IndirectEntries => _indirectEntries;
        public bool CallbacksDisabled => _eventFlagsShadow == EventDisable;

        /// <summary>Driver event suppression structure: right behind the ring (4-byte aligned).</summary>
        public static int DriverAreaOffset(int size) => 16 * size;

        /// <summary>Device event suppression structure: behind the driver's.</summary>
        public static int DeviceAreaOffset(int size) => 16 * size + 4;

        public static int RingPages(int size) => (16 * size + 8 + DmaPage.Size - 1) / DmaPage.Size;

        /// <summary>Any size from 1 to 32768 (a packed ring need not be a power of two).</summary>
        public static bool IsValidSize(int size) => size > 0 && size <= MaxSize;

        public void Reinitialize()
        {
            new System.Span<byte>(_memory.Virtual, RingPages(Size) * DmaPage.Size).Clear();
            for (int i = 0; i < Size; i++)
            {
                _idNext[i] = (ushort)(i + 1 < Size ? i + 1 : 0);
                _chainSlots[i] = 0;
            }
            _freeIdHead = 0;
            _freeSlots = Size;
            _nextAvail = 0;
            _availWrap = true;
            _lastUsed = 0;
            _usedWrap = true;
            _addedSinceKick = 0;
            _headsInFlight = 0;
            _eventFlagsShadow = EventEnable;
            _detachCursor = 0;
            IsBroken = false;
        }

        public void SetIndirectTables(DmaRegion tables, int entriesPerTable)
        {
            _indirectTables = tables;
            _indirectEntries = entriesPerTable;
        }

        private ushort AvailFlags(bool wrap) => wrap ? DescriptorAvail : DescriptorUsed;

        private void Advance(ref int position, ref bool wrap)
        {
            position++;
            if (position == Size)
            {
                position = 0;
                wrap = !wrap;
            }
        }

        public bool TryAddOne(ulong address, int length, bool deviceWritable, out ushort head)
        {
            if (_freeSlots == 0 || length <= 0)
            {
                head = 0;
                return false;
            }
            ushort id = TakeId(1);
            PackedDescriptor* descriptor = _ring + _nextAvail;
            descriptor->Address = address;
            descriptor->Length = (uint)length;
            descriptor->Id = id;
            ushort flags = (ushort)((deviceWritable ? DescriptorWrite : 0) | AvailFlags(_availWrap));
            Advance(ref _nextAvail, ref _availWrap);
            // Release store: address, length and id are visible before the flags make the slot available.
            Volatile.Write(ref descriptor->Flags, flags);
            head = id;
            return true;
        }

        public bool TryAdd(ScatterList list, out ushort head)
        {
            int count = list.Count;
            if (count == 0 || count > _freeSlots)
            {
                head = 0;
                return false;
            }
            ushort id = TakeId(count);
            int position = _nextAvail;
            bool wrap = _availWrap;
            PackedDescriptor* first = _ring + position;
            ushort headFlags = 0;
            for (int k = 0; k < count; k++)
            {
                PackedDescriptor* descriptor = _ring + position;
                descriptor->Address = list.Address[k];
                descriptor->Length = (uint)list.Length[k];
                descriptor->Id = id;
                ushort flags = (ushort)((list.DeviceWritable[k] ? DescriptorWrite : 0) | (k + 1 < count ? DescriptorNext : 0) | AvailFlags(wrap));
                if (k == 0)
                {
                    headFlags = flags;
                }
                else
                {
                    descriptor->Flags = flags;
                }
                Advance(ref position, ref wrap);
            }
            _nextAvail = position;
            _availWrap = wrap;
            // The head's flags last: the whole chain becomes available at once.
            Volatile.Write(ref first->Flags, headFlags);
            head = id;
            return true;
        }

        public bool TryAddIndirect(ScatterList list, out ushort head)
        {
            int count = list.Count;
            if (_freeSlots == 0 || count == 0 || count > _indirectEntries)
            {
                head = 0;
                return false;
            }
            ushort id = TakeId(1);
            int tableOffset = id * _indirectEntries * 16;
            PackedDescriptor* table = (PackedDescriptor*)(_indirectTables.Virtual + tableOffset);
            for (int k = 0; k < count; k++)
            {
                table[k].Address = list.Address[k];
                table[k].Length = (uint)list.Length[k];
                table[k].Id = 0;
                table[k].Flags = list.DeviceWritable[k] ? DescriptorWrite : (ushort)0;
            }
            PackedDescriptor* descriptor = _ring + _nextAvail;
            descriptor->Address = _indirectTables.Physical + (ulong)tableOffset;
            descriptor->Length = (uint)(count * 16);
            descriptor->Id = id;
            ushort flags = (ushort)(DescriptorIndirect | AvailFlags(_availWrap));
            Advance(ref _nextAvail, ref _availWrap);
            Volatile.Write(ref descriptor->Flags, flags);
            head = id;
            return true;
        }

        private ushort TakeId(int slots)
        {
            int id = _freeIdHead;
            _freeIdHead = _idNext[id];
            _chainSlots[id] = (ushort)slots;
            _freeSlots -= slots;
            _headsInFlight++;
            // Slots, not chains: the kick test compares ring positions (Linux num_added += descs_used).
            _addedSinceKick += slots;
            return (ushort)id;
        }

        private void FreeId(int id)
        {
            _freeSlots += _chainSlots[id];
            _chainSlots[id] = 0;
            _idNext[id] = (ushort)_freeIdHead;
            _freeIdHead = id;
            _headsInFlight--;
        }

        /// <summary>Linux virtqueue_kick_prepare_packed: honours the device's event suppression structure.</summary>
        public bool KickPrepare()
        {
            if (_addedSinceKick == 0)
            {
                return false;
            }
            Interlocked.MemoryBarrier();
            ushort newIndex = (ushort)_nextAvail;
            ushort oldIndex = (ushort)(_nextAvail - _addedSinceKick);
            bool lapped = _addedSinceKick >= Size;
            _addedSinceKick = 0;
            if (lapped)
            {
                // More than a ring's worth since the last decision: positions are ambiguous, notify.
                return true;
            }
            ushort offWrap = Volatile.Read(ref _deviceEvent[0]);
            ushort flags = Volatile.Read(ref _deviceEvent[1]);
            if (flags != EventDescriptor)
            {
                return flags != EventDisable;
            }
            ushort eventIndex = (ushort)(offWrap & 0x7FFF);
            bool wrap = (offWrap >> WrapShift) != 0;
            if (wrap != _availWrap)
            {
                eventIndex = (ushort)(eventIndex - Size);
            }
            return SplitVirtqueue.NeedEvent(eventIndex, newIndex, oldIndex);
        }

        private bool IsUsed(int position, bool wrap)
        {
            ushort flags = Volatile.Read(ref _ring[position].Flags);
            bool avail = (flags & DescriptorAvail) != 0;
            bool used = (flags & DescriptorUsed) != 0;
            return avail == used && used == wrap;
        }

        public bool HasUsed => IsUsed(_lastUsed, _usedWrap);

        public UsedResult TryGetUsed(out ushort head, out int length)
        {
            head = 0;
            length = 0;
            if (IsBroken)
            {
                return UsedResult.Broken;
            }
            // Acquire load of the flags: id and length are read after them.
            if (!IsUsed(_lastUsed, _usedWrap))
            {
                return UsedResult.Empty;
            }
            PackedDescriptor* descriptor = _ring + _lastUsed;
            uint id = descriptor->Id;
            uint written = descriptor->Length;
            if (id >= (uint)Size || _chainSlots[id] == 0)
            {
                // The chain length is unknown, so the next used descriptor cannot be found: broken.
                BadIdCount++;
                IsBroken = true;
                return UsedResult.BadId;
            }
            int slots = _chainSlots[id];
            _lastUsed += slots;
            if (_lastUsed >= Size)
            {
                _lastUsed -= Size;
                _usedWrap = !_usedWrap;
            }
            if (_eventFlagsShadow == EventDescriptor)
            {
                Volatile.Write(ref _driverEvent[0], UsedToken());
                Interlocked.MemoryBarrier();
            }
            head = (ushort)id;
            length = written > int.MaxValue ? int.MaxValue : (int)written;
            FreeId((int)id);
            return UsedResult.Buffer;
        }

        private ushort UsedToken() => (ushort)(_lastUsed | (_usedWrap ? 1 << WrapShift : 0));

        public void DisableCallbacks()
        {
            if (_eventFlagsShadow != EventDisable)
            {
                _eventFlagsShadow = EventDisable;
                Volatile.Write(ref _driverEvent[1], EventDisable);
            }
        }

        /// <summary>Linux virtqueue_enable_cb_prepare_packed: the token is last used position | wrap &lt;&lt; 15.</summary>
        public ushort EnableCallbacksPrepare()
        {
            ushort token = UsedToken();
            if (EventIndex)
            {
                Volatile.Write(ref _driverEvent[0], token);
                Interlocked.MemoryBarrier();
            }
            ushort flags = EventIndex ? EventDescriptor : EventEnable;
            if (_eventFlagsShadow != flags)
            {
                _eventFlagsShadow = flags;
                Volatile.Write(ref _driverEvent[1], flags);
            }
            return token;
        }

        public bool PollUsed(ushort token)
        {
            Interlocked.MemoryBarrier();
            return IsUsed(token & 0x7FFF, (token >> WrapShift) != 0);
        }

        public bool EnableCallbacks()
        {
            ushort token = EnableCallbacksPrepare();
            return !PollUsed(token);
        }

        /// <summary>Linux virtqueue_enable_cb_delayed_packed: interrupt after about 3/4 of the chains in flight.</summary>
        public bool EnableCallbacksDelayed()
        {
            int usedIndex = _lastUsed;
            bool wrap = _usedWrap;
            if (EventIndex)
            {
                int buffers = (Size - _freeSlots) * 3 / 4;
                usedIndex += buffers;
                if (usedIndex >= Size)
                {
                    usedIndex -= Size;
                    wrap = !wrap;
                }
                Volatile.Write(ref _driverEvent[0], (ushort)(usedIndex | (wrap ? 1 << WrapShift : 0)));
            }
            ushort flags = EventIndex ? EventDescriptor : EventEnable;
            _eventFlagsShadow = flags;
            Volatile.Write(ref _driverEvent[1], flags);
            Interlocked.MemoryBarrier();
            return !IsUsed(usedIndex, wrap);
        }

        public bool DetachUnused(out ushort head)
        {
            while (_detachCursor < Size)
            {
                int id = _detachCursor++;
                if (_chainSlots[id] != 0)
                {
                    FreeId(id);
                    head = (ushort)id;
                    return true;
                }
            }
            _detachCursor = 0;
            head = 0;
            return false;
        }
    }
}
