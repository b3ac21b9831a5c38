using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Smoothed round-trip time and retransmission timeout (RFC 6298 section 2), kept at microsecond resolution:
    /// SRTT, RTTVAR and RTO from samples, RTO clamped to the stack's minimum and maximum, with a clock granularity
    /// G of one millisecond.
    /// </summary>
    internal struct RttEstimator
    {
        private static Duration ClockGranularity => Duration.FromMilliseconds(1);

        private long _srttUs;
        private long _rttVarUs;
        private long _rtoUs;
        private bool _valid;

        /// <summary>Smoothed RTT; zero before the first sample.</summary>
        internal Duration Srtt => Duration.FromMicroseconds(_srttUs);

        internal Duration RttVar => Duration.FromMicroseconds(_rttVarUs);

        /// <summary>The retransmission timeout before backoff.</summary>
        internal Duration Rto => Duration.FromMicroseconds(_rtoUs);

        /// <summary>A sample has been taken (RFC 6298 section 2.2 has run).</summary>
        internal bool HasSample => _valid;

        /// <summary>No sample yet; RTO is <paramref name="initialRto"/> (RFC 6298 section 2.1).</summary>
        internal void Reset(Duration initialRto)
        {
            _srttUs = 0;
            _rttVarUs = 0;
            _rtoUs = initialRto.Microseconds;
            _valid = false;
        }

        /// <summary>
        /// Our SYN timed out and no sample was taken: data transmission starts with an RTO of at least 3 s
        /// (RFC 6298 section 5.7).
        /// </summary>
        internal void AfterSynTimeout()
        {
            long synLossRto = Duration.FromSeconds(3).Microseconds;
            if (!_valid && _rtoUs < synLossRto)
            {
                _rtoUs = synLossRto;
            }
        }

        /// <summary>
        /// Takes one RTT measurement (sections 2.2 and 2.3) and recomputes RTO within [<paramref name="minRto"/>,
        /// <paramref name="maxRto"/>]. Returns the sample as used (at least one microsecond).
        /// </summary>
        internal Duration Sample(Duration measured, Duration minRto, Duration maxRto)
        {
            long rtt = measured.Microseconds;
            if (rtt < 1)
            {
                rtt = 1;
            }
            if (!_valid)
            {
                _srttUs = rtt;
                _rttVarUs = rtt / 2;
                _valid = true;
            }
            else
            {
                long delta = _srttUs - rtt;
                if (delta < 0)
                {
                    delta = -delta;
                }
                _rttVarUs = (3 * _rttVarUs + delta) / 4;
                _srttUs = (7 * _srttUs + rtt) / 8;
            }
            long variance = 4 * _rttVarUs;
            long granularity = ClockGranularity.Microseconds;
            _rtoUs = _srttUs + (variance > granularity ? variance : granularity);
            if (_rtoUs < minRto.Microseconds)
            {
                _rtoUs = minRto.Microseconds;
            }
            if (_rtoUs > maxRto.Microseconds)
            {
                _rtoUs = maxRto.Microseconds;
            }
            return Duration.FromMicroseconds(rtt);
        }
    }
}
