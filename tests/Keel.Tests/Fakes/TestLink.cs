using Keel.Buffers;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// An in-memory Ethernet cable between two <see cref="TestNetDevice"/>s with a fake clock: frames are copied
    /// into preallocated slots (no allocation in steady state) and delivered after a delay; impairments (loss,
    /// duplication, reordering by extra delay) come from a seeded PRNG.
    /// </summary>
    public sealed unsafe class TestLink : ITestFrameSink
    {
        private const int SlotSize = 2048;

        private readonly FakeClock _clock;
        private readonly TestNetDevice _a;
        private readonly TestNetDevice _b;
        private readonly byte[] _data;
        private readonly int[] _length;
        private readonly long[] _due;
        private readonly bool[] _toB;
        private readonly long[] _order;
        private long _sent;
        private readonly int[] _pending;
        private readonly int[] _free;
        private int _pendingCount;
        private int _freeCount;
        private ulong _random;

        public TestLink(FakeClock clock, TestNetDevice a, TestNetDevice b, int slots = 4096, ulong seed = 12345)
        {
            _clock = clock;
            _a = a;
            _b = b;
            _data = new byte[slots * SlotSize];
            _length = new int[slots];
            _due = new long[slots];
            _toB = new bool[slots];
            _order = new long[slots];
            _pending = new int[slots];
            _free = new int[slots];
            for (int i = 0; i < slots; i++)
            {
                _free[_freeCount++] = i;
            }
            _random = seed | 1;
            a.Sink = this;
            b.Sink = this;
        }

        public long DelayNanoseconds = 500_000;
        public double LossRate;
        public double DuplicateRate;
        public double ReorderRate;
        public long ReorderExtraNanoseconds = 2_000_000;

        /// <summary>Drops every frame while true (a cable pulled out).</summary>
        public bool Cut;

        public long Delivered;
        public long Lost;
        public long Duplicated;
        public long Reordered;
        public long Overflowed;

        private double NextDouble()
        {
            _random ^= _random << 13;
            _random ^= _random >> 7;
            _random ^= _random << 17;
            return (_random >> 11) * (1.0 / (1UL << 53));
        }

        /// <summary>Prints a line per TCP frame (debugging).</summary>
        public System.IO.TextWriter Trace;

        public void Accept(TestNetDevice from, Packet frame)
        {
            if (Trace != null)
            {
                TraceFrame(from, frame);
            }
            if (Cut || (LossRate > 0 && NextDouble() < LossRate))
            {
                Lost++;
                return;
            }
            if (PathMtu > 0 && TooBigForPath(from, frame))
            {
                return;
            }
            Enqueue(from, frame);
        }

        /// <summary>
        /// A router on the link with a smaller MTU (RFC 1191): an IPv4 datagram with DF set larger than
        /// <see cref="PathMtu"/> is dropped, kept in <see cref="TooBigFrames"/>, and (when
        /// <see cref="AnswerFragmentationNeeded"/>) answered with ICMP fragmentation needed from the far end's address.
        /// Datagrams without DF pass (as if the router fragmented them and the far end reassembled them).
        /// </summary>
        private bool TooBigForPath(TestNetDevice from, Packet frame)
        {
            if (frame.Length < 34)
            {
                return false;
            }
            byte[] f = new byte[frame.Length];
            frame.CopyTo(0, f);
            if (f[12] != 8 || f[13] != 0 || ((f[16] << 8) | f[17]) <= PathMtu || (f[20] & 0x40) == 0)
            {
                return false;
            }
            TooBig++;
            TooBigFrames.Add(f);
            if (AnswerFragmentationNeeded)
            {
                byte[] icmp = Frames.FragmentationNeeded(f, PathMtu);
                fixed (byte* p = icmp)
                {
                    EnqueueBytes(p, icmp.Length, from != _a);
                }
            }
            return true;
        }

        /// <summary>IPv4 path MTU of the link (0: no limit), see <see cref="TooBigForPath"/>.</summary>
        public int PathMtu;
        public bool AnswerFragmentationNeeded = true;
        public long TooBig;
        public readonly System.Collections.Generic.List<byte[]> TooBigFrames = new System.Collections.Generic.List<byte[]>();

        /// <summary>When set, a copy of every frame the link accepts for delivery is added (tests read what was sent).</summary>
        public System.Collections.Generic.List<byte[]> Record;

        private void Enqueue(TestNetDevice from, Packet frame)
        {
            if (Record != null)
            {
                byte[] copy = new byte[frame.Length];
                frame.CopyTo(0, copy);
                Record.Add(copy);
            }
            int copies = DuplicateRate > 0 && NextDouble() < DuplicateRate ? 2 : 1;
            if (copies == 2)
            {
                Duplicated++;
            }
            for (int c = 0; c < copies; c++)
            {
                if (_freeCount == 0 || frame.Length > SlotSize)
                {
                    Overflowed++;
                    return;
                }
                int slot = _free[--_freeCount];
                fixed (byte* d = &_data[slot * SlotSize])
                {
                    frame.CopyTo(0, d, frame.Length);
                }
                _length[slot] = frame.Length;
                long delay = DelayNanoseconds;
                if (ReorderRate > 0 && NextDouble() < ReorderRate)
                {
                    delay += (long)(ReorderExtraNanoseconds * NextDouble());
                    Reordered++;
                }
                _due[slot] = _clock.NowNanoseconds + delay;
                _toB[slot] = from == _a;
                _order[slot] = _sent++;
                _pending[_pendingCount++] = slot;
            }
        }

        /// <summary>Queues <paramref name="length"/> bytes for delivery after the link delay (to B when <paramref name="toB"/>).</summary>
        private void EnqueueBytes(byte* frame, int length, bool toB)
        {
            if (_freeCount == 0 || length > SlotSize)
            {
                Overflowed++;
                return;
            }
            int slot = _free[--_freeCount];
            new System.ReadOnlySpan<byte>(frame, length).CopyTo(new System.Span<byte>(_data, slot * SlotSize, length));
            _length[slot] = length;
            _due[slot] = _clock.NowNanoseconds + DelayNanoseconds;
            _toB[slot] = toB;
            _order[slot] = _sent++;
            _pending[_pendingCount++] = slot;
        }

        public int InFlight => _pendingCount;

        private void TraceFrame(TestNetDevice from, Packet frame)
        {
            byte[] f = new byte[frame.Length];
            frame.CopyTo(0, f);
            if (f.Length < 54 || f[12] != 8 || f[13] != 0 || f[23] != 6)
            {
                return;
            }
            int ihl = (f[14] & 15) * 4;
            int t = 14 + ihl;
            int total = (f[16] << 8) | f[17];
            int doff = (f[t + 12] >> 4) * 4;
            uint seq = (uint)((f[t + 4] << 24) | (f[t + 5] << 16) | (f[t + 6] << 8) | f[t + 7]);
            uint ack = (uint)((f[t + 8] << 24) | (f[t + 9] << 16) | (f[t + 10] << 8) | f[t + 11]);
            int flags = f[t + 13];
            int win = (f[t + 14] << 8) | f[t + 15];
            Trace.WriteLine((_clock.NowNanoseconds / 1000) + "us " + (from == _a ? "A>B" : "B>A") + " " + ((f[t] << 8) | f[t + 1]) + ">" + ((f[t + 2] << 8) | f[t + 3]) +
                " flags " + flags.ToString("x2") + " seq " + seq + " ack " + ack + " len " + (total - ihl - doff) + " win " + win);
        }

        /// <summary>Delivers every frame that is due, in due-time order, one receive batch per device.</summary>
        public void Deliver()
        {
            long now = _clock.NowNanoseconds;
            bool toA = false;
            bool toB = false;
            while (true)
            {
                int best = -1;
                for (int i = 0; i < _pendingCount; i++)
                {
                    int slot = _pending[i];
                    if (_due[slot] <= now && (best < 0 || _due[slot] < _due[_pending[best]] ||
                        (_due[slot] == _due[_pending[best]] && _order[slot] < _order[_pending[best]])))
                    {
                        best = i;
                    }
                }
                if (best < 0)
                {
                    break;
                }
                int s = _pending[best];
                _pending[best] = _pending[--_pendingCount];
                TestNetDevice target = _toB[s] ? _b : _a;
                if (_toB[s])
                {
                    toB = true;
                }
                else
                {
                    toA = true;
                }
                fixed (byte* d = &_data[s * SlotSize])
                {
                    target.Inject(d, _length[s]);
                }
                _free[_freeCount++] = s;
                Delivered++;
            }
            if (toA)
            {
                _a.Receiver.ReceiveBatchDone();
            }
            if (toB)
            {
                _b.Receiver.ReceiveBatchDone();
            }
        }

        public void DropAll()
        {
            while (_pendingCount > 0)
            {
                _free[_freeCount++] = _pending[--_pendingCount];
            }
        }
    }
}
