using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>The connection's timers, one deadline each; <see cref="TcpTimers.Expire"/> takes them in this order.</summary>
    internal enum TcpTimer
    {
        /// <summary>2 MSL in TIME_WAIT (RFC 9293 section 3.6).</summary>
        TimeWait,

        /// <summary>An orphan in FIN_WAIT_2 waits this long for the peer's FIN.</summary>
        FinWait2,

        /// <summary>RACK reordering window (RFC 8985 section 6.2).</summary>
        Reorder,

        /// <summary>Tail loss probe (RFC 8985 section 7).</summary>
        LossProbe,

        /// <summary>Retransmission timeout (RFC 6298).</summary>
        Retransmit,

        /// <summary>Zero-window probe (RFC 9293 section 3.8.6.1).</summary>
        Persist,

        /// <summary>Delayed ACK (RFC 1122 section 4.2.3.2).</summary>
        DelayedAck,

        /// <summary>Keepalive (RFC 9293 section 3.8.4).</summary>
        KeepAlive,

        /// <summary>Number of timer kinds.</summary>
        Count,
    }

    /// <summary>
    /// One deadline per <see cref="TcpTimer"/> kind, in one table; <see cref="Instant.None"/> is off. Made with the
    /// connection at start-up; arming and expiring never allocate.
    /// </summary>
    internal sealed class TcpTimers
    {
        private readonly Instant[] _deadlines = new Instant[(int)TcpTimer.Count];

        internal bool IsArmed(TcpTimer timer) => _deadlines[(int)timer].IsSet;

        /// <summary>When <paramref name="timer"/> fires; <see cref="Instant.None"/> when it is off.</summary>
        internal Instant Deadline(TcpTimer timer) => _deadlines[(int)timer];

        internal void Arm(TcpTimer timer, Instant deadline) => _deadlines[(int)timer] = deadline;

        internal void Stop(TcpTimer timer) => _deadlines[(int)timer] = Instant.None;

        internal void StopAll()
        {
            for (int i = 0; i < _deadlines.Length; i++)
            {
                _deadlines[i] = Instant.None;
            }
        }

        /// <summary>The earliest armed deadline; <see cref="Instant.MaxValue"/> when every timer is off.</summary>
        internal Instant NextDeadline()
        {
            Instant best = Instant.MaxValue;
            for (int i = 0; i < _deadlines.Length; i++)
            {
                if (_deadlines[i].IsSet && _deadlines[i] < best)
                {
                    best = _deadlines[i];
                }
            }
            return best;
        }

        /// <summary>True (and the timer now off) when <paramref name="timer"/> is armed and due at <paramref name="now"/>.</summary>
        internal bool Expire(TcpTimer timer, Instant now)
        {
            Instant deadline = _deadlines[(int)timer];
            if (!deadline.IsSet || now < deadline)
            {
                return false;
            }
            _deadlines[(int)timer] = Instant.None;
            return true;
        }
    }
}
