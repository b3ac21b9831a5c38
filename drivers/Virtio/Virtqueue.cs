using System.Runtime.CompilerServices;
using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// The virtqueue a device driver uses, whatever the ring format negotiated: a split ring
    /// (<see cref="SplitVirtqueue"/>) or, with VIRTIO_F_RING_PACKED, a packed ring (<see cref="PackedVirtqueue"/>).
    /// Each operation is one branch on a readonly field and a direct call (no interface or virtual dispatch on
    /// the per-packet path), so the format is an ablation the benchmark can compare. Made by
    /// <see cref="VirtioDevice.AllocateQueue"/>; contract of each member as documented on <see cref="SplitVirtqueue"/>.
    /// </summary>
    public sealed class Virtqueue
    {
        private readonly SplitVirtqueue _split;
        private readonly PackedVirtqueue _packed;
        private readonly bool _isPacked;

        public Virtqueue(int queueIndex, int size, DmaRegion memory, bool eventIndex, bool packed)
        {
            QueueIndex = queueIndex;
            Size = size;
            Memory = memory;
            EventIndex = eventIndex;
            _isPacked = packed;
            if (packed)
            {
                _packed = new PackedVirtqueue(queueIndex, size, memory, eventIndex);
            }
            else
            {
                _split = new SplitVirtqueue(queueIndex, size, memory, eventIndex);
            }
        }

        /// <summary>Queue number on the device.</summary>
        public int QueueIndex { get; }

        /// <summary>Entries (descriptor slots) in the ring.</summary>
        public int Size { get; }

        /// <summary>Ring memory (given back with <see cref="VirtioDevice.FreeQueue"/>).</summary>
        public DmaRegion Memory { get; }

        /// <summary>VIRTIO_F_EVENT_IDX is in use.</summary>
        public bool EventIndex { get; }

        /// <summary>True for a packed ring.</summary>
        public bool IsPacked => _isPacked;

        /// <summary>The split ring (null when packed), for tests.</summary>
        public SplitVirtqueue Split => _split;

        /// <summary>The packed ring (null when split), for tests.</summary>
        public PackedVirtqueue Packed => _packed;

        /// <summary>Driver area: split available ring, or packed driver event suppression.</summary>
        public ulong DriverAreaPhysical => _isPacked ? _packed.DriverAreaPhysical : _split.AvailPhysical;

        /// <summary>Device area: split used ring, or packed device event suppression.</summary>
        public ulong DeviceAreaPhysical => _isPacked ? _packed.DeviceAreaPhysical : _split.UsedPhysical;

        public int FreeCount
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.FreeCount : _split.FreeCount; }
        }

        public int InFlight
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.InFlight : _split.InFlight; }
        }

        public int NextHead
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.NextHead : _split.NextHead; }
        }

        public bool IsBroken
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.IsBroken : _split.IsBroken; }
        }

        public long BadIdCount
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.BadIdCount : _split.BadIdCount; }
        }

        public long UsedIndexErrors
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.UsedIndexErrors : _split.UsedIndexErrors; }
        }

        public int IndirectEntries
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.IndirectEntries : _split.IndirectEntries; }
        }

        public bool CallbacksDisabled
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.CallbacksDisabled : _split.CallbacksDisabled; }
        }

        public bool HasUsed
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.HasUsed : _split.HasUsed; }
        }

        /// <summary>The ring's shared indices now (a packed ring reports only what is in flight and the callback state).</summary>
        public VirtqueueIndices ReadIndices() =>
            _isPacked ? new VirtqueueIndices(true, 0, 0, 0, 0, _packed.InFlight, _packed.CallbacksDisabled) : _split.ReadIndices();

        public ulong DescriptorPhysical
        {
            [MethodImpl(MethodImplOptions.AggressiveInlining)]
            get { return _isPacked ? _packed.DescriptorPhysical : _split.DescriptorPhysical; }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryAddOne(ulong address, int length, bool deviceWritable, out ushort head)
        {
            return _isPacked ? _packed.TryAddOne(address, length, deviceWritable, out head) : _split.TryAddOne(address, length, deviceWritable, out head);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryAdd(ScatterList list, out ushort head)
        {
            return _isPacked ? _packed.TryAdd(list, out head) : _split.TryAdd(list, out head);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool TryAddIndirect(ScatterList list, out ushort head)
        {
            return _isPacked ? _packed.TryAddIndirect(list, out head) : _split.TryAddIndirect(list, out head);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool KickPrepare()
        {
            return _isPacked ? _packed.KickPrepare() : _split.KickPrepare();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public UsedResult TryGetUsed(out ushort head, out int length)
        {
            return _isPacked ? _packed.TryGetUsed(out head, out length) : _split.TryGetUsed(out head, out length);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public ushort EnableCallbacksPrepare()
        {
            return _isPacked ? _packed.EnableCallbacksPrepare() : _split.EnableCallbacksPrepare();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool PollUsed(ushort token)
        {
            return _isPacked ? _packed.PollUsed(token) : _split.PollUsed(token);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool EnableCallbacks()
        {
            return _isPacked ? _packed.EnableCallbacks() : _split.EnableCallbacks();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool EnableCallbacksDelayed()
        {
            return _isPacked ? _packed.EnableCallbacksDelayed() : _split.EnableCallbacksDelayed();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public bool DetachUnused(out ushort head)
        {
            return _isPacked ? _packed.DetachUnused(out head) : _split.DetachUnused(out head);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void DisableCallbacks()
        {
            if (_isPacked)
            {
                _packed.DisableCallbacks();
            }
            else
            {
                _split.DisableCallbacks();
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Reinitialize()
        {
            if (_isPacked)
            {
                _packed.Reinitialize();
            }
            else
            {
                _split.Reinitialize();
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void SetIndirectTables(DmaRegion tables, int entriesPerTable)
        {
            if (_isPacked)
            {
                _packed.SetIndirectTables(tables, entriesPerTable);
            }
            else
            {
                _split.SetIndirectTables(tables, entriesPerTable);
            }
        }
    }
}
