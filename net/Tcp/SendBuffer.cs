using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Internal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// A TCP send buffer made of 4 KiB pages from the stack's transmit <see cref="PagePool"/>: a ring of page
    /// indices (sized at start-up) holding the bytes from snd_una onwards. Segments attach the pages as packet
    /// fragments (one extra reference each), so transmissions and retransmissions copy nothing; a page goes back
    /// to the pool when it is acknowledged and every packet using it has been freed.
    /// </summary>
    internal sealed unsafe class SendBuffer
    {
        private const int PageSize = DmaPage.Size;

        private readonly PagePool _pool;
        private readonly int[] _pages;
        private int _head;       // ring index of the first page
        private int _count;      // pages in the ring
        private int _headOffset; // offset of the first byte inside the first page

        public SendBuffer(PagePool pool, int maxBytes)
        {
            _pool = pool;
            _pages = new int[maxBytes / PageSize + 2];
        }

        /// <summary>Bytes held (sent-unacknowledged plus unsent).</summary>
        public int Length { get; private set; }

        /// <summary>Largest number of bytes the ring can describe.</summary>
        public int Capacity => (_pages.Length - 1) * PageSize;

        /// <summary>Copies up to <paramref name="count"/> bytes in, limited to <paramref name="limit"/> bytes held in total.</summary>
        public int Append(byte* source, int count, int limit, out bool poolEmpty)
        {
            poolEmpty = false;
            if (limit > Capacity)
            {
                limit = Capacity;
            }
            int room = limit - Length;
            if (count > room)
            {
                count = room;
            }
            int copied = 0;
            while (copied < count)
            {
                int tailOffset = (_headOffset + Length) & (PageSize - 1);
                int used = _headOffset + Length;
                if (used >= _count * PageSize)
                {
                    int page;
                    if (_count == _pages.Length || !_pool.TryAllocate(out page))
                    {
                        poolEmpty = true;
                        break;
                    }
                    _pages[(_head + _count) % _pages.Length] = page;
                    _count++;
                }
                int lastPage = _pages[(_head + _count - 1) % _pages.Length];
                int take = PageSize - tailOffset;
                if (take > count - copied)
                {
                    take = count - copied;
                }
                NetBytes.Copy(source + copied, _pool.Address(lastPage) + tailOffset, take);
                copied += take;
                Length += take;
            }
            return copied;
        }

        /// <summary>Drops <paramref name="count"/> acknowledged bytes from the front.</summary>
        public void Release(int count)
        {
            if (count > Length)
            {
                count = Length;
            }
            Length -= count;
            _headOffset += count;
            while (_count > 0 && _headOffset >= PageSize)
            {
                _pool.Release(_pages[_head]);
                _head = (_head + 1) % _pages.Length;
                _count--;
                _headOffset -= PageSize;
            }
            if (Length == 0)
            {
                // Everything acknowledged: the partly filled last page goes back too, so an idle connection
                // holds no page (packets still using it keep their own references).
                while (_count > 0)
                {
                    _pool.Release(_pages[_head]);
                    _head = (_head + 1) % _pages.Length;
                    _count--;
                }
                _head = 0;
                _headOffset = 0;
            }
        }

        /// <summary>
        /// Attaches bytes [offset, offset+count) to <paramref name="packet"/> as page fragments. False when the
        /// packet ran out of fragment slots (what was attached stays attached).
        /// </summary>
        public bool AttachTo(Packet packet, int offset, int count)
        {
            int position = _headOffset + offset;
            while (count > 0)
            {
                int ring = (_head + position / PageSize) % _pages.Length;
                int inPage = position & (PageSize - 1);
                int take = PageSize - inPage;
                if (take > count)
                {
                    take = count;
                }
                int page = _pages[ring];
                _pool.AddRef(page, 1);
                if (!packet.AppendFragment(_pool, page, inPage, take, 0))
                {
                    _pool.Release(page);
                    return false;
                }
                position += take;
                count -= take;
            }
            return true;
        }

        /// <summary>Copies bytes [offset, offset+count) to <paramref name="destination"/>.</summary>
        public void CopyOut(int offset, byte* destination, int count)
        {
            int position = _headOffset + offset;
            while (count > 0)
            {
                int ring = (_head + position / PageSize) % _pages.Length;
                int inPage = position & (PageSize - 1);
                int take = PageSize - inPage;
                if (take > count)
                {
                    take = count;
                }
                NetBytes.Copy(_pool.Address(_pages[ring]) + inPage, destination, take);
                destination += take;
                position += take;
                count -= take;
            }
        }

        /// <summary>Returns every page to the pool.</summary>
        public void Clear()
        {
            while (_count > 0)
            {
                _pool.Release(_pages[_head]);
                _head = (_head + 1) % _pages.Length;
                _count--;
            }
            _head = 0;
            _headOffset = 0;
            Length = 0;
        }
    }
}
