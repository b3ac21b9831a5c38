using Keel.Buffers;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// SACK and D-SACK blocks (RFC 2018, RFC 2883) describing the out-of-order queue. The queue's runs of
    /// contiguous data are kept in order as segments arrive (appended, inserted into a hole, or merging two runs),
    /// so building an ACK's blocks costs no walk of the queue. Up to <see cref="MaxSackRuns"/> runs are tracked: at
    /// 5 % loss a 1.5 MB window has some 50 holes, and retransmissions fill the lowest ones, so a block for every
    /// hole must be at hand, or the sender never learns the retransmission arrived and sends it again.
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        private const int MaxSackRuns = 64;

        // Runs of contiguous out-of-order data (left/right edges, ascending, disjoint and not touching).
        private readonly uint[] _runs = new uint[2 * MaxSackRuns];
        private int _runCount;
        private bool _runsDirty;

        /// <summary>Reports [start, end) as a duplicate in the next ACK (D-SACK, RFC 2883).</summary>
        private void SetDsack(uint start, uint end)
        {
            if (!SackOk || start == end)
            {
                return;
            }
            DsackPending = true;
            DsackStart = start;
            DsackEnd = end;
            AckNow = true;
        }

        /// <summary>
        /// SACK blocks for the next ACK (RFC 2018 section 4): a pending D-SACK first (RFC 2883), then the block
        /// holding the most recently received out-of-order segment, then the blocks reported last time, then the
        /// rest from the highest down; at most <paramref name="max"/>. Writes left/right edges into
        /// <paramref name="blocks"/> and returns the count.
        /// </summary>
        internal int BuildSackBlocks(uint* blocks, int max)
        {
            int n = 0;
            if (DsackPending)
            {
                blocks[0] = DsackStart;
                blocks[1] = DsackEnd;
                n = 1;
                DsackPending = false;
                Stats.DsackSent();
            }
            if (OooHead == null)
            {
                _sackHistoryCount = 0;
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
            n = AddRun(blocks, n, max, runs, runCount, SackRecent, ref used);
            for (int h = 0; h < _sackHistoryCount && n < max; h++)
            {
                n = AddRun(blocks, n, max, runs, runCount, _sackHistory[h], ref used);
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
            _sackHistoryCount = 0;
            for (int b = first; b < n; b++)
            {
                _sackHistory[_sackHistoryCount++] = blocks[2 * b];
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

        /// <summary>RcvNxt moved over the lowest out-of-order data (DrainOutOfOrder): drop the runs now in order.</summary>
        private void TrimRuns()
        {
            if (_runsDirty)
            {
                return;
            }
            int gone = 0;
            while (gone < _runCount && Leq(_runs[2 * gone], RcvNxt))
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
            for (Packet p = OooHead; p != null; p = p.Next)
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
