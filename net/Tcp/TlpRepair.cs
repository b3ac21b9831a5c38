namespace Keel.Net.Tcp
{
    /// <summary>
    /// RFC 8985 section 7.4: a tail loss probe that retransmitted the last segment may have repaired a loss that
    /// no other mechanism saw; the congestion controller must then respond as to any loss. The episode ends at
    /// the first ACK that tells: a D-SACK of the probe (the original had arrived: no loss), a duplicate ACK at
    /// the probe's end (both arrived), or an ACK beyond it (the probe filled a hole: cwnd and ssthresh are cut
    /// once, Linux tcp_process_tlp_ack). A probe of new data needs none of this: RACK finds its losses.
    /// </summary>
    internal struct TlpRepair
    {
        private bool _pending;  // a retransmission probe's episode is open
        private uint _end;      // its end sequence (SND.MAX when it was sent)
        private bool _dsacked;  // a D-SACK named it

        /// <summary>No episode open (a fresh connection, or a timeout whose own response covers a probe's loss).</summary>
        internal void Reset()
        {
            _pending = false;
            _dsacked = false;
        }

        /// <summary>The probe retransmitted the segment ending at <paramref name="end"/>.</summary>
        internal void Retransmitted(uint end)
        {
            _pending = true;
            _end = end;
            _dsacked = false;
        }

        /// <summary>A D-SACK block ending at <paramref name="right"/> arrived.</summary>
        internal void DsackSeen(uint right)
        {
            if (_pending && right == _end)
            {
                _dsacked = true;
            }
        }

        /// <summary>
        /// After an ACK's SACK blocks and cumulative part: decides the probe's episode if this ACK tells. True when
        /// the probe repaired a loss (the caller reduces the congestion window once).
        /// </summary>
        internal bool Ack(uint ack, bool advanced)
        {
            if (!_pending || TcpSequence.Lt(ack, _end))
            {
                return false;
            }
            if (_dsacked)
            {
                _pending = false; // the original arrived too: no loss
                return false;
            }
            if (TcpSequence.Gt(ack, _end))
            {
                _pending = false;
                return true;
            }
            if (!advanced)
            {
                _pending = false; // a duplicate ACK at the probe's end: both copies arrived
            }
            // Otherwise the ACK moved exactly to the probe's end: it may answer the original, with the probe's
            // D-SACK still to come; wait (Linux does too).
            return false;
        }
    }
}
