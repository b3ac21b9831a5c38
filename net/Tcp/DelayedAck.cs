namespace Keel.Net.Tcp
{
    /// <summary>What the end of a receive batch does about the ACK a connection owes.</summary>
    internal enum AckDecision
    {
        /// <summary>Nothing is owed, or the delayed-ACK timer already runs.</summary>
        None,

        /// <summary>Send the ACK now.</summary>
        Send,

        /// <summary>Arm the delayed-ACK timer.</summary>
        Delay,
    }

    /// <summary>
    /// When the receiver acknowledges (RFC 9293 section 3.8.6.3, RFC 1122 section 4.2.3.2, RFC 5681 section 4.2): at
    /// least every second full-sized segment, at once for out-of-order data, a filled hole, a duplicate, a FIN or a
    /// D-SACK, otherwise after the delayed-ACK timeout. ACKs wait for the end of the receive batch (one ACK with
    /// current SACK blocks per driver poll), except every <see cref="InlineSegments"/> segments of a long batch and
    /// when a segment starts a new run of data while an immediate ACK is owed (each new SACK block is reported once).
    /// A segment coalesced by the device counts as the full-sized segments it carries. The connection sends the ACK
    /// and arms the timer; <see cref="Sent"/> clears what was owed.
    /// </summary>
    internal sealed class DelayedAck
    {
        /// <summary>A long receive batch still acknowledges inline every this many segments, so the sender's clock keeps ticking.</summary>
        internal const int InlineSegments = 16;

        private int _pending;   // full-sized segments received and not acknowledged yet
        private bool _now;      // an ACK is owed at once
        private uint _runEnd;   // end of the last data segment taken (where the current run of data ends)

        /// <summary>Full-sized segments received since the last ACK.</summary>
        internal int PendingSegments => _pending;

        /// <summary>An ACK is owed at once (at the end of the batch at the latest).</summary>
        internal bool Immediate => _now;

        /// <summary>Any ACK is owed, at once or delayed.</summary>
        internal bool Owed => _now || _pending > 0;

        /// <summary>A long batch has gathered <see cref="InlineSegments"/> segments: acknowledge now, inside the batch.</summary>
        internal bool InlineDue => _pending >= InlineSegments;

        /// <summary>A fresh connection: nothing owed.</summary>
        internal void Reset()
        {
            _pending = 0;
            _now = false;
            _runEnd = 0;
        }

        /// <summary>The next ACK must not wait for the timer (out-of-order data, a filled hole, a duplicate, a FIN, a D-SACK).</summary>
        internal void AckImmediately()
        {
            _now = true;
        }

        /// <summary>
        /// A data segment [<paramref name="sequence"/>, +<paramref name="length"/>) is about to be taken. True when it
        /// does not continue the previous one while an immediate ACK is owed: the caller sends that ACK first, so the
        /// run before the gap is reported (an ACK carries only 3-4 SACK blocks).
        /// </summary>
        internal bool StartsNewRun(uint sequence, int length)
        {
            bool newRun = _now && sequence != _runEnd;
            _runEnd = sequence + (uint)length;
            return newRun;
        }

        /// <summary>One segment that counts as one (out of order, or data dropped after a receive shutdown).</summary>
        internal void SegmentReceived()
        {
            _pending++;
        }

        /// <summary>
        /// In-order data: <paramref name="length"/> bytes arrived in one segment; with <paramref name="mss"/> the receive MSS a
        /// segment the device coalesced counts as the full-sized segments it carries (rounded up).
        /// </summary>
        internal void DataReceived(int length, int mss)
        {
            _pending += length > mss && mss > 0 ? (length + mss - 1) / mss : 1;
        }

        /// <summary>An ACK went out: nothing is owed any more.</summary>
        internal void Sent()
        {
            _pending = 0;
            _now = false;
        }

        /// <summary>
        /// At the end of the receive batch: send when an immediate ACK or two full-sized segments' worth is owed;
        /// delay a single segment's ACK unless the timer (<paramref name="timerArmed"/>) already runs.
        /// </summary>
        internal AckDecision AtBatchEnd(bool timerArmed)
        {
            if (_now || _pending >= 2)
            {
                return AckDecision.Send;
            }
            if (_pending == 1 && !timerArmed)
            {
                return AckDecision.Delay;
            }
            return AckDecision.None;
        }

        /// <summary>The delayed-ACK timer fired: true when an ACK is still owed.</summary>
        internal bool TimerFired() => _pending > 0;
    }
}
