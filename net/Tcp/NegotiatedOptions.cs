using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// What the two SYNs agreed and what the options carry afterwards: window scaling (RFC 7323 section 2), SACK
    /// (RFC 2018), timestamps with TS.Recent, Last.ACK.sent and PAWS (RFC 7323 sections 3-5), and the MSS this side
    /// announces (RFC 9293 section 3.7.1). An option is in use only when both SYNs carried it. Made once with the
    /// connection; nothing here allocates.
    /// </summary>
    internal sealed class NegotiatedOptions
    {
        /// <summary>Smallest send MSS accepted from a peer's SYN (a tiny one would cost a header per few bytes).</summary>
        internal const int MinMss = 64;

        private bool _windowScaling;
        private int _sendScale;      // Snd.Wind.Shift: the peer's shift, applied to the windows it sends
        private int _receiveScale;   // Rcv.Wind.Shift: our shift, applied to the windows we send
        private bool _sack;
        private bool _timestamps;
        private uint _tsRecent;      // TS.Recent
        private uint _lastAckSent;   // Last.ACK.sent
        private uint _tsOffset;      // per-connection offset of the timestamp clock
        private int _receiveMss;     // what our SYN announces

        internal bool WindowScaling => _windowScaling;

        /// <summary>The peer's window shift (0 without window scaling).</summary>
        internal int SendWindowScale => _sendScale;

        /// <summary>Our window shift (0 without window scaling).</summary>
        internal int ReceiveWindowScale => _receiveScale;

        internal bool Sack => _sack;

        internal bool Timestamps => _timestamps;

        /// <summary>TS.Recent: the timestamp to echo (RFC 7323 section 4.3).</summary>
        internal uint TsRecent => _tsRecent;

        /// <summary>The MSS this side announces and receives at most.</summary>
        internal int ReceiveMss => _receiveMss;

        /// <summary>Nothing agreed: a fresh use of the pooled connection.</summary>
        internal void Reset()
        {
            _windowScaling = false;
            _sendScale = 0;
            _receiveScale = 0;
            _sack = false;
            _timestamps = false;
            _tsRecent = 0;
            _lastAckSent = 0;
        }

        /// <summary>
        /// What our SYN offers: <paramref name="receiveMss"/>, the window shift <paramref name="receiveScale"/>, and
        /// the timestamp clock's offset <paramref name="tsOffset"/>.
        /// </summary>
        internal void Offer(int receiveMss, int receiveScale, uint tsOffset)
        {
            _receiveMss = receiveMss;
            _receiveScale = receiveScale;
            _tsOffset = tsOffset;
        }

        /// <summary>
        /// The peer's SYN (or what a SYN cookie kept of it): window scaling when it carried the option (ours was
        /// sent), else no shift either way (RFC 7323 section 2.2); SACK and timestamps when it carried them and this
        /// stack has them on (<paramref name="sackEnabled"/>, <paramref name="timestampsEnabled"/>), TS.Recent from
        /// its TSval. Returns the send MSS: the peer's MSS (536 without the option), at most what we announce, at
        /// least <see cref="MinMss"/>.
        /// </summary>
        internal int AgreeFromSyn(ref TcpSegment syn, bool sackEnabled, bool timestampsEnabled)
        {
            int peerMss = syn.Mss > 0 ? syn.Mss : TcpLayer.DefaultMss;
            int mss = peerMss < _receiveMss ? peerMss : _receiveMss;
            if (mss < MinMss)
            {
                mss = MinMss;
            }
            if (syn.WindowScale >= 0)
            {
                _windowScaling = true;
                _sendScale = syn.WindowScale;
            }
            else
            {
                _windowScaling = false;
                _sendScale = 0;
                _receiveScale = 0;
            }
            _sack = sackEnabled && syn.SackPermitted;
            _timestamps = timestampsEnabled && syn.HasTimestamp;
            if (_timestamps)
            {
                _tsRecent = syn.TsVal;
            }
            return mss;
        }

        /// <summary>The timestamp clock (RFC 7323 section 5.4): milliseconds plus the connection's offset.</summary>
        internal uint TsNow(Instant now) => (uint)now.SinceOrigin.Milliseconds + _tsOffset;

        /// <summary>A window field from the peer in bytes (RFC 7323 section 2.3: shifted by Snd.Wind.Shift).</summary>
        internal long SendWindow(int field) => (long)field << _sendScale;

        /// <summary>The window field for <paramref name="window"/> bytes (shifted by Rcv.Wind.Shift, at most 65535).</summary>
        internal int WindowField(long window)
        {
            long field = window >> _receiveScale;
            return field > 65535 ? 65535 : (int)field;
        }

        /// <summary>
        /// PAWS (RFC 7323 section 5.3): with timestamps agreed, a segment (not a RST) whose TSval is older than
        /// TS.Recent is an old duplicate.
        /// </summary>
        internal bool IsOldDuplicate(ref TcpSegment segment, bool reset)
        {
            return _timestamps && segment.HasTimestamp && !reset && (int)(segment.TsVal - _tsRecent) < 0;
        }

        /// <summary>
        /// RFC 7323 section 4.3: an acceptable segment at <paramref name="sequence"/> at or before Last.ACK.sent whose
        /// TSval is not older than TS.Recent updates TS.Recent.
        /// </summary>
        internal void SegmentAccepted(ref TcpSegment segment, uint sequence)
        {
            if (_timestamps && segment.HasTimestamp && TcpSequence.Leq(sequence, _lastAckSent) &&
                (int)(segment.TsVal - _tsRecent) >= 0)
            {
                _tsRecent = segment.TsVal;
            }
        }

        /// <summary>An ACK of <paramref name="rcvNxt"/> went out: Last.ACK.sent.</summary>
        internal void AckSent(uint rcvNxt)
        {
            _lastAckSent = rcvNxt;
        }

        /// <summary>The echoed timestamp of an ACK, when timestamps are agreed and it carries a non-zero one.</summary>
        internal bool TryEcho(ref TcpSegment segment, out uint tsEcr)
        {
            tsEcr = segment.TsEcr;
            return _timestamps && segment.HasTimestamp && tsEcr != 0;
        }
    }
}
