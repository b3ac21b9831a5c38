using Keel.Buffers;
using Keel.Hal;

namespace Keel.Net.Internal
{
    /// <summary>
    /// A datagram's fragments as a chain of packets linked by <c>Next</c>, each with its offset in <c>Tag</c> (how
    /// both IP versions' reassemblers hold them): the end of the data held, freeing, and the packed copy of a
    /// complete datagram into transmit pages.
    /// </summary>
    internal static unsafe class FragmentChain
    {
        /// <summary>The largest offset + length in the chain (0 when it is empty).</summary>
        public static int End(Packet head)
        {
            int end = 0;
            for (Packet p = head; p != null; p = p.Next)
            {
                int e = (int)p.Tag + p.Length;
                if (e > end)
                {
                    end = e;
                }
            }
            return end;
        }

        /// <summary>Frees every packet of the chain; returns how many.</summary>
        public static int Free(Packet head)
        {
            int count = 0;
            Packet p = head;
            while (p != null)
            {
                Packet next = p.Next;
                p.Next = null;
                p.Free();
                count++;
                p = next;
            }
            return count;
        }

        /// <summary>
        /// Appends the data of every packet of the chain from <paramref name="head"/> (linked by <c>Next</c>) to
        /// <paramref name="whole"/>, copied into pages of <paramref name="pages"/> filled one after the other. False
        /// (a page allocation failure counted in <paramref name="counters"/>, or no fragment slot left) when not all fit.
        /// </summary>
        public static bool AppendChain(Packet whole, Packet head, PagePool pages, long[] counters)
        {
            int page = -1;
            int used = DmaPage.Size;
            for (Packet p = head; p != null; p = p.Next)
            {
                int copied = 0;
                while (copied < p.Length)
                {
                    if (used == DmaPage.Size)
                    {
                        if (page >= 0 && !whole.AppendFragment(pages, page, 0, used, DmaPage.Size))
                        {
                            pages.Release(page);
                            return false;
                        }
                        if (!pages.TryAllocate(out page))
                        {
                            counters[NetStatistics.TxPageAllocFailures]++;
                            return false;
                        }
                        used = 0;
                    }
                    int take = p.Length - copied;
                    if (take > DmaPage.Size - used)
                    {
                        take = DmaPage.Size - used;
                    }
                    p.CopyTo(copied, pages.Address(page) + used, take);
                    copied += take;
                    used += take;
                }
            }
            if (page >= 0 && !whole.AppendFragment(pages, page, 0, used, DmaPage.Size))
            {
                pages.Release(page);
                return false;
            }
            return true;
        }
    }
}
