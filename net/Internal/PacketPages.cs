using Keel.Buffers;
using Keel.Hal;

namespace Keel.Net.Internal
{
    /// <summary>Copies packets into transmit pages, packed (what fragment reassembly of both IP versions needs).</summary>
    internal static unsafe class PacketPages
    {
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
