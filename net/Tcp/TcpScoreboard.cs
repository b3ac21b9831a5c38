using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// The sender's record of every segment between snd.una and snd.max (Linux's retransmit queue, RFC 6675's
    /// scoreboard): one record per transmitted segment of at most one MSS (a TSO send makes one record per MSS
    /// it carries), with its last transmit time and whether it is SACKed, marked lost, or retransmitted and
    /// still in flight. Sized at start-up (a ring of <see cref="Capacity"/> records); when it is full the sender
    /// waits as if the window were closed. Byte counters make RFC 6675's pipe
    /// (<c>outstanding − sacked − lost + retransmitted</c>) O(1); loss marking (RACK, RFC 8985, and the
    /// DupThresh rule of RFC 6675) walks the records only while SACK information or retransmissions exist.
    /// </summary>
    internal sealed class TcpScoreboard
    {
        internal const byte FlagSacked = 1;
        internal const byte FlagLost = 2;
        internal const byte FlagRetrans = 4;    // retransmitted, and that copy is still in flight
        internal const byte FlagEverRetrans = 8;
        internal const byte FlagFin = 16;       // the record's last sequence number is our FIN

        /// <summary>Segments SACKed above a hole that make it lost (RFC 6675 DupThresh).</summary>
        internal const int DupThresh = 3;

        private readonly ScoreboardRecords _own;
        private readonly ScoreboardPool _pool;
        private ScoreboardRecords _records;
        private uint[] _start;
        private int[] _length;
        private Instant[] _xmit;
        private byte[] _flags;
        private int _mask;
        private int _head;
        private int _count;
        private int _retransHint; // logical index from which a lost, unretransmitted record may be found
        private readonly uint[] _lastBlocks = new uint[2 * TcpSegment.MaxSackBlocks]; // the previous ACK's SACK blocks
        private int _lastBlockCount;

        internal int SackedBytes;
        internal int LostBytes;
        internal int RetransBytes;
        internal int SackedCount;

        // RACK (RFC 8985 section 6.2): the most recently sent segment that was delivered.
        internal Instant RackXmit;
        internal uint RackEnd;
        internal Duration RackRtt;
        internal bool RackValid;
        internal Duration MinRtt = Duration.MaxValue;

        /// <summary>Highest SACKed sequence (forward-most ACK), valid while <see cref="SackedCount"/> &gt; 0.</summary>
        internal uint Fack;

        /// <summary>Reordering seen on this connection (a hole filled without retransmission, or a D-SACK).</summary>
        internal bool ReorderingSeen;

        /// <summary>A scoreboard of a fixed <paramref name="capacity"/> (rounded up to a power of two).</summary>
        public TcpScoreboard(int capacity) : this(new ScoreboardRecords(capacity), null)
        {
        }

        /// <summary>
        /// A scoreboard with a small ring of its own that borrows a large one from <paramref name="pool"/> while
        /// more segments are in flight (<see cref="Grow"/>) and gives it back when everything is acknowledged.
        /// </summary>
        public TcpScoreboard(ScoreboardPool pool) : this(new ScoreboardRecords(ScoreboardPool.SmallCapacity), pool)
        {
        }

        private TcpScoreboard(ScoreboardRecords own, ScoreboardPool pool)
        {
            _own = own;
            _pool = pool;
            Use(own);
        }

        private void Use(ScoreboardRecords records)
        {
            _records = records;
            _start = records.Start;
            _length = records.Length;
            _xmit = records.Xmit;
            _flags = records.Flags;
            _mask = records.Mask;
        }

        /// <summary>True while the large ring of the pool is in use.</summary>
        internal bool Borrowed => _records != _own;

        /// <summary>
        /// Moves the records to a large ring of the pool when the own ring is in use; false when there is no pool or
        /// it is empty (the sender then waits for ACKs as when the ring is full).
        /// </summary>
        internal bool Grow()
        {
            if (_pool == null || Borrowed)
            {
                return false;
            }
            ScoreboardRecords large = _pool.Take();
            if (large == null)
            {
                return false;
            }
            for (int i = 0; i < _count; i++)
            {
                int slot = (_head + i) & _mask;
                large.Start[i] = _start[slot];
                large.Length[i] = _length[slot];
                large.Xmit[i] = _xmit[slot];
                large.Flags[i] = _flags[slot];
            }
            _head = 0;
            Use(large);
            return true;
        }

        /// <summary>Gives a borrowed ring back to the pool once no record is left.</summary>
        private void ShrinkWhenEmpty()
        {
            if (_count == 0 && Borrowed)
            {
                _pool.Give(_records);
                _head = 0;
                Use(_own);
            }
        }

        internal int Capacity => _mask + 1;

        internal int Count => _count;

        internal bool IsFull => _count == _mask + 1;

        internal bool IsEmpty => _count == 0;

        internal uint Start(int i) => _start[(_head + i) & _mask];

        internal int Length(int i) => _length[(_head + i) & _mask];

        internal uint End(int i) => _start[(_head + i) & _mask] + (uint)_length[(_head + i) & _mask];

        internal Instant Xmit(int i) => _xmit[(_head + i) & _mask];

        internal byte Flags(int i) => _flags[(_head + i) & _mask];

        internal void Clear()
        {
            _head = 0;
            _count = 0;
            ShrinkWhenEmpty();
            _retransHint = 0;
            SackedBytes = 0;
            LostBytes = 0;
            RetransBytes = 0;
            SackedCount = 0;
            RackXmit = Instant.None;
            RackEnd = 0;
            RackRtt = Duration.Zero;
            RackValid = false;
            MinRtt = Duration.MaxValue;
            ReorderingSeen = false;
            _lastBlockCount = 0;
        }

        /// <summary>
        /// <see cref="MarkSacked"/> for one SACK block of an ACK, skipping the part the previous ACK's blocks already
        /// marked (records stay SACKed until acknowledged, and most blocks repeat or grow the previous ACK's).
        /// </summary>
        internal int MarkSackBlock(uint left, uint right, Instant now)
        {
            uint from = left;
            for (int c = 0; c < _lastBlockCount; c++)
            {
                if (TcpSequence.Leq(_lastBlocks[2 * c], from) && TcpSequence.Gt(_lastBlocks[2 * c + 1], from))
                {
                    from = _lastBlocks[2 * c + 1];
                }
            }
            return TcpSequence.Lt(from, right) ? MarkSacked(from, right, now) : 0;
        }

        /// <summary>The SACK blocks of the ACK just processed (all of them, as received), for the next one.</summary>
        internal unsafe void RememberSackBlocks(ref TcpSegment segment)
        {
            _lastBlockCount = 0;
            for (int b = 0; b < segment.SackCount; b++)
            {
                _lastBlocks[2 * b] = segment.Sack[2 * b];
                _lastBlocks[2 * b + 1] = segment.Sack[2 * b + 1];
                _lastBlockCount++;
            }
        }

        /// <summary>Appends a newly sent segment of <paramref name="length"/> sequence numbers (FIN included).</summary>
        internal void Add(uint start, int length, Instant now, bool fin)
        {
            int slot = (_head + _count) & _mask;
            _start[slot] = start;
            _length[slot] = length;
            _xmit[slot] = now;
            _flags[slot] = fin ? FlagFin : (byte)0;
            _count++;
        }

        /// <summary>
        /// Removes what <paramref name="ack"/> acknowledges. Returns bytes newly delivered that were not SACKed before;
        /// <paramref name="rtt"/> is the RTT of the newest record acknowledged that was never retransmitted
        /// (Karn), or negative when there is none.
        /// </summary>
        internal int AckTo(uint ack, Instant now, out Duration rtt)
        {
            rtt = Duration.FromNanoseconds(-1);
            int delivered = 0;
            while (_count > 0)
            {
                int slot = _head;
                uint start = _start[slot];
                int length = _length[slot];
                uint end = start + (uint)length;
                if (TcpSequence.Leq(end, ack))
                {
                    byte flags = _flags[slot];
                    Delivered(slot, now, flags);
                    if ((flags & FlagEverRetrans) == 0)
                    {
                        rtt = now - _xmit[slot];
                    }
                    if ((flags & FlagSacked) == 0)
                    {
                        delivered += length;
                    }
                    Drop(slot, flags, length);
                    _head = (_head + 1) & _mask;
                    _count--;
                    if (_retransHint > 0)
                    {
                        _retransHint--;
                    }
                    ShrinkWhenEmpty();
                    continue;
                }
                if (TcpSequence.Gt(ack, start))
                {
                    // Part of a record (the peer acknowledged inside a segment): trim it.
                    int cut = (int)(ack - start);
                    byte flags = _flags[slot];
                    if ((flags & FlagSacked) != 0)
                    {
                        SackedBytes -= cut;
                    }
                    else
                    {
                        delivered += cut;
                        if ((flags & FlagLost) != 0)
                        {
                            LostBytes -= cut;
                        }
                        if ((flags & FlagRetrans) != 0)
                        {
                            RetransBytes -= cut;
                        }
                    }
                    _start[slot] = ack;
                    _length[slot] = length - cut;
                }
                break;
            }
            return delivered;
        }

        private void Drop(int slot, byte flags, int length)
        {
            if ((flags & FlagSacked) != 0)
            {
                SackedBytes -= length;
                SackedCount--;
                return;
            }
            if ((flags & FlagLost) != 0)
            {
                LostBytes -= length;
            }
            if ((flags & FlagRetrans) != 0)
            {
                RetransBytes -= length;
            }
        }

        /// <summary>RACK step 2: a record was delivered (cumulatively or by SACK).</summary>
        private void Delivered(int slot, Instant now, byte flags)
        {
            Instant xmit = _xmit[slot];
            Duration rtt = now - xmit;
            if ((flags & FlagEverRetrans) != 0 && rtt < MinRtt)
            {
                return; // the ACK is probably for the original transmission (RFC 8985 step 2)
            }
            if ((flags & FlagEverRetrans) == 0 && rtt < MinRtt)
            {
                MinRtt = rtt;
            }
            uint end = _start[slot] + (uint)_length[slot];
            if (!RackValid || xmit > RackXmit || (xmit == RackXmit && TcpSequence.Gt(end, RackEnd)))
            {
                RackXmit = xmit;
                RackEnd = end;
                RackRtt = rtt;
                RackValid = true;
            }
        }

        /// <summary>
        /// Marks records fully inside [<paramref name="left"/>, <paramref name="right"/>) SACKed. Returns bytes newly
        /// SACKed. A record SACKed below one already SACKed without having been retransmitted is reordering.
        /// </summary>
        internal int MarkSacked(uint left, uint right, Instant now)
        {
            int newly = 0;
            for (int i = FirstAtOrAfter(left); i < _count; i++)
            {
                int slot = (_head + i) & _mask;
                uint start = _start[slot];
                if (TcpSequence.Geq(start, right))
                {
                    break;
                }
                uint end = start + (uint)_length[slot];
                if (TcpSequence.Lt(start, left) || TcpSequence.Gt(end, right))
                {
                    continue;
                }
                byte flags = _flags[slot];
                if ((flags & FlagSacked) != 0)
                {
                    continue;
                }
                Delivered(slot, now, flags);
                int length = _length[slot];
                if ((flags & FlagLost) != 0)
                {
                    LostBytes -= length;
                }
                if ((flags & FlagRetrans) != 0)
                {
                    RetransBytes -= length;
                }
                uint end2 = start + (uint)length;
                if ((flags & FlagEverRetrans) == 0 && SackedCount > 0 && TcpSequence.Lt(end2, Fack))
                {
                    ReorderingSeen = true; // delivered below what was already SACKed, never retransmitted
                }
                if (SackedCount == 0 || TcpSequence.Gt(end2, Fack))
                {
                    Fack = end2;
                }
                _flags[slot] = (byte)((flags & (FlagEverRetrans | FlagFin)) | FlagSacked);
                SackedBytes += length;
                SackedCount++;
                newly += length;
            }
            return newly;
        }

        /// <summary>
        /// RACK (RFC 8985 section 6.2 step 5) and RFC 6675's DupThresh rule in one backward walk: marks records lost.
        /// Returns the number of records newly marked; <paramref name="reorderTimeout"/> is how long until the
        /// earliest record not yet lost would be (zero: none waiting).
        /// </summary>
        internal int DetectLoss(Instant now, Duration reorderWindow, bool useDupThresh, out Duration reorderTimeout)
        {
            reorderTimeout = Duration.Zero;
            int marked = 0;
            int sackedAbove = 0;
            for (int i = _count - 1; i >= 0; i--)
            {
                int slot = (_head + i) & _mask;
                byte flags = _flags[slot];
                if ((flags & FlagSacked) != 0)
                {
                    sackedAbove++;
                    continue;
                }
                if ((flags & (FlagLost | FlagRetrans)) == FlagLost)
                {
                    continue; // lost and waiting for its retransmission
                }
                bool lost = false;
                if (useDupThresh && sackedAbove >= DupThresh && (flags & FlagLost) == 0)
                {
                    lost = true;
                }
                else if (RackValid)
                {
                    Instant xmit = _xmit[slot];
                    uint end = _start[slot] + (uint)_length[slot];
                    if (xmit < RackXmit || (xmit == RackXmit && TcpSequence.Lt(end, RackEnd)))
                    {
                        Duration remaining = xmit + RackRtt + reorderWindow - now;
                        if (remaining <= Duration.Zero)
                        {
                            lost = true;
                        }
                        else if (reorderTimeout.IsZero || remaining < reorderTimeout)
                        {
                            reorderTimeout = remaining;
                        }
                    }
                }
                if (lost)
                {
                    MarkLost(i);
                    marked++;
                }
            }
            return marked;
        }

        /// <summary>Marks record <paramref name="i"/> lost (a retransmitted copy in flight counts as lost again).</summary>
        internal void MarkLost(int i)
        {
            int slot = (_head + i) & _mask;
            byte flags = _flags[slot];
            if ((flags & FlagSacked) != 0)
            {
                return;
            }
            int length = _length[slot];
            if ((flags & FlagRetrans) != 0)
            {
                RetransBytes -= length;
                flags &= unchecked((byte)~FlagRetrans);
            }
            if ((flags & FlagLost) == 0)
            {
                LostBytes += length;
                flags |= FlagLost;
            }
            _flags[slot] = flags;
            if (i < _retransHint)
            {
                _retransHint = i;
            }
        }

        /// <summary>After a retransmission timeout: every record not SACKed is lost; no retransmission is in flight.</summary>
        internal void MarkAllLost()
        {
            for (int i = 0; i < _count; i++)
            {
                MarkLost(i);
            }
            _retransHint = 0;
        }

        /// <summary>Undoes the marks of a spurious timeout (F-RTO): nothing is lost.</summary>
        internal void UnmarkLost()
        {
            for (int i = 0; i < _count; i++)
            {
                int slot = (_head + i) & _mask;
                _flags[slot] = (byte)(_flags[slot] & ~FlagLost);
            }
            LostBytes = 0;
        }

        /// <summary>Logical index of the first record marked lost and not yet retransmitted, or -1.</summary>
        internal int NextLost()
        {
            if (LostBytes == 0)
            {
                return -1;
            }
            for (int i = _retransHint; i < _count; i++)
            {
                byte flags = _flags[(_head + i) & _mask];
                if ((flags & (FlagLost | FlagRetrans | FlagSacked)) == FlagLost)
                {
                    _retransHint = i;
                    return i;
                }
            }
            _retransHint = _count;
            return -1;
        }

        /// <summary>Record <paramref name="i"/> was sent again at <paramref name="now"/>.</summary>
        internal void Retransmitted(int i, Instant now)
        {
            int slot = (_head + i) & _mask;
            byte flags = _flags[slot];
            if ((flags & FlagSacked) != 0)
            {
                _xmit[slot] = now;
                return;
            }
            if ((flags & FlagRetrans) == 0)
            {
                RetransBytes += _length[slot];
            }
            _flags[slot] = (byte)(flags | FlagRetrans | FlagEverRetrans);
            _xmit[slot] = now;
        }

        /// <summary>True when the byte counters match the records (tests call this after every step).</summary>
        internal bool CountersConsistent()
        {
            int sacked = 0;
            int lost = 0;
            int retrans = 0;
            int sackedCount = 0;
            for (int i = 0; i < _count; i++)
            {
                int slot = (_head + i) & _mask;
                byte flags = _flags[slot];
                if ((flags & FlagSacked) != 0)
                {
                    sacked += _length[slot];
                    sackedCount++;
                    if ((flags & (FlagLost | FlagRetrans)) != 0)
                    {
                        return false;
                    }
                    continue;
                }
                if ((flags & FlagLost) != 0)
                {
                    lost += _length[slot];
                }
                if ((flags & FlagRetrans) != 0)
                {
                    retrans += _length[slot];
                }
            }
            return sacked == SackedBytes && lost == LostBytes && retrans == RetransBytes && sackedCount == SackedCount;
        }

        /// <summary>
        /// The scoreboard against the send window [<paramref name="una"/>, <paramref name="max"/>): every record
        /// non-empty, in order without overlap and inside the window (so every SACKed, lost or retransmitted range
        /// is), the forward-most SACK inside it, and the byte counters matching the records. Null when all hold,
        /// else what broke (tests and fuzz targets call it).
        /// </summary>
        internal string CheckInvariants(uint una, uint max)
        {
            uint previous = una;
            for (int i = 0; i < _count; i++)
            {
                int slot = (_head + i) & _mask;
                if (_length[slot] <= 0)
                {
                    return "a scoreboard record is empty";
                }
                uint end = _start[slot] + (uint)_length[slot];
                if (TcpSequence.Lt(_start[slot], previous))
                {
                    return i == 0 ? "a scoreboard record starts below SND.UNA" : "scoreboard records overlap or are out of order";
                }
                if (TcpSequence.Gt(end, max))
                {
                    return "a scoreboard record ends beyond SND.MAX";
                }
                previous = end;
            }
            if (SackedCount > 0 && (TcpSequence.Leq(Fack, una) || TcpSequence.Gt(Fack, max)))
            {
                return "the forward-most SACK is outside the send window";
            }
            if (!CountersConsistent())
            {
                return "the scoreboard's byte counters do not match its records";
            }
            return null;
        }

        /// <summary>Bytes the records cover.</summary>
        internal long RecordedBytes()
        {
            long bytes = 0;
            for (int i = 0; i < _count; i++)
            {
                bytes += _length[(_head + i) & _mask];
            }
            return bytes;
        }

        /// <summary>Logical index of the first record starting at or after <paramref name="sequence"/> (binary search).</summary>
        internal int FirstAtOrAfter(uint sequence)
        {
            int low = 0;
            int high = _count;
            while (low < high)
            {
                int middle = (low + high) >> 1;
                if (TcpSequence.Lt(_start[(_head + middle) & _mask], sequence))
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }
            return low;
        }

        /// <summary>Logical index of the record holding <paramref name="sequence"/>, or -1.</summary>
        internal int Find(uint sequence)
        {
            for (int i = 0; i < _count; i++)
            {
                int slot = (_head + i) & _mask;
                if (TcpSequence.Geq(sequence, _start[slot]) && TcpSequence.Lt(sequence, _start[slot] + (uint)_length[slot]))
                {
                    return i;
                }
            }
            return -1;
        }
    }
}
