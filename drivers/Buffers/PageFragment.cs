namespace Keel.Buffers
{
    /// <summary>
    /// A run of bytes inside a page of a <see cref="PagePool"/>, attached to a <see cref="Packet"/>.
    /// The packet holds one page reference per fragment and drops it when the packet is freed.
    /// </summary>
    public struct PageFragment
    {
        /// <summary>Pool the page belongs to (the reference is returned there).</summary>
        public PagePool Pool;

        /// <summary>Index of the page inside <see cref="Pool"/>.</summary>
        public int Page;

        /// <summary>Offset of the first byte inside the page.</summary>
        public int Offset;

        /// <summary>Number of bytes of packet data.</summary>
        public int Length;
    }
}
