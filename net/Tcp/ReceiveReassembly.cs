using Keel.Buffers;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Receive reassembly: out-of-order segments wait on a list sorted by sequence (their payload still in the
    /// driver's page fragments, never copied), charged by TrueSize; exact duplicates are dropped and reported as a
    /// D-SACK (RFC 2883). The list's runs of contiguous data are kept in order as segments arrive (appended, inserted
    /// into a hole, or merging two runs), so building an ACK's SACK blocks (RFC 2018) costs no walk of the list. Up
    /// to <see cref="MaxSackRuns"/> runs are tracked: at 5 % loss a 1.5 MB window has some 50 holes, and
    /// retransmissions fill the lowest ones, so a block for every hole must be at hand, or the sender never learns
    /// the retransmission arrived and sends it again.
    /// </summary>
    internal sealed unsafe class ReceiveReassembly
    {
        private const int MaxSackRuns = 64;

        private readonly long[] _counters;

        private Packet _head;
        private Packet _tail;
        private int _bytes;
        private int _count;
        private int _trueSize;

        // Runs of contiguous out-of-order data (left/right edges, ascending, disjoint and not touching).
        private readonly uint[] _runs = new uint[2 * MaxSackRuns];
        private int _runCount;
        private bool _runsDirty;

        private uint _recent;                                                   // most recent out-of-order segment
        private readonly uint[] _history = new uint[TcpSegment.MaxSackBlocks];  // left edges last reported
        private int _historyCount;
        private bool _dsackPending;
        private uint _dsackStart;
        private uint _dsackEnd;

        /// <param name="counters">The stack's counters (segments joined without a copy are counted there).</param>
        internal ReceiveReassembly(long[] counters)
        {
            _counters = counters;
        }

        /// <summary>Payload bytes waiting out of order.</summary>
        internal int Bytes => _bytes;

        /// <summary>Packets waiting out of order.</summary>
        internal int Count => _count;

        /// <summary>Memory those packets hold (buffers and pages).</summary>
        internal int TrueSize => _trueSize;

        internal bool IsEmpty => _head == null;

        /// <summary>A D-SACK waits for the next ACK.</summary>
        internal bool DsackPending => _dsackPending;

        private static bool Lt(uint a, uint b) => TcpSequence.Lt(a, b);

        private static bool Leq(uint a, uint b) => TcpSequence.Leq(a, b);

        private static bool Gt(uint a, uint b) => TcpSequence.Gt(a, b);

        private static bool Geq(uint a, uint b) => TcpSequence.Geq(a, b);

        /// <summary>Frees every out-of-order packet and forgets the blocks (the connection closes or is reused).</summary>
        internal void Clear()
        {
            Packet p = _head;
            while (p != null)
            {
                Packet next = p.Next;
                p.Next = null;
                p.Free();
                p = next;
            }
            _head = null;
            _tail = null;
            _runCount = 0;
            _runsDirty = false;
            _bytes = 0;
            _count = 0;
            _trueSize = 0;
        }

        /// <summary>Forgets the SACK history and any pending D-SACK (a fresh connection).</summary>
        internal void ResetBlocks()
        {
            _historyCount = 0;
            _dsackPending = false;
        }

        /// <summary>Reports [start, end) as a duplicate in the next ACK (D-SACK, RFC 2883).</summary>
        internal void SetDsack(uint start, uint end)
        {
            _dsackPending = true;
            _dsackStart = start;
            _dsackEnd = end;
        }

        /// <summary>
        /// Queues <paramref name="packet"/>, payload [<paramref name="sequence"/>, + <paramref name="length"/>) above
        /// rcv.nxt: sorted by sequence, joined to its neighbour below without a copy when it can be. False (the packet
        /// not taken) for data already held, which becomes a D-SACK when <paramref name="sack"/> is agreed.
        /// </summary>
        internal bool Insert(Packet packet, uint sequence, int length, bool sack)
        {
            _recent = sequence;
            if (_tail != null && Geq(sequence, _tail.Tag + (uint)_tail.Length))
            {
                // The usual case: the next segment after the ones already queued (O(1), runs kept up to date).
                // Directly adjacent to the last one: joined to it without a copy when it can be.
                if (sequence == _tail.Tag + (uint)_tail.Length && CoalesceInto(_tail, packet))
                {
                    _bytes += length;
                    AppendToRuns(sequence, length);
                    return true;
                }
                packet.Tag = sequence;
                packet.Next = null;
                _tail.Next = packet;
                _tail = packet;
                _bytes += length;
                _count++;
                _trueSize += packet.TrueSize;
                AppendToRuns(sequence, length);
                return true;
            }
            Packet previous = null;
            Packet next = _head;
            while (next != null && Lt(next.Tag, sequence))
            {
                previous = next;
                next = next.Next;
            }
            if ((next != null && next.Tag == sequence && next.Length >= length) ||
                (previous != null && Geq(previous.Tag + (uint)previous.Length, sequence + (uint)length)))
            {
                if (sack)
                {
                    SetDsack(sequence, sequence + (uint)length);
                }
                return false;
            }
            if (previous != null && previous.Tag + (uint)previous.Length == sequence && CoalesceInto(previous, packet))
            {
                // A retransmission filling the start of a hole: joined to the segment before it.
                _bytes += length;
                AddToRuns(sequence, sequence + (uint)length);
                return true;
            }
            packet.Tag = sequence;
            packet.Next = next;
            if (previous == null)
            {
                _head = packet;
            }
            else
            {
                previous.Next = packet;
            }
            if (next == null)
            {
                _tail = packet;
            }
            _bytes += length;
            _count++;
            _trueSize += packet.TrueSize;
            AddToRuns(sequence, sequence + (uint)length);
            return true;
        }

        /// <summary>
        /// Joins out-of-order <paramref name="packet"/> to the queued <paramref name="target"/> just before it when
        /// its payload is all in page fragments (Linux tcp_try_coalesce): one packet descriptor less held, no copy,
        /// the list stays short. Frees <paramref name="packet"/>'s descriptor on success.
        /// </summary>
        private bool CoalesceInto(Packet target, Packet packet)
        {
            int before = target.TrueSize;
            if (!target.TryAppendPacket(packet))
            {
                return false;
            }
            _trueSize += target.TrueSize - before;
            packet.Free();
            _counters[NetStatistics.TcpRcvCoalesced]++;
            return true;
        }

        /// <summary>
        /// rcv.nxt reached the lowest waiting data: moves what is now in order to <paramref name="inOrder"/> and
        /// advances <paramref name="receiveNext"/>; returns the payload bytes moved.
        /// </summary>
        internal int Drain(ref uint receiveNext, ref PacketQueue inOrder)
        {
            int moved = 0;
            while (_head != null && Leq(_head.Tag, receiveNext))
            {
                Packet p = _head;
                _head = p.Next;
                p.Next = null;
                _bytes -= p.Length;
                _count--;
                _trueSize -= p.TrueSize;
                uint end = p.Tag + (uint)p.Length;
                if (Leq(end, receiveNext))
                {
                    p.Free();
                    continue;
                }
                p.Pull((int)(receiveNext - p.Tag));
                inOrder.Enqueue(p);
                moved += p.Length;
                receiveNext = end;
            }
            if (_head == null)
            {
                _tail = null;
            }
            TrimRuns(receiveNext);
            return moved;
        }

        /// <summary>
        /// SACK blocks for the next ACK (RFC 2018 section 4): a pending D-SACK first (RFC 2883), then the block
        /// holding the most recently received out-of-order segment, then the blocks reported last time, then the
        /// rest from the highest down; at most <paramref name="max"/>. Writes left/right edges into
        /// <paramref name="blocks"/> and returns the count; <paramref name="dsack"/> tells whether a D-SACK went out.
        /// </summary>
        internal int BuildSackBlocks(uint* blocks, int max, out bool dsack)
        {
            int n = 0;
            dsack = false;
            if (_dsackPending)
            {
                blocks[0] = _dsackStart;
                blocks[1] = _dsackEnd;
                n = 1;
                _dsackPending = false;
                dsack = true;
            }
            if (_head == null)
            {
                _historyCount = 0;
                return n;
            }
            if (_runsDirty)
            {
                RebuildSackRuns();
            }
            uint* runs = stackalloc uint[2 * MaxSackRuns];
            int runCount = _runCount;
            for (int r = 0; r < 2 * runCount; r++)
            {
                runs[r] = _runs[r];
            }
            ulong used = 0; // bit per run already reported
            int first = n;
            n = AddRun(blocks, n, max, runs, runCount, _recent, ref used);
            for (int h = 0; h < _historyCount && n < max; h++)
            {
                n = AddRun(blocks, n, max, runs, runCount, _history[h], ref used);
            }
            for (int r = runCount - 1; r >= 0 && n < max; r--)
            {
                if ((used & (1UL << r)) == 0)
                {
                    used |= 1UL << r;
                    blocks[2 * n] = runs[2 * r];
                    blocks[2 * n + 1] = runs[2 * r + 1];
                    n++;
                }
            }
            _historyCount = 0;
            for (int b = first; b < n; b++)
            {
                _history[_historyCount++] = blocks[2 * b];
            }
            return n;
        }

        /// <summary>
        /// Adds [start, end) to the runs: extends or merges the run it touches, or inserts a new one in order. Only
        /// when more than <see cref="MaxSackRuns"/> runs exist are they rebuilt from the queue at the next ACK.
        /// </summary>
        private void AddToRuns(uint start, uint end)
        {
            if (_runsDirty)
            {
                return;
            }
            int i = 0;
            while (i < _runCount && Lt(_runs[2 * i + 1], start))
            {
                i++;
            }
            if (i < _runCount && Leq(_runs[2 * i], end))
            {
                if (Lt(start, _runs[2 * i]))
                {
                    _runs[2 * i] = start;
                }
                if (Gt(end, _runs[2 * i + 1]))
                {
                    _runs[2 * i + 1] = end;
                }
                int j = i + 1;
                while (j < _runCount && Leq(_runs[2 * j], _runs[2 * i + 1]))
                {
                    if (Gt(_runs[2 * j + 1], _runs[2 * i + 1]))
                    {
                        _runs[2 * i + 1] = _runs[2 * j + 1];
                    }
                    j++;
                }
                int removed = j - i - 1;
                if (removed > 0)
                {
                    for (int r = i + 1; r + removed < _runCount; r++)
                    {
                        _runs[2 * r] = _runs[2 * (r + removed)];
                        _runs[2 * r + 1] = _runs[2 * (r + removed) + 1];
                    }
                    _runCount -= removed;
                }
                return;
            }
            if (_runCount == MaxSackRuns)
            {
                _runsDirty = true;
                return;
            }
            for (int r = _runCount; r > i; r--)
            {
                _runs[2 * r] = _runs[2 * r - 2];
                _runs[2 * r + 1] = _runs[2 * r - 1];
            }
            _runs[2 * i] = start;
            _runs[2 * i + 1] = end;
            _runCount++;
        }

        /// <summary>[sequence, sequence + length) was appended after all queued out-of-order data: O(1).</summary>
        private void AppendToRuns(uint sequence, int length)
        {
            if (_runsDirty)
            {
                return;
            }
            if (_runCount > 0 && _runs[2 * _runCount - 1] == sequence)
            {
                _runs[2 * _runCount - 1] = sequence + (uint)length;
            }
            else if (_runCount < MaxSackRuns)
            {
                _runs[2 * _runCount] = sequence;
                _runs[2 * _runCount + 1] = sequence + (uint)length;
                _runCount++;
            }
            else
            {
                _runsDirty = true;
            }
        }

        /// <summary>rcv.nxt moved over the lowest out-of-order data (<see cref="Drain"/>): drop the runs now in order.</summary>
        private void TrimRuns(uint receiveNext)
        {
            if (_runsDirty)
            {
                return;
            }
            int gone = 0;
            while (gone < _runCount && Leq(_runs[2 * gone], receiveNext))
            {
                gone++;
            }
            if (gone > 0)
            {
                for (int r = 0; r + gone < _runCount; r++)
                {
                    _runs[2 * r] = _runs[2 * (r + gone)];
                    _runs[2 * r + 1] = _runs[2 * (r + gone) + 1];
                }
                _runCount -= gone;
            }
        }

        /// <summary>Recomputes the runs of contiguous out-of-order data (the highest <see cref="MaxSackRuns"/>).</summary>
        private void RebuildSackRuns()
        {
            int runCount = 0;
            for (Packet p = _head; p != null; p = p.Next)
            {
                uint start = p.Tag;
                uint end = p.Tag + (uint)p.Length;
                if (runCount > 0 && Leq(start, _runs[2 * runCount - 1]))
                {
                    if (Gt(end, _runs[2 * runCount - 1]))
                    {
                        _runs[2 * runCount - 1] = end;
                    }
                    continue;
                }
                if (runCount == MaxSackRuns)
                {
                    // Keep the highest runs: the newest data is usually there.
                    for (int r = 1; r < MaxSackRuns; r++)
                    {
                        _runs[2 * r - 2] = _runs[2 * r];
                        _runs[2 * r - 1] = _runs[2 * r + 1];
                    }
                    runCount--;
                }
                _runs[2 * runCount] = start;
                _runs[2 * runCount + 1] = end;
                runCount++;
            }
            _runCount = runCount;
            _runsDirty = false;
        }

        private static int AddRun(uint* blocks, int n, int max, uint* runs, int runCount, uint sequence, ref ulong used)
        {
            if (n >= max)
            {
                return n;
            }
            for (int r = 0; r < runCount; r++)
            {
                if (Geq(sequence, runs[2 * r]) && Lt(sequence, runs[2 * r + 1]))
                {
                    if ((used & (1UL << r)) == 0)
                    {
                        used |= 1UL << r;
                        blocks[2 * n] = runs[2 * r];
                        blocks[2 * n + 1] = runs[2 * r + 1];
                        n++;
                    }
                    break;
                }
            }
            return n;
        }
    }
}
