using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>Congestion state of the sender (Linux's <c>tcp_ca_state</c>, without Disorder/CWR).</summary>
    internal enum TcpCaState
    {
        Open,
        Recovery,
        Loss,
    }

    /// <summary>What an ACK after a retransmission timeout told F-RTO (RFC 5682 section 2).</summary>
    internal enum FrtoVerdict
    {
        /// <summary>F-RTO is not running, or it gave up: conventional recovery goes on.</summary>
        None,

        /// <summary>Step 2b: send up to two new segments instead of retransmitting, and wait for the next ACK.</summary>
        SendNewData,

        /// <summary>Step 3b: the timeout was spurious; restore <see cref="LossRecovery.PriorCwnd"/> and ssthresh.</summary>
        Spurious,

        /// <summary>Step 3a: the timeout was genuine; retransmit in slow start.</summary>
        Genuine,
    }

    /// <summary>
    /// The sender's loss-recovery state: which congestion state it is in, the recovery point, the duplicate ACK
    /// count (RFC 5681 fast retransmit, RFC 6582 partial ACKs, RFC 3042 limited transmit), Proportional Rate
    /// Reduction's counters (RFC 6937), F-RTO's steps (RFC 5682), the tail loss probe's episode (RFC 8985 section 7,
    /// with <see cref="TlpRepair"/>) and RACK's reordering-window multiplier (RFC 8985 section 6.2). It decides and
    /// computes; the connection marks the scoreboard, sets cwnd and ssthresh, arms timers and sends. Made once with
    /// the connection; nothing here allocates.
    /// </summary>
    internal sealed class LossRecovery
    {
        /// <summary>RFC 5681 section 3.2: the third duplicate ACK starts fast retransmit.</summary>
        internal const int DuplicateAckThreshold = 3;

        /// <summary>Upper bound of RACK's reordering-window multiplier (RFC 8985 section 6.2 step 4).</summary>
        internal const int MaxReorderMultiplier = 16;

        private TcpCaState _state;
        private int _dupAcks;
        private uint _recover;             // SND.MAX when recovery or loss started: the recovery point
        private long _priorCwnd;           // cwnd and ssthresh before the reduction, for F-RTO's undo
        private long _priorSsthresh;
        private long _prrDelivered;        // RFC 6937 prr_delivered
        private long _prrOut;              // RFC 6937 prr_out
        private long _recoverFs;           // RFC 6937 RecoverFS
        private int _frto;                 // 0 off, 1 after the timeout's retransmission, 2 after new data (step 2b)
        private uint _frtoTsVal;           // TSval of the timeout's retransmission
        private bool _frtoOriginalAcked;   // the ACK being processed echoes an original transmission (RFC 3522)
        private bool _probeOutstanding;    // a loss probe is in flight until SND.UNA reaches _probeHighSeq
        private uint _probeHighSeq;        // SND.MAX after the probe (RFC 8985 TLP.end_seq)
        private TlpRepair _repair;
        private int _reorderMultiplier;
        private bool _lossFromPathMtu;     // Loss was entered to resend at a lower MSS, not by a timeout

        internal LossRecovery()
        {
            Reset();
        }

        internal TcpCaState State => _state;

        /// <summary>Duplicate ACKs since the last ACK of new data (outside recovery).</summary>
        internal int DuplicateAcks => _dupAcks;

        /// <summary>The recovery point (RFC 6582 "recover"): recovery or loss ends when SND.UNA reaches it.</summary>
        internal uint RecoveryPoint => _recover;

        /// <summary>RFC 6937 RecoverFS: the flight when fast recovery started.</summary>
        internal long RecoverFs => _recoverFs;

        /// <summary>RFC 6937 prr_out: bytes sent since fast recovery started.</summary>
        internal long PrrOut => _prrOut;

        /// <summary>cwnd before the last reduction (what a spurious timeout restores).</summary>
        internal long PriorCwnd => _priorCwnd;

        /// <summary>ssthresh before the last reduction.</summary>
        internal long PriorSsthresh => _priorSsthresh;

        /// <summary>F-RTO is running: segments marked lost wait while it probes with new data.</summary>
        internal bool FrtoActive => _frto != 0;

        /// <summary>A tail loss probe may be scheduled: none is outstanding and no timeout recovery runs.</summary>
        internal bool MayProbe => _state != TcpCaState.Loss && !_probeOutstanding;

        /// <summary>A fresh connection: open, nothing counted, no probe, multiplier 1.</summary>
        internal void Reset()
        {
            _state = TcpCaState.Open;
            _dupAcks = 0;
            _recover = 0;
            _priorCwnd = 0;
            _priorSsthresh = 0;
            _prrDelivered = 0;
            _prrOut = 0;
            _recoverFs = 0;
            _frto = 0;
            _frtoTsVal = 0;
            _frtoOriginalAcked = false;
            _probeOutstanding = false;
            _probeHighSeq = 0;
            _repair.Reset();
            _reorderMultiplier = 1;
            _lossFromPathMtu = false;
        }

        /// <summary>The send side starts at <paramref name="iss"/>: open, recovery point at the ISS.</summary>
        internal void Start(uint iss)
        {
            _state = TcpCaState.Open;
            _recover = iss;
        }

        // ------------------------------------------------------------ ACKs

        /// <summary>A duplicate ACK while data is outstanding (RFC 5681 section 2).</summary>
        internal void DuplicateAck()
        {
            _dupAcks++;
        }

        /// <summary>SND.UNA moved to <paramref name="ack"/>: a probe whose data it covers is no longer outstanding.</summary>
        internal void Acknowledged(uint ack)
        {
            if (_probeOutstanding && TcpSequence.Geq(ack, _probeHighSeq))
            {
                _probeOutstanding = false;
            }
        }

        /// <summary>
        /// The echoed timestamp of the ACK about to be processed (<paramref name="hasEcho"/> false without one): with
        /// F-RTO running, an echo older than the timeout's retransmission shows an original transmission arrived
        /// (the Eifel test, RFC 3522).
        /// </summary>
        internal void NoteEcho(bool hasEcho, uint tsEcr)
        {
            _frtoOriginalAcked = _frto != 0 && hasEcho && tsEcr != 0 && (int)(tsEcr - _frtoTsVal) < 0;
        }

        /// <summary>An ACK that acknowledged <paramref name="acked"/> bytes: new data resets the duplicate count outside recovery.</summary>
        internal void NewAck(long acked)
        {
            if (acked > 0 && _state != TcpCaState.Recovery)
            {
                _dupAcks = 0;
            }
        }

        /// <summary>
        /// F-RTO (RFC 5682 section 2) for an ACK after a timeout: <paramref name="canSendNew"/> tells whether a full
        /// segment of new data fits the peer's window. <see cref="FrtoVerdict.None"/> when F-RTO does not run or
        /// gives up (conventional recovery); <see cref="FrtoVerdict.Spurious"/> also returns to the open state.
        /// </summary>
        internal FrtoVerdict FrtoAck(long acked, uint sndUna, bool canSendNew)
        {
            if (_frto == 0 || _state != TcpCaState.Loss)
            {
                return FrtoVerdict.None;
            }
            if (acked > 0 && _frtoOriginalAcked)
            {
                _frto = 2; // with timestamps the first ACK already tells
            }
            if (_frto == 1)
            {
                if (acked > 0 && TcpSequence.Lt(sndUna, _recover) && canSendNew)
                {
                    _frto = 2; // step 2b
                    return FrtoVerdict.SendNewData;
                }
                _frto = 0; // a duplicate ACK, everything acknowledged, or nothing new to send
                return FrtoVerdict.None;
            }
            _frto = 0;
            if (acked > 0)
            {
                _state = TcpCaState.Open; // step 3b
                return FrtoVerdict.Spurious;
            }
            return FrtoVerdict.Genuine; // step 3a
        }

        /// <summary>
        /// Without SACK (NewReno): true when this ACK marks the first unacknowledged segment lost: the
        /// <see cref="DuplicateAckThreshold"/>th duplicate ACK in the open state (RFC 5681 section 3.2), or a partial
        /// ACK in recovery (RFC 6582 section 3.2 step 3).
        /// </summary>
        internal bool NewRenoMarksLoss(bool duplicate, long acked, uint sndUna)
        {
            if (_state == TcpCaState.Open)
            {
                return duplicate && _dupAcks == DuplicateAckThreshold;
            }
            return _state == TcpCaState.Recovery && acked > 0 && TcpSequence.Lt(sndUna, _recover);
        }

        /// <summary>
        /// RFC 3042 limited transmit: without SACK, the first two duplicate ACKs each let one more segment out
        /// (bytes added to the usable window).
        /// </summary>
        internal long LimitedTransmitBytes(long mss)
        {
            if (_state == TcpCaState.Open && _dupAcks > 0 && _dupAcks < DuplicateAckThreshold)
            {
                return _dupAcks * mss;
            }
            return 0;
        }

        /// <summary>
        /// Recovery or loss ends once SND.UNA reaches the recovery point (RFC 6582; RFC 6937: the caller sets cwnd to
        /// ssthresh after fast recovery). True when the state went back to open.
        /// </summary>
        internal bool TryComplete(uint sndUna)
        {
            if (_state == TcpCaState.Open || TcpSequence.Lt(sndUna, _recover))
            {
                return false;
            }
            if (_state == TcpCaState.Recovery)
            {
                _dupAcks = 0;
            }
            else
            {
                _frto = 0;
            }
            _state = TcpCaState.Open;
            return true;
        }

        // ------------------------------------------------------------ fast recovery with PRR

        /// <summary>
        /// Fast recovery starts (RFC 6675 section 5, RFC 6937 section 3.1 initialisation): cwnd and ssthresh kept for an
        /// undo, recovery point SND.MAX, RecoverFS the flight, PRR's counters zero, no probe outstanding.
        /// </summary>
        internal void EnterRecovery(long cwnd, long ssthresh, uint sndUna, uint sndMax)
        {
            _probeOutstanding = false;
            _priorCwnd = cwnd;
            _priorSsthresh = ssthresh;
            _recover = sndMax;
            _state = TcpCaState.Recovery;
            _recoverFs = sndMax - sndUna;
            _prrDelivered = 0;
            _prrOut = 0;
        }

        /// <summary>
        /// Proportional Rate Reduction (RFC 6937 section 3.1, with PRR-SSRB) for one ACK in fast recovery that
        /// delivered <paramref name="delivered"/> bytes: returns the new cwnd, pipe plus what may be sent now.
        /// <paramref name="entering"/>: the ACK that started recovery, which always lets the fast retransmit out.
        /// </summary>
        internal long PrrCwnd(long delivered, long pipe, long ssthresh, long mss, bool entering)
        {
            _prrDelivered += delivered;
            long sendCount;
            if (pipe > ssthresh)
            {
                long fs = _recoverFs > 0 ? _recoverFs : 1;
                sendCount = (_prrDelivered * ssthresh + fs - 1) / fs - _prrOut;
            }
            else
            {
                long limit = _prrDelivered - _prrOut > delivered ? _prrDelivered - _prrOut : delivered;
                limit += mss;
                sendCount = ssthresh - pipe < limit ? ssthresh - pipe : limit;
            }
            if (sendCount < 0)
            {
                sendCount = 0;
            }
            if (entering && sendCount < mss)
            {
                sendCount = mss;
            }
            return pipe + sendCount;
        }

        /// <summary>Bytes sent (new or again): counted as prr_out while in fast recovery.</summary>
        internal void Sent(long bytes)
        {
            if (_state == TcpCaState.Recovery)
            {
                _prrOut += bytes;
            }
        }

        // ------------------------------------------------------------ RACK and the tail loss probe

        /// <summary>
        /// RACK's reordering window (RFC 8985 section 6.2 step 4): zero once reordering was never seen and recovery
        /// runs or DupThresh segments were SACKed, or without an RTT sample; else min(multiplier × min_RTT / 4, SRTT).
        /// </summary>
        internal Duration ReorderWindow(bool reorderingSeen, int sackedCount, Duration minRtt, Duration srtt)
        {
            if (!reorderingSeen && (_state == TcpCaState.Recovery || sackedCount >= TcpScoreboard.DupThresh))
            {
                return Duration.Zero;
            }
            if (minRtt == Duration.MaxValue)
            {
                return Duration.Zero;
            }
            return Duration.Min(minRtt / 4 * _reorderMultiplier, srtt);
        }

        /// <summary>
        /// A D-SACK block ending at <paramref name="right"/>: the reordering window grows by one step
        /// (RFC 8985 section 6.2 step 4), and a loss probe it names repaired nothing.
        /// </summary>
        internal void DsackReceived(uint right)
        {
            _repair.DsackSeen(right);
            if (_reorderMultiplier < MaxReorderMultiplier)
            {
                _reorderMultiplier++;
            }
        }

        /// <summary>
        /// The probe timeout (RFC 8985 section 7.2): two SRTTs, plus <paramref name="maxAckDelay"/> when one segment
        /// is in flight (the peer may hold its ACK for that long) or <paramref name="extra"/> otherwise.
        /// </summary>
        internal static Duration ProbeTimeout(Duration srtt, int segmentsInFlight, Duration maxAckDelay, Duration extra)
        {
            return 2 * srtt + (segmentsInFlight == 1 ? maxAckDelay : extra);
        }

        /// <summary>
        /// A loss probe was sent; SND.MAX is now <paramref name="sndMax"/>. <paramref name="retransmitted"/>: it
        /// resent the last segment (its repair episode starts, <see cref="TlpRepair"/>) rather than new data.
        /// </summary>
        internal void ProbeSent(uint sndMax, bool retransmitted)
        {
            _probeOutstanding = true;
            _probeHighSeq = sndMax;
            if (retransmitted)
            {
                _repair.Retransmitted(sndMax);
            }
        }

        /// <summary>After an ACK: true when a retransmitted probe repaired a loss (one congestion response, RFC 8985 7.4).</summary>
        internal bool ProbeRepairedLoss(uint ack, bool advanced) => _repair.Ack(ack, advanced);

        // ------------------------------------------------------------ timeouts and repackaging

        /// <summary>A retransmission timeout fired: its own response covers any loss a probe repaired.</summary>
        internal void TimeoutFired()
        {
            _repair.Reset();
        }

        /// <summary>
        /// A timeout with data in flight enters the loss state (RFC 5681 section 3.1, RFC 6298 section 5): from the
        /// open state cwnd and ssthresh are kept for an undo; F-RTO starts when <paramref name="frtoAllowed"/> and the
        /// state was open (RFC 5682 step 1, <paramref name="tsVal"/> the retransmission's timestamp). True when the
        /// caller must take a new ssthresh: the first timeout of this loss episode (a loss state entered only to
        /// resend at a lower MSS does not count).
        /// </summary>
        internal bool EnterLoss(long cwnd, long ssthresh, uint sndMax, bool frtoAllowed, uint tsVal)
        {
            bool firstTimeout = _state != TcpCaState.Loss || _lossFromPathMtu;
            _lossFromPathMtu = false;
            if (_state == TcpCaState.Open)
            {
                _priorCwnd = cwnd;
                _priorSsthresh = ssthresh;
            }
            _frto = frtoAllowed && _state == TcpCaState.Open ? 1 : 0;
            _frtoTsVal = tsVal;
            _state = TcpCaState.Loss;
            _recover = sndMax;
            _dupAcks = 0;
            _probeOutstanding = false;
            return firstTimeout;
        }

        /// <summary>
        /// Segments in flight are resent at a lower MSS (the path MTU fell): from the open state the connection goes to
        /// the loss state until SND.MAX is acknowledged, so those marks start no fast recovery and its reduction;
        /// cwnd and ssthresh are kept for an undo. False when recovery or loss already runs (it stays as it is).
        /// </summary>
        internal bool EnterLossForRepackaging(long cwnd, long ssthresh, uint sndMax)
        {
            if (_state != TcpCaState.Open)
            {
                return false;
            }
            _priorCwnd = cwnd;
            _priorSsthresh = ssthresh;
            _state = TcpCaState.Loss;
            _lossFromPathMtu = true;
            _recover = sndMax;
            _frto = 0;
            _dupAcks = 0;
            _probeOutstanding = false;
            _repair.Reset(); // a probe of the old packaging repairs nothing
            return true;
        }
    }
}
