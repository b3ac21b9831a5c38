using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// One connection's counters, and the one place that counts a TCP event: each method adds to the connection's
    /// figure (shown by <see cref="TcpInfo"/> and <c>net</c>) and to the stack-wide counter of the same event
    /// (<see cref="NetStatistics"/>), so the two never disagree.
    /// </summary>
    internal sealed class TcpStatistics
    {
        private readonly long[] _stack;
        private readonly long[] _rtoByState = new long[3];
        private long _retransmits;
        private long _fastRetransmits;
        private long _timeouts;
        private long _outOfOrderSegments;
        private long _bytesAcked;
        private long _bytesReceived;
        private long _segmentsIn;
        private long _segmentsOut;
        private long _rackLosses;
        private long _lossProbes;
        private long _tlpRepairs;
        private long _spuriousTimeouts;
        private long _dsacksReceived;
        private long _dsacksSent;
        private long _pawsRejected;
        private long _receiveBufferGrowths;
        private long _pmtuReductions;

        /// <param name="stackCounters">The stack's counters, indexed by <see cref="NetStatistics"/>.</param>
        internal TcpStatistics(long[] stackCounters)
        {
            _stack = stackCounters;
        }

        internal long Retransmits => _retransmits;

        internal long FastRetransmits => _fastRetransmits;

        internal long Timeouts => _timeouts;

        internal long SegmentsIn => _segmentsIn;

        internal long LossProbes => _lossProbes;

        internal long DsacksReceived => _dsacksReceived;

        internal long PawsRejected => _pawsRejected;

        internal long TlpRepairs => _tlpRepairs;

        internal long ReceiveBufferGrowths => _receiveBufferGrowths;

        internal long PmtuReductions => _pmtuReductions;

        /// <summary>Retransmission timeouts that found the sender in <paramref name="state"/> (open, recovery, loss).</summary>
        internal long RtoIn(TcpCaState state) => _rtoByState[(int)state];

        internal void Clear()
        {
            _rtoByState[0] = _rtoByState[1] = _rtoByState[2] = 0;
            _retransmits = 0;
            _fastRetransmits = 0;
            _timeouts = 0;
            _outOfOrderSegments = 0;
            _bytesAcked = 0;
            _bytesReceived = 0;
            _segmentsIn = 0;
            _segmentsOut = 0;
            _rackLosses = 0;
            _lossProbes = 0;
            _tlpRepairs = 0;
            _spuriousTimeouts = 0;
            _dsacksReceived = 0;
            _dsacksSent = 0;
            _pawsRejected = 0;
            _receiveBufferGrowths = 0;
            _pmtuReductions = 0;
        }

        /// <summary>A segment (or SYN) sent again.</summary>
        internal void Retransmitted()
        {
            _retransmits++;
            _stack[NetStatistics.TcpRetransmits]++;
        }

        /// <summary>Fast recovery entered (RFC 6675 / RACK): one fast retransmission.</summary>
        internal void FastRetransmit()
        {
            _fastRetransmits++;
            _stack[NetStatistics.TcpFastRetransmits]++;
        }

        /// <summary>The retransmission timer expired (and the connection goes on).</summary>
        internal void Timeout()
        {
            _timeouts++;
            _stack[NetStatistics.TcpTimeouts]++;
        }

        /// <summary>A timeout with data outstanding, by the congestion state it found.</summary>
        internal void TimeoutIn(TcpCaState state) => _rtoByState[(int)state]++;

        internal void OutOfOrderSegment()
        {
            _outOfOrderSegments++;
            _stack[NetStatistics.TcpOutOfOrder]++;
        }

        internal void BytesAcked(int bytes) => _bytesAcked += bytes;

        internal void BytesReceived(int bytes) => _bytesReceived += bytes;

        internal void SegmentIn() => _segmentsIn++;

        internal void SegmentOut()
        {
            _segmentsOut++;
            _stack[NetStatistics.TcpTxSegments]++;
        }

        /// <summary>RACK marked <paramref name="records"/> segments lost.</summary>
        internal void RackLosses(int records)
        {
            _rackLosses += records;
            _stack[NetStatistics.TcpRackLosses] += records;
        }

        internal void LossProbe()
        {
            _lossProbes++;
            _stack[NetStatistics.TcpLossProbes]++;
        }

        internal void TlpRepair()
        {
            _tlpRepairs++;
            _stack[NetStatistics.TcpTlpRepairs]++;
        }

        /// <summary>F-RTO found a timeout spurious.</summary>
        internal void SpuriousTimeout()
        {
            _spuriousTimeouts++;
            _stack[NetStatistics.TcpSpuriousRtos]++;
        }

        internal void DsackReceived()
        {
            _dsacksReceived++;
            _stack[NetStatistics.TcpDsacksRx]++;
        }

        internal void DsackSent() => _dsacksSent++;

        internal void PawsReject()
        {
            _pawsRejected++;
            _stack[NetStatistics.TcpPawsRejected]++;
        }

        internal void ReceiveBufferShrink()
        {
            _stack[NetStatistics.TcpReceiveBufferShrinks]++;
        }

        internal void ReceiveBufferGrowth()
        {
            _receiveBufferGrowths++;
            _stack[NetStatistics.TcpReceiveBufferGrowths]++;
        }

        internal void PmtuReduction()
        {
            _pmtuReductions++;
            _stack[NetStatistics.TcpPmtuReductions]++;
        }

        /// <summary>The counters' part of <see cref="TcpInfo"/>.</summary>
        internal void Fill(ref TcpInfo info)
        {
            info.TotalRetransmits = _retransmits;
            info.BytesAcked = _bytesAcked;
            info.BytesReceived = _bytesReceived;
            info.SegmentsIn = _segmentsIn;
            info.SegmentsOut = _segmentsOut;
            info.OutOfOrderSegments = _outOfOrderSegments;
            info.Timeouts = _timeouts;
            info.FastRetransmits = _fastRetransmits;
            info.Recoveries = _fastRetransmits; // each recovery starts with one fast retransmission
            info.RackLosses = _rackLosses;
            info.TlpProbes = _lossProbes;
            info.TlpRepairs = _tlpRepairs;
            info.SpuriousTimeouts = _spuriousTimeouts;
            info.DsacksReceived = _dsacksReceived;
            info.DsacksSent = _dsacksSent;
            info.PawsRejected = _pawsRejected;
            info.ReceiveBufferGrowths = _receiveBufferGrowths;
        }

        /// <summary>The recovery line of <c>net</c>'s per-connection details (up to the out-of-order bytes).</summary>
        internal void PrintRecovery(ITextOutput output)
        {
            output.Write("      retrans ");
            output.Write(_retransmits);
            output.Write(" recoveries ");
            output.Write(_fastRetransmits);
            output.Write(" rack ");
            output.Write(_rackLosses);
            output.Write(" tlp ");
            output.Write(_lossProbes);
            output.Write(" tlp_repairs ");
            output.Write(_tlpRepairs);
            output.Write(" rto ");
            output.Write(_timeouts);
            output.Write(" frto_undo ");
            output.Write(_spuriousTimeouts);
            output.Write(" dsack_rx ");
            output.Write(_dsacksReceived);
            output.Write(" dsack_tx ");
            output.Write(_dsacksSent);
        }
    }
}
