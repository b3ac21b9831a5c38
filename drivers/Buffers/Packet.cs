using System;

namespace Keel.Buffers
{
    /// <summary>
    /// A network packet (Linux: sk_buff), taken from a <see cref="PacketPool"/> only when a packet is
    /// actually received or sent. Its bytes are a small linear area (headers, copied or written by the
    /// stack) followed by up to <see cref="MaxFragments"/> page fragments (received payload stays in the
    /// driver's pages; it is copied once, into the reader's buffer).
    /// Ownership is explicit: whoever holds a packet frees it exactly once with <see cref="Free"/>.
    /// </summary>
    public sealed unsafe class Packet
    {
        /// <summary>Bytes of linear storage each packet descriptor owns (headroom plus headers).</summary>
        public const int LinearCapacity = 256;

        /// <summary>Most page fragments one packet carries (Linux MAX_SKB_FRAGS + 1).</summary>
        public const int MaxFragments = 18;

        /// <summary>Headroom the stack reserves for headers it pushes on transmit (Ethernet+IPv4+TCP+options).</summary>
        public const int DefaultHeadroom = 128;

        /// <summary>Set by a driver when the device vouched for the transport checksum (virtio DATA_VALID).</summary>
        public const int FlagChecksumValid = 1;

        /// <summary>
        /// Transmit: the transport checksum is left for the device to complete (virtio NEEDS_CSUM, Linux
        /// CHECKSUM_PARTIAL): the field at <see cref="ChecksumStart"/> + <see cref="ChecksumOffset"/> holds the
        /// pseudo-header sum; the device sums from ChecksumStart to the end and stores the complement there.
        /// Only set when the device says <c>Keel.Drivers.Net.INetDevice.SupportsChecksumOffload</c>.
        /// </summary>
        public const int FlagNeedsChecksum = 2;

        /// <summary>
        /// Transmit: an IPv4 TCP segment larger than the MTU for the device to cut into <see cref="GsoSize"/>-byte
        /// segments (virtio GSO_TCPV4, Linux SKB_GSO_TCPV4). Implies <see cref="FlagNeedsChecksum"/>. Only set
        /// when the device's <c>Keel.Drivers.Net.INetDevice.MaxTsoBytes</c> allows it.
        /// </summary>
        public const int FlagTcpSegmentation = 4;

        /// <summary>Transmit with <see cref="FlagTcpSegmentation"/>: payload bytes per segment (the MSS).</summary>
        public int GsoSize;

        /// <summary>Transmit with <see cref="FlagNeedsChecksum"/>: checksum field offset from <see cref="ChecksumStart"/>.</summary>
        public int ChecksumOffset;

        /// <summary>Where the checksummed range starts, as an offset into the linear buffer (survives Push/Pull).</summary>
        private int _checksumStart;

        private readonly byte* _buffer;
        private readonly ulong _bufferPhysical;
        private readonly PageFragment[] _fragments;

        /// <summary>Offset of the first data byte inside the linear buffer.</summary>
        private int _dataOffset;

        /// <summary>Bytes of data in the linear buffer, starting at <see cref="_dataOffset"/>.</summary>
        private int _linearLength;

        /// <summary>Fragments in use, in order, after the linear bytes.</summary>
        private int _fragmentCount;

        /// <summary>True while the packet sits in its pool's free list (catches double frees).</summary>
        internal bool InPool;

        internal Packet(PacketPool pool, byte* buffer, ulong bufferPhysical)
        {
            Pool = pool;
            _buffer = buffer;
            _bufferPhysical = bufferPhysical;
            _fragments = new PageFragment[MaxFragments];
        }

        /// <summary>The pool this descriptor returns to.</summary>
        public PacketPool Pool { get; }

        /// <summary>Link used by <see cref="PacketQueue"/> and by owners that chain packets.</summary>
        public Packet Next;

        /// <summary>Total data bytes (linear plus fragments).</summary>
        public int Length { get; private set; }

        /// <summary>
        /// Memory this packet pins: its linear buffer plus the true size of every receive buffer it holds
        /// (Linux truesize). Sockets charge this, not <see cref="Length"/>, against their buffer limits.
        /// </summary>
        public int TrueSize { get; private set; }

        /// <summary>Bit set of Flag* constants.</summary>
        public int Flags;

        /// <summary>Scratch value for the layer that holds the packet (e.g. a TCP sequence number).</summary>
        public uint Tag;

        /// <summary>Second scratch value for the layer that holds the packet.</summary>
        public long Timestamp;

        /// <summary>Pointer to the first data byte (linear area).</summary>
        public byte* Data => _buffer + _dataOffset;

        /// <summary>Device address of the first data byte (for transmit descriptors).</summary>
        public ulong DataPhysical => _bufferPhysical + (ulong)_dataOffset;

        /// <summary>Bytes of data held in the linear area.</summary>
        public int LinearLength => _linearLength;

        /// <summary>Free bytes in front of the data (room for <see cref="Push"/>).</summary>
        public int Headroom => _dataOffset;

        /// <summary>Free bytes after the linear data (room for <see cref="Put"/> while there are no fragments).</summary>
        public int Tailroom => LinearCapacity - _dataOffset - _linearLength;

        /// <summary>Number of page fragments attached.</summary>
        public int FragmentCount => _fragmentCount;

        /// <summary>Fragment <paramref name="index"/> (0 ≤ index &lt; <see cref="FragmentCount"/>).</summary>
        public ref PageFragment Fragment(int index) => ref _fragments[index];

        /// <summary>
        /// Transmit with <see cref="FlagNeedsChecksum"/>: offset of the first checksummed byte from the current
        /// data start (it moves with <see cref="Push"/>, like Linux csum_start relative to skb->data).
        /// </summary>
        public int ChecksumStart => _checksumStart - _dataOffset;

        /// <summary>
        /// Asks the device to complete the transport checksum: sum from <paramref name="start"/> (offset from the
        /// current data start, inside the linear area) to the end, store at start + <paramref name="offset"/>.
        /// The caller has stored the pseudo-header sum in the field.
        /// </summary>
        public void SetChecksumPartial(int start, int offset)
        {
            _checksumStart = _dataOffset + start;
            ChecksumOffset = offset;
            Flags |= FlagNeedsChecksum;
        }

        /// <summary>Linear data as a span.</summary>
        public Span<byte> Linear => new Span<byte>(_buffer + _dataOffset, _linearLength);

        /// <summary>Makes the packet empty with <paramref name="headroom"/> bytes reserved in front.</summary>
        internal void Reset(int headroom)
        {
            _dataOffset = headroom;
            _linearLength = 0;
            _fragmentCount = 0;
            Length = 0;
            TrueSize = LinearCapacity;
            Flags = 0;
            GsoSize = 0;
            ChecksumOffset = 0;
            _checksumStart = 0;
            Tag = 0;
            Timestamp = 0;
            Next = null;
        }

        /// <summary>Prepends <paramref name="count"/> bytes; returns their address, or null without headroom.</summary>
        public byte* Push(int count)
        {
            if (count < 0 || count > _dataOffset)
            {
                return null;
            }
            _dataOffset -= count;
            _linearLength += count;
            Length += count;
            return _buffer + _dataOffset;
        }

        /// <summary>
        /// Appends <paramref name="count"/> bytes to the linear area; returns their address, or null when the
        /// packet already has fragments or there is no tailroom.
        /// </summary>
        public byte* Put(int count)
        {
            if (count < 0 || _fragmentCount != 0 || count > Tailroom)
            {
                return null;
            }
            byte* tail = _buffer + _dataOffset + _linearLength;
            _linearLength += count;
            Length += count;
            return tail;
        }

        /// <summary>
        /// Attaches a page fragment after the existing data. The packet takes over one reference the caller
        /// holds on <paramref name="page"/>. <paramref name="trueSize"/> is the size of the buffer the bytes
        /// came from (added to <see cref="TrueSize"/>). Returns false when all fragment slots are used; the
        /// caller then still owns its reference.
        /// </summary>
        public bool AppendFragment(PagePool pool, int page, int offset, int length, int trueSize)
        {
            if (_fragmentCount == MaxFragments || length < 0)
            {
                return false;
            }
            ref PageFragment fragment = ref _fragments[_fragmentCount++];
            fragment.Pool = pool;
            fragment.Page = page;
            fragment.Offset = offset;
            fragment.Length = length;
            Length += length;
            TrueSize += trueSize;
            return true;
        }

        /// <summary>
        /// Extends the last fragment by <paramref name="length"/> bytes when they directly follow it in the same
        /// page (Linux skb_coalesce_rx_frag): true when merged — the caller then drops its own reference on the
        /// page, as the packet already holds one. <paramref name="trueSize"/> is added to <see cref="TrueSize"/>.
        /// </summary>
        public bool TryCoalesceFragment(PagePool pool, int page, int offset, int length, int trueSize)
        {
            if (_fragmentCount == 0 || length < 0)
            {
                return false;
            }
            ref PageFragment last = ref _fragments[_fragmentCount - 1];
            if (last.Pool != pool || last.Page != page || last.Offset + last.Length != offset)
            {
                return false;
            }
            last.Length += length;
            Length += length;
            TrueSize += trueSize;
            return true;
        }

        /// <summary>
        /// Moves all of <paramref name="other"/>'s bytes behind this packet's without copying (Linux skb_try_coalesce,
        /// as TCP uses it for adjacent segments): possible when they are all in page fragments and the slots
        /// suffice; a first fragment that continues this packet's last one in the same page is merged into it. The
        /// page references move along; <paramref name="other"/> is left empty, for the caller to free. TrueSize
        /// grows by what <paramref name="other"/> was charged beyond its own linear area. False (nothing changed)
        /// when <paramref name="other"/> has bytes in its linear area or too many fragments.
        /// </summary>
        public bool TryAppendPacket(Packet other)
        {
            if ((object)other == this || other._linearLength != 0 || other._fragmentCount == 0)
            {
                return false;
            }
            int first = 0;
            if (_fragmentCount > 0)
            {
                ref PageFragment last = ref _fragments[_fragmentCount - 1];
                ref PageFragment head = ref other._fragments[0];
                if ((object)last.Pool == head.Pool && last.Page == head.Page && last.Offset + last.Length == head.Offset)
                {
                    first = 1;
                }
            }
            if (_fragmentCount + other._fragmentCount - first > MaxFragments)
            {
                return false;
            }
            if (first == 1)
            {
                ref PageFragment head = ref other._fragments[0];
                _fragments[_fragmentCount - 1].Length += head.Length;
                head.Pool.Release(head.Page); // this packet already holds a reference on the page
                head.Pool = null;
            }
            for (int i = first; i < other._fragmentCount; i++)
            {
                _fragments[_fragmentCount++] = other._fragments[i];
                other._fragments[i].Pool = null;
            }
            other._fragmentCount = 0;
            Length += other.Length;
            int charged = other.TrueSize - LinearCapacity;
            TrueSize += charged > 0 ? charged : 0;
            other.Length = 0;
            other.TrueSize = LinearCapacity;
            return true;
        }

        /// <summary>Removes <paramref name="count"/> bytes from the front (a header that has been parsed).</summary>
        public bool Pull(int count)
        {
            if (count < 0 || count > Length)
            {
                return false;
            }
            Length -= count;
            if (count <= _linearLength)
            {
                _dataOffset += count;
                _linearLength -= count;
                return true;
            }
            count -= _linearLength;
            _dataOffset += _linearLength;
            _linearLength = 0;
            int drop = 0;
            while (count > 0 && drop < _fragmentCount)
            {
                ref PageFragment fragment = ref _fragments[drop];
                if (count < fragment.Length)
                {
                    fragment.Offset += count;
                    fragment.Length -= count;
                    count = 0;
                    break;
                }
                count -= fragment.Length;
                fragment.Pool.Release(fragment.Page);
                drop++;
            }
            RemoveLeadingFragments(drop);
            return true;
        }

        /// <summary>Cuts the packet down to <paramref name="length"/> bytes (drops link-layer padding).</summary>
        public bool TrimTo(int length)
        {
            if (length < 0 || length > Length)
            {
                return false;
            }
            int excess = Length - length;
            Length = length;
            while (excess > 0 && _fragmentCount > 0)
            {
                ref PageFragment last = ref _fragments[_fragmentCount - 1];
                if (excess < last.Length)
                {
                    last.Length -= excess;
                    return true;
                }
                excess -= last.Length;
                last.Pool.Release(last.Page);
                last.Pool = null;
                _fragmentCount--;
            }
            _linearLength -= excess;
            return true;
        }

        /// <summary>
        /// Makes sure the first <paramref name="count"/> bytes are in the linear area (Linux pskb_may_pull),
        /// copying them out of fragments if needed. False when the packet is shorter or the area too small.
        /// </summary>
        public bool EnsureLinear(int count)
        {
            if (count <= _linearLength)
            {
                return true;
            }
            if (count > Length || count > LinearCapacity)
            {
                return false;
            }
            if (_dataOffset + count > LinearCapacity)
            {
                // Slide the linear bytes to the start of the buffer to make room behind them.
                Copy(_buffer + _dataOffset, _buffer, _linearLength);
                _dataOffset = 0;
            }
            int need = count - _linearLength;
            byte* tail = _buffer + _dataOffset + _linearLength;
            int drop = 0;
            while (need > 0)
            {
                ref PageFragment fragment = ref _fragments[drop];
                int take = need < fragment.Length ? need : fragment.Length;
                Copy(fragment.Pool.Address(fragment.Page) + fragment.Offset, tail, take);
                tail += take;
                need -= take;
                _linearLength += take;
                fragment.Offset += take;
                fragment.Length -= take;
                if (fragment.Length == 0)
                {
                    fragment.Pool.Release(fragment.Page);
                    drop++;
                }
            }
            RemoveLeadingFragments(drop);
            return true;
        }

        /// <summary>
        /// Copies up to <paramref name="count"/> bytes starting at data offset <paramref name="offset"/> into
        /// <paramref name="destination"/>. Returns the number of bytes copied.
        /// </summary>
        public int CopyTo(int offset, byte* destination, int count)
        {
            if (offset < 0 || count <= 0 || offset >= Length)
            {
                return 0;
            }
            if (count > Length - offset)
            {
                count = Length - offset;
            }
            int copied = 0;
            int segment = 0;
            int segments = SegmentCount;
            while (copied < count && segment < segments)
            {
                int length;
                byte* source = Segment(segment, out length);
                segment++;
                if (offset >= length)
                {
                    offset -= length;
                    continue;
                }
                int take = length - offset;
                if (take > count - copied)
                {
                    take = count - copied;
                }
                Copy(source + offset, destination + copied, take);
                copied += take;
                offset = 0;
            }
            return copied;
        }

        /// <summary>Copies bytes starting at <paramref name="offset"/> into a span; returns bytes copied.</summary>
        public int CopyTo(int offset, Span<byte> destination)
        {
            fixed (byte* target = destination)
            {
                return CopyTo(offset, target, destination.Length);
            }
        }

        /// <summary>Number of contiguous data segments: the linear area (always segment 0) plus each fragment.</summary>
        public int SegmentCount => 1 + _fragmentCount;

        /// <summary>Address and length of segment <paramref name="index"/> (see <see cref="SegmentCount"/>).</summary>
        public byte* Segment(int index, out int length)
        {
            if (index == 0)
            {
                length = _linearLength;
                return _buffer + _dataOffset;
            }
            ref PageFragment fragment = ref _fragments[index - 1];
            length = fragment.Length;
            return fragment.Pool.Address(fragment.Page) + fragment.Offset;
        }

        /// <summary>Device address of segment <paramref name="index"/> (for scatter-gather transmit).</summary>
        public ulong SegmentPhysical(int index)
        {
            if (index == 0)
            {
                return DataPhysical;
            }
            ref PageFragment fragment = ref _fragments[index - 1];
            return fragment.Pool.Physical(fragment.Page) + (ulong)fragment.Offset;
        }

        /// <summary>Drops every page reference and returns the descriptor to its pool. Call exactly once.</summary>
        public void Free()
        {
            ReleaseFragments();
            Pool.Return(this);
        }

        internal void ReleaseFragments()
        {
            for (int i = 0; i < _fragmentCount; i++)
            {
                ref PageFragment fragment = ref _fragments[i];
                fragment.Pool.Release(fragment.Page);
                fragment.Pool = null;
            }
            _fragmentCount = 0;
        }

        private void RemoveLeadingFragments(int drop)
        {
            if (drop == 0)
            {
                return;
            }
            for (int i = drop; i < _fragmentCount; i++)
            {
                _fragments[i - drop] = _fragments[i];
            }
            for (int i = _fragmentCount - drop; i < _fragmentCount; i++)
            {
                _fragments[i].Pool = null;
            }
            _fragmentCount -= drop;
        }

        private static void Copy(byte* source, byte* destination, int count)
        {
            new ReadOnlySpan<byte>(source, count).CopyTo(new Span<byte>(destination, count));
        }
    }
}
