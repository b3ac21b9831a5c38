using Keel.Hal;

namespace Keel.Drivers.Virtio
{
    /// <summary>
    /// A snapshot of a virtqueue's shared indices as the device sees them (VIRTIO 1.2 sections 2.7.6 and 2.7.8), for
    /// reports about a stalled queue. A packed ring has no such indices: only <see cref="InFlight"/> and
    /// <see cref="CallbacksDisabled"/> are meaningful.
    /// </summary>
    public readonly struct VirtqueueIndices
    {
        public readonly bool Packed;

        /// <summary>avail.idx: where the driver will put its next available entry.</summary>
        public readonly ushort AvailIndex;

        /// <summary>avail.flags (VIRTQ_AVAIL_F_NO_INTERRUPT).</summary>
        public readonly ushort AvailFlags;

        /// <summary>used_event: the used index at which the driver asked for an interrupt (event index feature).</summary>
        public readonly ushort UsedEvent;

        /// <summary>used.idx: where the device will put its next used entry.</summary>
        public readonly ushort UsedIndex;

        /// <summary>Buffers the driver has given the device and not yet taken back.</summary>
        public readonly int InFlight;

        public readonly bool CallbacksDisabled;

        public VirtqueueIndices(bool packed, ushort availIndex, ushort availFlags, ushort usedEvent, ushort usedIndex, int inFlight,
            bool callbacksDisabled)
        {
            Packed = packed;
            AvailIndex = availIndex;
            AvailFlags = availFlags;
            UsedEvent = usedEvent;
            UsedIndex = usedIndex;
            InFlight = inFlight;
            CallbacksDisabled = callbacksDisabled;
        }

        /// <summary>One line without its end: "avail.idx … used.idx … in flight … callbacks …" (packed: the last two).</summary>
        public void WriteTo(ITextOutput output)
        {
            if (Packed)
            {
                output.Write("packed ring:");
            }
            else
            {
                output.Write("avail.idx ");
                output.Write((long)AvailIndex);
                output.Write(" avail.flags ");
                output.Write((long)AvailFlags);
                output.Write(" used_event ");
                output.Write((long)UsedEvent);
                output.Write(" used.idx ");
                output.Write((long)UsedIndex);
            }
            output.Write(" in flight ");
            output.Write((long)InFlight);
            output.Write(" callbacks ");
            output.Write(CallbacksDisabled ? "disabled" : "enabled");
        }
    }
}
