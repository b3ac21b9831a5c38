namespace Keel.Net.Tcp
{
    /// <summary>
    /// The send sequence space (RFC 9293 section 3.3.1): ISS, SND.UNA, SND.NXT, the highest sequence number sent
    /// (SND.MAX, which SND.NXT stays at here: retransmissions are sent from the scoreboard, not by moving SND.NXT
    /// back), the peer's window SND.WND with SND.WL1/SND.WL2 and its largest value MAX.SND.WND (RFC 5961 section 5.2),
    /// and the sequence number of the send buffer's first byte. Made once with the connection; nothing here allocates.
    /// </summary>
    internal sealed class SendSequence
    {
        private uint _iss;
        private uint _una;
        private uint _nxt;
        private uint _max;
        private uint _wl1;
        private uint _wl2;
        private uint _bufferStart;
        private long _window;
        private long _maxWindow;

        internal uint Iss => _iss;

        /// <summary>SND.UNA: the oldest unacknowledged sequence number.</summary>
        internal uint Una => _una;

        /// <summary>SND.NXT: the next sequence number to send.</summary>
        internal uint Nxt => _nxt;

        /// <summary>SND.MAX: one past the highest sequence number sent.</summary>
        internal uint Max => _max;

        /// <summary>SND.WND in bytes (already scaled).</summary>
        internal long Window => _window;

        /// <summary>MAX.SND.WND: the largest window the peer has offered.</summary>
        internal long MaxWindow => _maxWindow;

        /// <summary>Sequence number of the send buffer's first byte.</summary>
        internal uint BufferStart => _bufferStart;

        /// <summary>Bytes sent and not acknowledged (SND.MAX − SND.UNA).</summary>
        internal long InFlight => _max - _una;

        /// <summary>What the peer's window still takes beyond the data in flight (negative when it shrank).</summary>
        internal long WindowLeft => _window - (long)(_max - _una);

        /// <summary>No window known: a fresh use of the pooled connection.</summary>
        internal void Reset()
        {
            _window = 0;
            _maxWindow = 0;
        }

        /// <summary>The send side starts at <paramref name="iss"/>: nothing sent; data will start after the SYN.</summary>
        internal void Start(uint iss)
        {
            _iss = iss;
            _una = iss;
            _nxt = iss;
            _max = iss;
            _bufferStart = iss + 1;
        }

        /// <summary>Whether a SYN (or SYN-ACK) was already sent with this ISS: another one is a retransmission.</summary>
        internal bool SynSentBefore => _max != _iss;

        /// <summary>The next SYN-ACK counts as a first transmission (simultaneous open answers the peer's SYN).</summary>
        internal void ForgetSyn()
        {
            _max = _iss;
        }

        /// <summary>Our SYN went out: it takes ISS, so SND.NXT = SND.MAX = ISS + 1.</summary>
        internal void SynSent()
        {
            _nxt = _iss + 1;
            _max = _iss + 1;
        }

        /// <summary>Data (and FIN) up to <paramref name="end"/> went out for the first time.</summary>
        internal void Sent(uint end)
        {
            _nxt = end;
            _max = end;
        }

        /// <summary>An acceptable ACK of <paramref name="ack"/>: SND.UNA moves there (and SND.NXT with it if behind).</summary>
        internal void Acknowledge(uint ack)
        {
            _una = ack;
            if (TcpSequence.Lt(_nxt, _una))
            {
                _nxt = _una;
            }
        }

        /// <summary>
        /// RFC 5961 section 5.2: an ACK below SND.UNA − MAX.SND.WND acknowledges data never in the window: a blind
        /// injection, dropped (with an ACK back).
        /// </summary>
        internal bool AckTooOld(uint ack) => TcpSequence.Lt(ack, _una - (uint)_maxWindow);

        /// <summary>The send buffer released bytes up to <paramref name="sequence"/>.</summary>
        internal void BufferReleased(uint sequence)
        {
            _bufferStart = sequence;
        }

        /// <summary>The send buffer was emptied: it starts at SND.MAX.</summary>
        internal void BufferCleared()
        {
            _bufferStart = _max;
        }

        /// <summary>
        /// The send sequence space's own invariants (RFC 9293 3.3.1): ISS ≤ SND.UNA ≤ SND.NXT ≤ SND.MAX, and
        /// 0 ≤ SND.WND ≤ MAX.SND.WND. Null when they hold, else what broke (tests and fuzz targets call it).
        /// </summary>
        internal string CheckInvariants()
        {
            if (!TcpSequence.Leq(_iss, _una))
            {
                return "SND.UNA is before ISS";
            }
            if (!TcpSequence.Leq(_una, _nxt))
            {
                return "SND.UNA is past SND.NXT";
            }
            if (!TcpSequence.Leq(_nxt, _max))
            {
                return "SND.NXT is past SND.MAX";
            }
            if (_window < 0 || _window > _maxWindow)
            {
                return "SND.WND is negative or above MAX.SND.WND";
            }
            return null;
        }

        /// <summary>
        /// The first window of the connection (from the SYN, or the ACK that completes a passive open): SND.WND,
        /// MAX.SND.WND, and SND.WL1/SND.WL2 from the segment that carried it.
        /// </summary>
        internal void InitWindow(long window, uint sequence, uint ack)
        {
            _window = window;
            _maxWindow = window;
            _wl1 = sequence;
            _wl2 = ack;
        }

        /// <summary>
        /// RFC 9293 section 3.10.7.4: a segment at <paramref name="sequence"/> acknowledging <paramref name="ack"/>
        /// updates the window when it is newer than the one that last did (SND.WL1 &lt; SEG.SEQ, or SND.WL1 = SEG.SEQ
        /// and SND.WL2 ≤ SEG.ACK). True when it did; <paramref name="changed"/> tells whether the window differs.
        /// </summary>
        internal bool UpdateWindow(uint sequence, uint ack, long window, out bool changed)
        {
            changed = false;
            if (!(TcpSequence.Lt(_wl1, sequence) || (_wl1 == sequence && TcpSequence.Leq(_wl2, ack))))
            {
                return false;
            }
            changed = window != _window;
            _window = window;
            _wl1 = sequence;
            _wl2 = ack;
            if (_window > _maxWindow)
            {
                _maxWindow = _window;
            }
            return true;
        }
    }
}
