using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading;
using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>What <see cref="SplitVirtqueue.TryGetUsed"/> found.</summary>
    public enum UsedResult
    {
        /// <summary>No new used entry.</summary>
        Empty,

        /// <summary>A buffer came back: head id and written length are valid; the chain's descriptors are free again.</summary>
        Buffer,

        /// <summary>The device returned an id that is out of range or not the head of an in-flight chain. Entry skipped.</summary>
        BadId,

        /// <summary>
        /// The device moved the used index by more than the chains it holds: nothing it says can be trusted.
        /// Sticky until <see cref="SplitVirtqueue.Reinitialize"/>; the driver must reset the device.
        /// </summary>
        Broken,
    }

    /// <summary>One descriptor of the table ("The Virtqueue Descriptor Table"), 16 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct VirtqDescriptor
    {
        public ulong Address;
        public uint Length;
        public ushort Flags;
        public ushort Next;
    }

    /// <summary>One used-ring element, 8 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct VirtqUsedElement
    {
        public uint Id;
        public uint Length;
    }

    /// <summary>
    /// A split virtqueue (virtio 1.x "Split Virtqueues", Linux virtio_ring.c split half) in one block of
    /// DMA-coherent memory laid out the legacy way (descriptors, available ring, used ring at the next 4096
    /// boundary), which also satisfies the modern alignment rules, so one layout serves both transports.
    /// <para>
    /// The driver-side bookkeeping (free list, chain lengths) lives in managed arrays, not in the shared
    /// descriptor table, so a device cannot corrupt it. Indices are free-running 16-bit counters compared with
    /// wrap-safe <c>(ushort)(a - b)</c> arithmetic. Barriers: a release store of avail->idx after the ring entry
    /// (write barrier), a full barrier before reading the device's notification suppression, an acquire load of
    /// used->idx before reading used entries (read barrier), a full barrier between re-enabling callbacks and
    /// re-checking used->idx.
    /// </para>
    /// Single-threaded: one context (the poll) adds and takes buffers; the interrupt handler only calls
    /// <see cref="DisableCallbacks"/>.
    /// </summary>
    public sealed unsafe class SplitVirtqueue
    {
        public const ushort DescriptorNext = 1;
        public const ushort DescriptorWrite = 2;
        public const ushort DescriptorIndirect = 4;

        /// <summary>avail->flags bit: driver asks for no interrupts (without EVENT_IDX).</summary>
        public const ushort AvailNoInterrupt = 1;

        /// <summary>used->flags bit: device asks for no notifications (without EVENT_IDX).</summary>
        public const ushort UsedNoNotify = 1;

        /// <summary>Largest queue size the split format allows.</summary>
        public const int MaxSize = 32768;

        private readonly DmaRegion _memory;
        private readonly VirtqDescriptor* _descriptors;
        private readonly byte* _avail;
        private readonly byte* _used;
        private readonly int _mask;

        /// <summary>Next descriptor: along a chain while in use, along the free list while free (driver-private copy).</summary>
        private readonly ushort[] _next;

        /// <summary>Descriptors in the chain whose head is the index; 0 when the index is not an in-flight head.</summary>
        private readonly ushort[] _chainLength;

        /// <summary>First free descriptor (valid when <see cref="_freeCount"/> &gt; 0).</summary>
        private int _freeHead;

        private int _freeCount;

        /// <summary>Our copy of avail->idx (the device only reads the shared one).</summary>
        private ushort _availIndex;

        /// <summary>Used entries consumed so far (free-running).</summary>
        private ushort _lastUsed;

        /// <summary>Chains made available since the last <see cref="KickPrepare"/>.</summary>
        private int _addedSinceKick;

        /// <summary>Chains the device holds (made available, not yet returned).</summary>
        private int _headsInFlight;

        /// <summary>Our copy of avail->flags; its NoInterrupt bit also means "callbacks disabled" with EVENT_IDX.</summary>
        private ushort _availFlagsShadow;

        /// <summary>Indirect descriptor tables, one per descriptor id (see <see cref="SetIndirectTables"/>).</summary>
        private DmaRegion _indirectTables;

        /// <summary>Entries per indirect table; 0 = no indirect descriptors.</summary>
        private int _indirectEntries;

        /// <summary>Cursor of <see cref="DetachUnused"/>.</summary>
        private int _detachCursor;

        /// <summary>
        /// Builds a queue of <paramref name="size"/> entries (a power of two) in <paramref name="memory"/>, which must
        /// be at least <see cref="RingBytes"/>(size) long. <paramref name="eventIndex"/>: VIRTIO_F_EVENT_IDX negotiated.
        /// </summary>
        public SplitVirtqueue(int queueIndex, int size, DmaRegion memory, bool eventIndex)
        {
            QueueIndex = queueIndex;
            Size = size;
            _mask = size - 1;
            _memory = memory;
            EventIndex = eventIndex;
            _descriptors = (VirtqDescriptor*)memory.Virtual;
            _avail = memory.Virtual + AvailOffset(size);
            _used = memory.Virtual + UsedOffset(size);
            _next = new ushort[size];
            _chainLength = new ushort[size];
            Reinitialize();
        }

        /// <summary>Queue number on the device (0 = receiveq1, 1 = transmitq1 for virtio-net).</summary>
        public int QueueIndex { get; }

        /// <summary>Entries in the ring.</summary>
        public int Size { get; }

        /// <summary>VIRTIO_F_EVENT_IDX is in use (used_event / avail_event instead of the flags).</summary>
        public bool EventIndex { get; }

        /// <summary>Free descriptors.</summary>
        public int FreeCount => _freeCount;

        /// <summary>Chains the device holds.</summary>
        public int InFlight => _headsInFlight;

        /// <summary>The head id the next <see cref="TryAdd"/> will use (only meaningful when <see cref="FreeCount"/> &gt; 0).</summary>
        public int NextHead => _freeHead;

        /// <summary>True after the device moved used->idx impossibly far (see <see cref="UsedResult.Broken"/>).</summary>
        public bool IsBroken { get; private set; }

        /// <summary>Used entries with an id that is out of range or not an in-flight head.</summary>
        public long BadIdCount { get; private set; }

        /// <summary>Times used->idx jumped by more than the chains the device held.</summary>
        public long UsedIndexErrors { get; private set; }

        public ulong DescriptorPhysical => _memory.Physical;
        public ulong AvailPhysical => _memory.Physical + (ulong)AvailOffset(Size);
        public ulong UsedPhysical => _memory.Physical + (ulong)UsedOffset(Size);
        public DmaRegion Memory => _memory;

        /// <summary>Byte offset of the available ring.</summary>
        public static int AvailOffset(int size) => 16 * size;

        /// <summary>Byte offset of the used ring: after descriptors and available ring, at the next 4096 boundary.</summary>
        public static int UsedOffset(int size) => Align(16 * size + 6 + 2 * size, 4096);

        /// <summary>Bytes of ring memory for a queue of <paramref name="size"/> entries, whole pages.</summary>
        public static int RingBytes(int size) => Align(UsedOffset(size) + 6 + 8 * size, 4096);

        /// <summary>Pages of ring memory for a queue of <paramref name="size"/> entries.</summary>
        public static int RingPages(int size) => RingBytes(size) / DmaPage.Size;

        /// <summary>
        /// True when a queue of <paramref name="size"/> entries at these device addresses has the legacy layout
        /// (virtio 1.2 "Legacy Interfaces: A Note on Virtqueue Layout"): one block starting on a 4096 boundary,
        /// available ring right after the descriptors, used ring at the next 4096 boundary after the available
        /// ring, so that a legacy device finds all three from the first page's frame number alone.
        /// </summary>
        public static bool IsLegacyLayout(int size, ulong descriptors, ulong driverArea, ulong deviceArea)
        {
            return (descriptors & 4095) == 0
                && driverArea == descriptors + (ulong)AvailOffset(size)
                && deviceArea == descriptors + (ulong)UsedOffset(size)
                && (descriptors >> 12) <= uint.MaxValue;
        }

        /// <summary>True for 1, 2, 4 … <see cref="MaxSize"/>.</summary>
        public static bool IsValidSize(int size) => size > 0 && size <= MaxSize && (size & (size - 1)) == 0;

        /// <summary>
        /// Spec "vring_need_event": true when moving an index from <paramref name="oldIndex"/> to
        /// <paramref name="newIndex"/> passed <paramref name="eventIndex"/>. Wrap-safe.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool NeedEvent(ushort eventIndex, ushort newIndex, ushort oldIndex)
        {
            return (ushort)(newIndex - eventIndex - 1) < (ushort)(newIndex - oldIndex);
        }

        /// <summary>
        /// Forgets every buffer and zeroes the ring memory (after a device reset, before programming the queue again).
        /// Buffers still in flight must have been taken back with <see cref="DetachUnused"/> first.
        /// </summary>
        public void Reinitialize()
        {
            new System.Span<byte>(_memory.Virtual, RingBytes(Size)).Clear();
            for (int i = 0; i < Size; i++)
            {
                _next[i] = (ushort)(i + 1 < Size ? i + 1 : 0);
                _chainLength[i] = 0;
            }
            _freeHead = 0;
            _freeCount = Size;
            _availIndex = 0;
            _lastUsed = 0;
            _addedSinceKick = 0;
            _headsInFlight = 0;
            _availFlagsShadow = 0;
            _detachCursor = 0;
            IsBroken = false;
        }

        private ushort* AvailFlags => (ushort*)_avail;
        private ushort* AvailIdx => (ushort*)(_avail + 2);
        private ushort* AvailRing => (ushort*)(_avail + 4);
        private ushort* UsedEvent => (ushort*)(_avail + 4 + 2 * Size);
        private ushort* UsedFlags => (ushort*)_used;
        private ushort* UsedIdx => (ushort*)(_used + 2);
        private VirtqUsedElement* UsedRing => (VirtqUsedElement*)(_used + 4);
        private ushort* AvailEvent => (ushort*)(_used + 4 + 8 * Size);

        /// <summary>
        /// Adds one single-descriptor buffer and makes it available (no notification: see <see cref="KickPrepare"/>).
        /// False when no descriptor is free.
        /// </summary>
        public bool TryAddOne(ulong address, int length, bool deviceWritable, out ushort head)
        {
            if (_freeCount == 0 || length <= 0)
            {
                head = 0;
                return false;
            }
            int id = _freeHead;
            VirtqDescriptor* descriptor = _descriptors + id;
            descriptor->Address = address;
            descriptor->Length = (uint)length;
            descriptor->Flags = deviceWritable ? DescriptorWrite : (ushort)0;
            descriptor->Next = 0;
            _freeHead = _next[id];
            _freeCount--;
            _chainLength[id] = 1;
            head = (ushort)id;
            Publish(head);
            return true;
        }

        /// <summary>
        /// Adds the chain <paramref name="list"/> and makes it available (no notification). False, with nothing
        /// changed, when there are not enough free descriptors or the list is empty.
        /// </summary>
        public bool TryAdd(ScatterList list, out ushort head)
        {
            int count = list.Count;
            if (count == 0 || count > _freeCount)
            {
                head = 0;
                return false;
            }
            int first = _freeHead;
            int id = first;
            for (int k = 0; k < count; k++)
            {
                VirtqDescriptor* descriptor = _descriptors + id;
                descriptor->Address = list.Address[k];
                descriptor->Length = (uint)list.Length[k];
                ushort flags = list.DeviceWritable[k] ? DescriptorWrite : (ushort)0;
                if (k + 1 < count)
                {
                    flags |= DescriptorNext;
                    descriptor->Next = _next[id];
                }
                else
                {
                    descriptor->Next = 0;
                }
                descriptor->Flags = flags;
                if (k + 1 < count)
                {
                    id = _next[id];
                }
            }
            _freeHead = _next[id];
            _freeCount -= count;
            _chainLength[first] = (ushort)count;
            head = (ushort)first;
            Publish(head);
            return true;
        }

        /// <summary>
        /// Gives the queue one indirect descriptor table per descriptor id (VIRTIO_F_INDIRECT_DESC): the table of id
        /// <c>i</c> is <paramref name="entriesPerTable"/> × 16 bytes at <c>i × entriesPerTable × 16</c> in
        /// <paramref name="tables"/> (DMA memory, at least Size × entriesPerTable × 16 bytes, owned by the caller).
        /// A chain added with <see cref="TryAddIndirect"/> uses its head id's table, so no table is ever shared.
        /// </summary>
        public void SetIndirectTables(DmaRegion tables, int entriesPerTable)
        {
            _indirectTables = tables;
            _indirectEntries = entriesPerTable;
        }

        /// <summary>Entries per indirect table; 0 when indirect descriptors are not in use.</summary>
        public int IndirectEntries => _indirectEntries;

        /// <summary>
        /// Adds <paramref name="list"/> as one ring descriptor pointing at an indirect table (Linux
        /// alloc_indirect_split, with the table preallocated per head id): the chain takes one ring slot however
        /// many elements it has. False, with nothing changed, when no descriptor is free, the list is empty or
        /// longer than a table, or no tables were given.
        /// </summary>
        public bool TryAddIndirect(ScatterList list, out ushort head)
        {
            int count = list.Count;
            if (_freeCount == 0 || count == 0 || count > _indirectEntries)
            {
                head = 0;
                return false;
            }
            int id = _freeHead;
            int tableOffset = id * _indirectEntries * 16;
            VirtqDescriptor* table = (VirtqDescriptor*)(_indirectTables.Virtual + tableOffset);
            for (int k = 0; k < count; k++)
            {
                VirtqDescriptor* entry = table + k;
                entry->Address = list.Address[k];
                entry->Length = (uint)list.Length[k];
                ushort flags = list.DeviceWritable[k] ? DescriptorWrite : (ushort)0;
                if (k + 1 < count)
                {
                    flags |= DescriptorNext;
                    entry->Next = (ushort)(k + 1);
                }
                else
                {
                    entry->Next = 0;
                }
                entry->Flags = flags;
            }
            VirtqDescriptor* descriptor = _descriptors + id;
            descriptor->Address = _indirectTables.Physical + (ulong)tableOffset;
            descriptor->Length = (uint)(count * 16);
            descriptor->Flags = DescriptorIndirect;
            descriptor->Next = 0;
            _freeHead = _next[id];
            _freeCount--;
            _chainLength[id] = 1;
            head = (ushort)id;
            Publish(head);
            return true;
        }

        private void Publish(ushort head)
        {
            AvailRing[_availIndex & _mask] = head;
            _availIndex++;
            // Release store: the descriptors and the ring entry are visible before the new index (write barrier).
            Volatile.Write(ref *AvailIdx, _availIndex);
            _addedSinceKick++;
            _headsInFlight++;
        }

        /// <summary>
        /// Decides whether the device needs a notification for the chains added since the last call
        /// (Linux virtqueue_kick_prepare). One call per batch; the caller then notifies through the transport.
        /// </summary>
        public bool KickPrepare()
        {
            if (_addedSinceKick == 0)
            {
                return false;
            }
            // The avail->idx store must be visible before we read the device's suppression state.
            Interlocked.MemoryBarrier();
            ushort newIndex = _availIndex;
            ushort oldIndex = (ushort)(newIndex - _addedSinceKick);
            bool needed = _addedSinceKick >= 0xFFFF;
            _addedSinceKick = 0;
            if (needed)
            {
                return true;
            }
            if (EventIndex)
            {
                return NeedEvent(Volatile.Read(ref *AvailEvent), newIndex, oldIndex);
            }
            return (Volatile.Read(ref *UsedFlags) & UsedNoNotify) == 0;
        }

        /// <summary>True when the device has returned entries we have not consumed (no barrier; a hint).</summary>
        public bool HasUsed => Volatile.Read(ref *UsedIdx) != _lastUsed;

        /// <summary>The shared indices and flags as they are in ring memory now.</summary>
        public VirtqueueIndices ReadIndices() =>
            new VirtqueueIndices(false, Volatile.Read(ref *AvailIdx), Volatile.Read(ref *AvailFlags), Volatile.Read(ref *UsedEvent),
                Volatile.Read(ref *UsedIdx), InFlight, CallbacksDisabled);

        /// <summary>
        /// Takes the next used entry (Linux virtqueue_get_buf). On <see cref="UsedResult.Buffer"/> the chain's
        /// descriptors are free again and <paramref name="head"/>/<paramref name="length"/> describe it; every
        /// other result leaves nothing to free. <paramref name="length"/> is clamped to int.MaxValue; callers
        /// still check it against what they posted.
        /// </summary>
        public UsedResult TryGetUsed(out ushort head, out int length)
        {
            head = 0;
            length = 0;
            if (IsBroken)
            {
                return UsedResult.Broken;
            }
            // Acquire load: the used entries are read only after the index (read barrier).
            ushort usedIndex = Volatile.Read(ref *UsedIdx);
            if (usedIndex == _lastUsed)
            {
                return UsedResult.Empty;
            }
            if ((ushort)(usedIndex - _lastUsed) > _headsInFlight)
            {
                IsBroken = true;
                UsedIndexErrors++;
                return UsedResult.Broken;
            }
            VirtqUsedElement* element = UsedRing + (_lastUsed & _mask);
            uint id = element->Id;
            uint written = element->Length;
            _lastUsed++;
            if (EventIndex && (_availFlagsShadow & AvailNoInterrupt) == 0)
            {
                // Callbacks are on: ask for an interrupt at the next entry (Linux virtio_store_mb).
                Volatile.Write(ref *UsedEvent, _lastUsed);
                Interlocked.MemoryBarrier();
            }
            if (id >= (uint)Size || _chainLength[id] == 0)
            {
                BadIdCount++;
                return UsedResult.BadId;
            }
            head = (ushort)id;
            length = written > int.MaxValue ? int.MaxValue : (int)written;
            FreeChain((int)id);
            return UsedResult.Buffer;
        }

        private void FreeChain(int head)
        {
            int count = _chainLength[head];
            int tail = head;
            for (int k = 1; k < count; k++)
            {
                tail = _next[tail];
            }
            _next[tail] = (ushort)(_freeCount == 0 ? 0 : _freeHead);
            _freeHead = head;
            _freeCount += count;
            _chainLength[head] = 0;
            _headsInFlight--;
        }

        /// <summary>
        /// Asks the device for no more used-buffer interrupts (Linux virtqueue_disable_cb). Safe from the
        /// interrupt handler. With EVENT_IDX, used_event is moved half the index space away.
        /// </summary>
        public void DisableCallbacks()
        {
            if ((_availFlagsShadow & AvailNoInterrupt) != 0)
            {
                return;
            }
            _availFlagsShadow |= AvailNoInterrupt;
            if (EventIndex)
            {
                Volatile.Write(ref *UsedEvent, (ushort)(_lastUsed + 0x8000));
            }
            else
            {
                Volatile.Write(ref *AvailFlags, _availFlagsShadow);
            }
        }

        /// <summary>True while callbacks are disabled.</summary>
        public bool CallbacksDisabled => (_availFlagsShadow & AvailNoInterrupt) != 0;

        /// <summary>
        /// Re-enables used-buffer interrupts and returns the used index seen so far (Linux
        /// virtqueue_enable_cb_prepare). Pass the result to <see cref="PollUsed"/> to find buffers that arrived
        /// meanwhile, which no interrupt will announce.
        /// </summary>
        public ushort EnableCallbacksPrepare()
        {
            ushort last = _lastUsed;
            if ((_availFlagsShadow & AvailNoInterrupt) != 0)
            {
                _availFlagsShadow &= unchecked((ushort)~AvailNoInterrupt);
                if (!EventIndex)
                {
                    Volatile.Write(ref *AvailFlags, _availFlagsShadow);
                }
            }
            if (EventIndex)
            {
                Volatile.Write(ref *UsedEvent, last);
            }
            return last;
        }

        /// <summary>
        /// True when the device used buffers after <see cref="EnableCallbacksPrepare"/> returned
        /// <paramref name="token"/> (Linux virtqueue_poll). Contains the full barrier the re-check needs.
        /// </summary>
        public bool PollUsed(ushort token)
        {
            Interlocked.MemoryBarrier();
            return Volatile.Read(ref *UsedIdx) != token;
        }

        /// <summary>Enables callbacks; false when buffers are already pending (the caller must poll again).</summary>
        public bool EnableCallbacks()
        {
            ushort token = EnableCallbacksPrepare();
            return !PollUsed(token);
        }

        /// <summary>
        /// Enables callbacks but, with EVENT_IDX, asks for the interrupt only after about three quarters of the
        /// outstanding buffers are used (Linux virtqueue_enable_cb_delayed, used for transmit completions).
        /// False when that many are already used (the caller should reclaim now).
        /// </summary>
        public bool EnableCallbacksDelayed()
        {
            if ((_availFlagsShadow & AvailNoInterrupt) != 0)
            {
                _availFlagsShadow &= unchecked((ushort)~AvailNoInterrupt);
                if (!EventIndex)
                {
                    Volatile.Write(ref *AvailFlags, _availFlagsShadow);
                }
            }
            ushort buffers = (ushort)((ushort)(_availIndex - _lastUsed) * 3 / 4);
            if (EventIndex)
            {
                Volatile.Write(ref *UsedEvent, (ushort)(_lastUsed + buffers));
            }
            Interlocked.MemoryBarrier();
            return (ushort)(Volatile.Read(ref *UsedIdx) - _lastUsed) <= buffers;
        }

        /// <summary>
        /// After a device reset: takes back the next chain still owned by the device (Linux
        /// virtqueue_detach_unused_buf). Returns false when none is left.
        /// </summary>
        public bool DetachUnused(out ushort head)
        {
            while (_detachCursor < Size)
            {
                int id = _detachCursor++;
                if (_chainLength[id] != 0)
                {
                    FreeChain(id);
                    head = (ushort)id;
                    return true;
                }
            }
            _detachCursor = 0;
            head = 0;
            return false;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static int Align(int value, int alignment) => (value + alignment - 1) & ~(alignment - 1);
    }
}
