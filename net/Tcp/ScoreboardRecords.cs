using Keel.Buffers;
using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// The storage of a <see cref="TcpScoreboard"/>: a ring of records (start, length, last transmit time, flags)
    /// whose size is a power of two. Each connection has a small one of its own; a large one comes from a
    /// <see cref="ScoreboardPool"/> while more segments are in flight than the small one holds.
    /// </summary>
    internal sealed class ScoreboardRecords
    {
        internal readonly uint[] Start;
        internal readonly int[] Length;
        internal readonly Instant[] Xmit;
        internal readonly byte[] Flags;
        internal readonly int Mask;

        /// <param name="capacity">Records; rounded up to a power of two, at least 16.</param>
        internal ScoreboardRecords(int capacity)
        {
            int size = 16;
            while (size < capacity)
            {
                size <<= 1;
            }
            Start = new uint[size];
            Length = new int[size];
            Xmit = new Instant[size];
            Flags = new byte[size];
            Mask = size - 1;
        }
    }

    /// <summary>
    /// Large scoreboard storages (some made at start-up, the rest when first taken) shared by the connections of a
    /// <see cref="TcpLayer"/>: an
    /// idle or lightly used connection holds none, so its cost does not grow with the send buffer. A connection
    /// that finds the pool empty keeps its small ring and waits for ACKs as when a ring is full.
    /// </summary>
    internal sealed class ScoreboardPool : IPoolMaker<ScoreboardRecords>
    {
        /// <summary>Records of a connection's own ring: enough for a request and its response.</summary>
        internal const int SmallCapacity = 16;

        private readonly int _capacity;
        private readonly LazyPool<ScoreboardRecords> _storages;

        /// <summary>Large storages made at start-up (as many as a table of <see cref="NetConfig.PreallocatedSocketLimit"/> sockets has); the rest are made when first taken.</summary>
        internal const int Preallocated = NetConfig.PreallocatedSocketLimit / 16 + 8;

        /// <param name="count">Large storages.</param>
        /// <param name="capacity">Records in each.</param>
        internal ScoreboardPool(int count, int capacity)
        {
            _capacity = capacity;
            _storages = new LazyPool<ScoreboardRecords>(count, Preallocated, this);
        }

        /// <summary>Large storages there may be.</summary>
        internal int Total => _storages.Limit;

        /// <summary>Large storages not in use (made or not yet made).</summary>
        internal int Available => _storages.Available;

        /// <summary>A large storage, or null when every one is in use.</summary>
        internal ScoreboardRecords Take() => _storages.Take();

        /// <summary>Gives back a storage from <see cref="Take"/>.</summary>
        internal void Give(ScoreboardRecords records) => _storages.Give(records);

        ScoreboardRecords IPoolMaker<ScoreboardRecords>.Make(int index) => new ScoreboardRecords(_capacity);
    }
}
