using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// RFC 8985 section 7.4: a tail loss probe that retransmitted the last segment may have repaired a loss that
    /// no other mechanism saw; the congestion controller must then respond as to any loss. The episode ends at
    /// the first ACK that tells: a D-SACK of the probe (the original had arrived: no loss), a duplicate ACK at
    /// the probe's end (both arrived), or an ACK beyond it (the probe filled a hole: cwnd and ssthresh are cut
    /// once, Linux tcp_process_tlp_ack). A probe of new data needs none of this: RACK finds its losses.
    /// </summary>
    internal sealed partial class TcpConnection
    {
        private bool _tlpRetransPending; // a retransmission probe's episode is open
        private uint _tlpRetransEnd;     // its end sequence (SND.MAX when it was sent)
        private bool _tlpDsacked;        // a D-SACK named it

        private void ResetTlpRepair()
        {
            _tlpRetransPending = false;
            _tlpDsacked = false;
        }

        /// <summary>The probe retransmitted the segment ending at <paramref name="end"/>.</summary>
        private void TlpRetransmitted(uint end)
        {
            _tlpRetransPending = true;
            _tlpRetransEnd = end;
            _tlpDsacked = false;
        }

        /// <summary>A D-SACK block [left, right) arrived.</summary>
        private void TlpDsackSeen(uint right)
        {
            if (_tlpRetransPending && right == _tlpRetransEnd)
            {
                _tlpDsacked = true;
            }
        }

        /// <summary>After an ACK's SACK blocks and cumulative part: decide the probe's episode if this ACK tells.</summary>
        private void TlpRepairAck(uint ack, bool advanced, Instant now)
        {
            if (!_tlpRetransPending || Lt(ack, _tlpRetransEnd))
            {
                return;
            }
            if (_tlpDsacked)
            {
                _tlpRetransPending = false; // the original arrived too: no loss
                return;
            }
            if (Gt(ack, _tlpRetransEnd))
            {
                _tlpRetransPending = false;
                Stats.TlpRepair();
                if (CaState == TcpCaState.Open)
                {
                    Ssthresh = Cc.SsthreshOnLoss(this, now);
                    Cwnd = Ssthresh;
                }
                return;
            }
            if (!advanced)
            {
                _tlpRetransPending = false; // a duplicate ACK at the probe's end: both copies arrived
            }
            // Otherwise the ACK moved exactly to the probe's end: it may answer the original, with the probe's
            // D-SACK still to come; wait (Linux does too).
        }
    }
}
