using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Retransmission backoff and give-up counts: the RTO doubles with every timeout (RFC 6298 section 5.5) up to
    /// <see cref="MaxShift"/> doublings, and goes back when new data is acknowledged; timeouts and unanswered
    /// zero-window probes (RFC 9293 section 3.8.6.1) are counted against a limit (RFC 1122 section 4.2.3.5, R2);
    /// the handshake's RTT is measured only from a SYN that was not retransmitted (Karn's rule, RFC 6298 section 3).
    /// Made once with the connection; nothing here allocates.
    /// </summary>
    internal sealed class RetransmitBackoff
    {
        /// <summary>The RTO is doubled at most this many times.</summary>
        internal const int MaxShift = 10;

        private int _shift;          // doublings of the RTO since the last acknowledgment of new data
        private int _retries;        // retransmission timeouts in a row
        private int _probes;         // zero-window or keepalive-style probes unanswered
        private bool _synTiming;     // the one SYN (or SYN-ACK) sent is being timed
        private Instant _synSentAt;

        /// <summary>How many times the RTO is doubled now.</summary>
        internal int Shift => _shift;

        /// <summary>Nothing counted: a fresh use of the pooled connection.</summary>
        internal void Reset()
        {
            _shift = 0;
            _retries = 0;
            _probes = 0;
            _synTiming = false;
        }

        /// <summary>The RTO with the backoff applied, not clamped.</summary>
        internal Duration Apply(Duration rto) => rto << _shift;

        /// <summary>The RTO with the backoff applied, at most <paramref name="max"/> (RFC 6298 section 2.5).</summary>
        internal Duration Apply(Duration rto, Duration max) => Duration.Min(rto << _shift, max);

        /// <summary>
        /// A retransmission timeout: false when it is the one past <paramref name="limit"/> (the connection gives up);
        /// otherwise the RTO is doubled and a SYN being timed is no longer (Karn).
        /// </summary>
        internal bool TimedOut(int limit)
        {
            _retries++;
            if (_retries > limit)
            {
                return false;
            }
            Double();
            _synTiming = false;
            return true;
        }

        /// <summary>
        /// A zero-window probe is due: false when it would be the one past <paramref name="limit"/> unanswered;
        /// otherwise the caller sends it and the interval doubles.
        /// </summary>
        internal bool ProbeDue(int limit)
        {
            if (++_probes > limit)
            {
                return false;
            }
            Double();
            return true;
        }

        /// <summary>The peer answered (an acceptable ACK): unanswered probes are forgotten.</summary>
        internal void PeerAnswered()
        {
            _probes = 0;
        }

        /// <summary>New data (or the SYN) was acknowledged: the RTO and the timeout count start again.</summary>
        internal void Acknowledged()
        {
            _shift = 0;
            _retries = 0;
        }

        /// <summary>The peer's window opened: the probe interval starts again.</summary>
        internal void WindowOpened()
        {
            _shift = 0;
        }

        /// <summary>Our first SYN (or SYN-ACK) went out at <paramref name="at"/>: it is timed for the first RTT sample.</summary>
        internal void SynSent(Instant at)
        {
            _synTiming = true;
            _synSentAt = at;
        }

        /// <summary>
        /// The SYN was acknowledged at <paramref name="now"/>: true with its round-trip time when it was sent once and
        /// timed (Karn's rule); timing stops either way.
        /// </summary>
        internal bool TrySynRtt(Instant now, out Duration rtt)
        {
            bool sample = _synTiming && _shift == 0;
            rtt = sample ? now - _synSentAt : Duration.Zero;
            _synTiming = false;
            return sample;
        }

        private void Double()
        {
            if (_shift < MaxShift)
            {
                _shift++;
            }
        }
    }
}
