using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// CUBIC (RFC 9438) with HyStart++ (RFC 9406) in slow start. Windows are computed in segments as doubles
    /// (ordinary code, never in an interrupt handler); the connection keeps cwnd in bytes.
    /// </summary>
    internal sealed class CubicCongestion : CongestionControl
    {
        private const double C = 0.4;
        private const double Beta = 0.7;
        private const double AlphaReno = 3.0 * (1 - Beta) / (1 + Beta);

        // HyStart++ (RFC 9406 section 4.3 constants), RTTs in microseconds.
        private const int MinRttThresholdUs = 4000;
        private const int MaxRttThresholdUs = 16000;
        private const int MinRttDivisor = 8;
        private const int RttSamples = 8;
        private const int CssGrowthDivisor = 4;
        private const int CssRounds = 5;

        private double _wMax;          // segments
        private double _wMaxPrevious;  // for Undo
        private double _k;             // seconds
        private double _wEst;          // segments (Reno-friendly estimate)
        private Instant _epochStart;   // None = no epoch
        private double _fraction;      // bytes of growth not yet applied

        private bool _hystartDone;
        private bool _inCss;
        private uint _roundEnd;
        private long _lastRoundMinRttUs;
        private long _currentRoundMinRttUs;
        private int _rttSampleCount;
        private long _cssBaselineMinRttUs;
        private int _cssRoundCount;

        /// <summary>Times HyStart++ ended slow start (for tests and <c>net</c>).</summary>
        internal int HystartExits;

        internal override string Name => "cubic";

        internal override void Init(TcpConnection c)
        {
            _wMax = 0;
            _wMaxPrevious = 0;
            _k = 0;
            _wEst = 0;
            _epochStart = Instant.None;
            _fraction = 0;
            _hystartDone = false;
            _inCss = false;
            _roundEnd = c.Snd.Max;
            _lastRoundMinRttUs = long.MaxValue;
            _currentRoundMinRttUs = long.MaxValue;
            _rttSampleCount = 0;
            _cssBaselineMinRttUs = long.MaxValue;
            _cssRoundCount = 0;
            HystartExits = 0;
        }

        internal override void OnAck(TcpConnection c, long acked, Instant now)
        {
            if (c.Cwnd < c.Ssthresh)
            {
                SlowStart(c, acked);
                return;
            }
            double mss = c.SendMss;
            double cwnd = c.Cwnd / mss;
            if (!_epochStart.IsSet)
            {
                _epochStart = now;
                if (cwnd < _wMax)
                {
                    _k = CubeRoot((_wMax - cwnd) / C);
                }
                else
                {
                    _k = 0;
                    _wMax = cwnd;
                }
                _wEst = cwnd;
            }
            double t = (now - _epochStart).TotalSeconds + c.Rtt.Srtt.TotalSeconds;
            double d = t - _k;
            double target = C * d * d * d + _wMax;
            if (target < cwnd)
            {
                target = cwnd;
            }
            else if (target > 1.5 * cwnd)
            {
                target = 1.5 * cwnd;
            }
            _wEst += AlphaReno * (acked / mss) / cwnd;
            if (_wEst > target)
            {
                target = _wEst; // Reno-friendly region
            }
            _fraction += (target - cwnd) / cwnd * acked;
            if (_fraction >= 1)
            {
                long grow = (long)_fraction;
                _fraction -= grow;
                c.Cwnd = Clamp(c.Cwnd + grow);
            }
        }

        private void SlowStart(TcpConnection c, long acked)
        {
            if (TcpSequence.Geq(c.Snd.Una, _roundEnd))
            {
                // A round ends (RFC 9406: when the ACK passes the sequence sent at the round's start).
                _roundEnd = c.Snd.Max;
                _lastRoundMinRttUs = _currentRoundMinRttUs;
                _currentRoundMinRttUs = long.MaxValue;
                _rttSampleCount = 0;
                if (_inCss && ++_cssRoundCount >= CssRounds)
                {
                    c.Ssthresh = c.Cwnd; // leave slow start for congestion avoidance
                    _inCss = false;
                    _hystartDone = true;
                    HystartExits++;
                    return;
                }
            }
            c.Cwnd = Clamp(c.Cwnd + (_inCss ? acked / CssGrowthDivisor : acked));
        }

        internal override void OnRttSample(TcpConnection c, Duration rtt, Instant now)
        {
            long rttUs = rtt.Microseconds; // HyStart++ works at the estimator's resolution
            if (_hystartDone || c.Cwnd >= c.Ssthresh)
            {
                return;
            }
            if (rttUs < _currentRoundMinRttUs)
            {
                _currentRoundMinRttUs = rttUs;
            }
            _rttSampleCount++;
            if (_rttSampleCount < RttSamples || _lastRoundMinRttUs == long.MaxValue)
            {
                return;
            }
            if (!_inCss)
            {
                long threshold = _lastRoundMinRttUs / MinRttDivisor;
                if (threshold < MinRttThresholdUs)
                {
                    threshold = MinRttThresholdUs;
                }
                else if (threshold > MaxRttThresholdUs)
                {
                    threshold = MaxRttThresholdUs;
                }
                if (_currentRoundMinRttUs >= _lastRoundMinRttUs + threshold)
                {
                    _inCss = true;
                    _cssBaselineMinRttUs = _currentRoundMinRttUs;
                    _cssRoundCount = 0;
                }
            }
            else if (_currentRoundMinRttUs < _cssBaselineMinRttUs)
            {
                _inCss = false; // the RTT increase was spurious: back to slow start
            }
        }

        internal override long SsthreshOnLoss(TcpConnection c, Instant now)
        {
            double cwnd = c.Cwnd / (double)c.SendMss;
            _wMaxPrevious = _wMax;
            // Fast convergence (RFC 9438 section 4.7).
            _wMax = cwnd < _wMax ? cwnd * (1 + Beta) / 2 : cwnd;
            _epochStart = Instant.None;
            _fraction = 0;
            _hystartDone = true;
            _inCss = false;
            long ssthresh = (long)(cwnd * Beta * c.SendMss);
            long floor = 2L * c.SendMss;
            return ssthresh > floor ? ssthresh : floor;
        }

        internal override void Undo(TcpConnection c)
        {
            _wMax = _wMaxPrevious;
            _epochStart = Instant.None;
        }

        /// <summary>Cube root by Newton's method (the kernel's corelib has no Math.Cbrt).</summary>
        internal static double CubeRoot(double x)
        {
            if (x <= 0)
            {
                return 0;
            }
            double r = x > 1 ? x / 3 : 1;
            for (int i = 0; i < 60; i++)
            {
                double next = (2 * r + x / (r * r)) / 3;
                double diff = next - r;
                r = next;
                if (diff < 1e-9 && diff > -1e-9)
                {
                    break;
                }
            }
            return r;
        }
    }
}
