using Keel.Hal;

namespace Keel.Buffers
{
    /// <summary>
    /// A fixed set of <see cref="Packet"/> descriptors made at start-up (Linux: the skbuff slab cache).
    /// Taking and returning a packet never allocates. The linear areas live in DMA pages so a driver can
    /// hand them to the device directly.
    /// </summary>
    public sealed unsafe class PacketPool
    {
        private readonly IPageAllocator _allocator;
        private readonly DmaPage[] _pages;
        private Packet _free;

        private PacketPool(IPageAllocator allocator, int pageCount)
        {
            _allocator = allocator;
            _pages = new DmaPage[pageCount];
        }

        /// <summary>
        /// Makes a pool of <paramref name="count"/> packets. Returns null when the page allocator runs out
        /// (every page taken so far is given back).
        /// </summary>
        public static PacketPool Create(IPageAllocator allocator, int count)
        {
            int perPage = DmaPage.Size / Packet.LinearCapacity;
            int pageCount = (count + perPage - 1) / perPage;
            PacketPool pool = new PacketPool(allocator, pageCount);
            for (int p = 0; p < pageCount; p++)
            {
                DmaPage page;
                if (!allocator.TryAllocatePage(out page))
                {
                    pool.Available = pool.Capacity; // none handed out yet, so Destroy gives every page back
                    pool.Destroy();
                    return null;
                }
                pool._pages[p] = page;
                for (int slot = 0; slot < perPage && pool.Capacity < count; slot++)
                {
                    int offset = slot * Packet.LinearCapacity;
                    Packet packet = new Packet(pool, page.Virtual + offset, page.Physical + (ulong)offset);
                    packet.InPool = true;
                    packet.Next = pool._free;
                    pool._free = packet;
                    pool.Capacity++;
                }
            }
            pool.Available = pool.Capacity;
            return pool;
        }

        /// <summary>Descriptors the pool owns.</summary>
        public int Capacity { get; private set; }

        /// <summary>Descriptors currently free.</summary>
        public int Available { get; private set; }

        /// <summary>Descriptors handed out and not yet freed.</summary>
        public int InUse => Capacity - Available;

        /// <summary>Successful <see cref="TryAllocate"/> calls.</summary>
        public long Allocations { get; private set; }

        /// <summary><see cref="TryAllocate"/> calls that found the pool empty.</summary>
        public long AllocationFailures { get; private set; }

        /// <summary>Frees of a packet that was already free (ignored, counted).</summary>
        public long DoubleFrees { get; private set; }

        /// <summary>Takes an empty packet with <paramref name="headroom"/> bytes in front; null when exhausted.</summary>
        public Packet TryAllocate(int headroom)
        {
            Packet packet = _free;
            if (packet == null || headroom < 0 || headroom > Packet.LinearCapacity)
            {
                AllocationFailures++;
                return null;
            }
            _free = packet.Next;
            packet.InPool = false;
            packet.Reset(headroom);
            Available--;
            Allocations++;
            return packet;
        }

        /// <summary>Takes a packet with the default transmit headroom.</summary>
        public Packet TryAllocate() => TryAllocate(Packet.DefaultHeadroom);

        internal void Return(Packet packet)
        {
            if (packet.InPool)
            {
                DoubleFrees++;
                return;
            }
            packet.InPool = true;
            packet.Next = _free;
            _free = packet;
            Available++;
        }

        /// <summary>Gives the linear-area pages back. Only valid when every packet has been returned.</summary>
        public bool Destroy()
        {
            if (Available != Capacity)
            {
                return false;
            }
            for (int p = 0; p < _pages.Length; p++)
            {
                if (_pages[p].IsValid)
                {
                    _allocator.FreePage(_pages[p]);
                    _pages[p] = default;
                }
            }
            _free = null;
            return true;
        }
    }
}
