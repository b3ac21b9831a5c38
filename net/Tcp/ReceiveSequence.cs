namespace Keel.Net.Tcp
{
    /// <summary>
    /// The receive sequence space (RFC 9293 section 3.3.1): IRS, RCV.NXT, and the right edge of the window last
    /// advertised (RCV.NXT + RCV.WND when it was sent), which never moves left (RFC 9293 section 3.8.6: shrinking
    /// the window is strongly discouraged). Segment acceptability (section 3.10.7.4) and receiver silly window
    /// syndrome avoidance (section 3.8.6.2.2) are decided here. Made once with the connection; nothing allocates.
    /// </summary>
    internal sealed class ReceiveSequence
    {
        private uint _irs;
        private uint _nxt;
        private uint _adv;   // right edge of the window last advertised

        internal uint Irs => _irs;

        /// <summary>RCV.NXT: the next sequence number expected.</summary>
        internal uint Nxt => _nxt;

        /// <summary>The right edge of the window last advertised.</summary>
        internal uint Adv => _adv;

        /// <summary>RCV.WND as advertised: from RCV.NXT to the right edge (0 when RCV.NXT passed it).</summary>
        internal uint Window => TcpSequence.Gt(_adv, _nxt) ? _adv - _nxt : 0;

        /// <summary>
        /// The peer's SYN at <paramref name="irs"/> arrived: RCV.NXT = IRS + 1 (the SYN takes one sequence number),
        /// and our SYN offers <paramref name="synWindow"/> bytes (a SYN's window is never scaled).
        /// </summary>
        internal void Start(uint irs, int synWindow)
        {
            _irs = irs;
            _nxt = irs + 1;
            _adv = _nxt + (uint)synWindow;
        }

        /// <summary>A SYN offering <paramref name="window"/> bytes went out.</summary>
        internal void SynWindowSent(int window)
        {
            _adv = _nxt + (uint)window;
        }

        /// <summary>In-order data or a FIN took <paramref name="length"/> sequence numbers.</summary>
        internal void Advance(uint length)
        {
            _nxt += length;
        }

        /// <summary>
        /// RFC 9293 section 3.10.7.4's acceptability test, in Linux's more forgiving form: a segment of
        /// <paramref name="length"/> sequence numbers at <paramref name="sequence"/> is acceptable when an empty one
        /// lies in [RCV.NXT, RCV.NXT + RCV.WND], or when a non-empty one ends after RCV.NXT and starts at or before
        /// the right edge (so with a zero window the ACK and window fields of a data segment are still used; its
        /// data is trimmed away).
        /// </summary>
        internal bool IsAcceptable(uint sequence, int length)
        {
            uint right = _nxt + Window;
            if (length == 0)
            {
                return TcpSequence.Geq(sequence, _nxt) && TcpSequence.Leq(sequence, right);
            }
            return TcpSequence.Gt(sequence + (uint)length, _nxt) && TcpSequence.Leq(sequence, right);
        }

        /// <summary>
        /// The window to advertise when <paramref name="free"/> bytes of the buffer (of <paramref name="bufferSize"/>)
        /// are free: the right edge moves to RCV.NXT + free only by at least one MSS or half the buffer (receiver SWS
        /// avoidance), or when the window was closed; it never moves left. Returns RCV.WND in bytes.
        /// </summary>
        internal uint Advertise(long free, int mss, int bufferSize)
        {
            uint right = _nxt + (uint)(free > 0 ? free : 0);
            if (TcpSequence.Gt(right, _adv))
            {
                uint growth = right - _adv;
                if (growth >= (uint)mss || growth >= (uint)(bufferSize / 2) || !TcpSequence.Gt(_adv, _nxt))
                {
                    _adv = right;
                }
            }
            return Window;
        }
    }
}
