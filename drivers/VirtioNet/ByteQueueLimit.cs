namespace Keel.Drivers.VirtioNet
{
    /// <summary>
    /// Dynamic limit on the bytes queued in a transmit ring (as Linux's byte queue limits, lib/dynamic_queue_limits.c):
    /// the queue counts as full once the bytes handed to the device and not yet completed reach the limit, so a
    /// bulk sender keeps only about what the device takes between two completions in the ring, and a small frame
    /// queued behind it waits for little. The limit is learned from completions:
    /// <list type="bullet">
    /// <item>It grows when the ring ran dry while the queue was held at the limit (starvation: the device finished
    /// everything, or everything queued before the last completion, while more was waiting): by the bytes completed
    /// beyond what had been queued at the previous completion, plus what was over the limit then.</item>
    /// <item>It shrinks when slack persists: at each completion that leaves bytes in flight, the slack is what the
    /// limit allowed beyond twice the bytes just completed; when a whole hold time passed, the limit drops by the
    /// smallest slack seen in it.</item>
    /// </list>
    /// Counts are running totals (wrapping is harmless: only differences are used). Start-up and steady state
    /// never allocate.
    /// </summary>
    public sealed class ByteQueueLimit
    {
        /// <summary>How long slack must persist before the limit shrinks (Linux: one second, HZ).</summary>
        public const long SlackHoldNanoseconds = 1000000000;

        private long _queued;            // bytes ever queued
        private long _completed;         // bytes ever completed
        private long _limit;
        private long _adjustedLimit;     // _limit + _completed: queue is full when _queued reaches it
        private long _previousQueued;    // _queued at the previous completion
        private long _previousOverLimit; // bytes over the limit at the previous completion
        private long _lastObject;        // size of the last object queued
        private long _previousLastObject;
        private long _lowestSlack = long.MaxValue;
        private long _slackStart;

        /// <summary>Makes a limit between <paramref name="minLimit"/> and <paramref name="maxLimit"/> bytes, starting at the minimum.</summary>
        public ByteQueueLimit(long minLimit, long maxLimit)
        {
            MinLimit = minLimit < 0 ? 0 : minLimit;
            MaxLimit = maxLimit < MinLimit ? MinLimit : maxLimit;
            Reset(0);
        }

        /// <summary>Smallest limit.</summary>
        public long MinLimit { get; }

        /// <summary>Largest limit.</summary>
        public long MaxLimit { get; }

        /// <summary>The current limit, bytes.</summary>
        public long Limit => _limit;

        /// <summary>Bytes queued and not yet completed.</summary>
        public long InFlight => _queued - _completed;

        /// <summary>Bytes that may still be queued before the limit is reached; negative when over it.</summary>
        public long Available => _adjustedLimit - _queued;

        /// <summary>True once the bytes in flight reach the limit: the queue should stop taking bulk data.</summary>
        public bool OverLimit => Available < 0;

        /// <summary>Times the limit grew after starvation.</summary>
        public long Growths { get; private set; }

        /// <summary>Times persistent slack shrank the limit.</summary>
        public long Shrinks { get; private set; }

        /// <summary>Forgets everything queued (device reset); the limit goes back to the minimum.</summary>
        public void Reset(long nowNanoseconds)
        {
            _queued = 0;
            _completed = 0;
            _limit = MinLimit;
            _adjustedLimit = _limit;
            _previousQueued = 0;
            _previousOverLimit = 0;
            _lastObject = 0;
            _previousLastObject = 0;
            _lowestSlack = long.MaxValue;
            _slackStart = nowNanoseconds;
        }

        /// <summary>A frame of <paramref name="bytes"/> went to the device.</summary>
        public void Queued(int bytes)
        {
            _lastObject = bytes;
            _queued += bytes;
        }

        /// <summary>The device finished <paramref name="bytes"/> (all completions found by one reclaim together).</summary>
        public void Completed(long bytes, long nowNanoseconds)
        {
            if (bytes <= 0)
            {
                return;
            }
            long completed = _completed + bytes;
            long limit = _limit;
            long overLimit = Positive(_queued - _completed - limit);
            long inProgress = _queued - completed;
            long previousInProgress = _previousQueued - _completed;
            bool allPreviousCompleted = completed - _previousQueued >= 0;
            if ((overLimit > 0 && inProgress == 0) || (_previousOverLimit > 0 && allPreviousCompleted))
            {
                // Starved: the device ran out of queued bytes while the limit held more back.
                limit += Positive(completed - _previousQueued) + _previousOverLimit;
                _slackStart = nowNanoseconds;
                _lowestSlack = long.MaxValue;
                Growths++;
            }
            else if (inProgress > 0 && previousInProgress > 0 && !allPreviousCompleted)
            {
                // Not starved: what stayed queued beyond twice this completion was not needed.
                long slack = Positive(limit + _previousOverLimit - 2 * (completed - _completed));
                long slackLastObjects = _previousOverLimit > 0 ? Positive(_previousLastObject - _previousOverLimit) : 0;
                if (slackLastObjects > slack)
                {
                    slack = slackLastObjects;
                }
                if (slack < _lowestSlack)
                {
                    _lowestSlack = slack;
                }
                if (nowNanoseconds - _slackStart >= SlackHoldNanoseconds)
                {
                    limit = Positive(limit - _lowestSlack);
                    _slackStart = nowNanoseconds;
                    _lowestSlack = long.MaxValue;
                    Shrinks++;
                }
            }
            limit = limit < MinLimit ? MinLimit : limit > MaxLimit ? MaxLimit : limit;
            if (limit != _limit)
            {
                _limit = limit;
                overLimit = 0;
            }
            _adjustedLimit = limit + completed;
            _previousOverLimit = overLimit;
            _previousLastObject = _lastObject;
            _completed = completed;
            _previousQueued = _queued;
        }

        private static long Positive(long value) => value > 0 ? value : 0;
    }
}
