using Keel.Hal;

namespace Keel.Net.Ipv6
{
    /// <summary>
    /// The token bucket RFC 4443 section 2.4 (f) suggests for ICMPv6 errors: at most <c>burst</c> at once, then
    /// one per <c>interval</c>.
    /// </summary>
    internal sealed class Icmpv6RateLimiter
    {
        private readonly int _burst;
        private readonly Duration _interval;
        private int _tokens;
        private Instant _refilled;

        public Icmpv6RateLimiter(int burst, Duration interval)
        {
            _burst = burst;
            _interval = interval;
            _tokens = burst;
        }

        /// <summary>Takes a token; false when the bucket is empty.</summary>
        public bool TryTake(Instant now)
        {
            if (!_refilled.IsSet || now < _refilled)
            {
                _refilled = now;
            }
            long earned = (now - _refilled) / _interval;
            if (earned > 0)
            {
                _tokens = earned >= _burst - _tokens ? _burst : _tokens + (int)earned;
                _refilled = _refilled + _interval * earned;
            }
            if (_tokens == 0)
            {
                return false;
            }
            _tokens--;
            return true;
        }
    }
}
