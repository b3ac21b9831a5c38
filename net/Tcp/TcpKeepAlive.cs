using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>What the keepalive timer asks of the connection when it fires.</summary>
    internal enum KeepAliveAction
    {
        /// <summary>Nothing to send: re-arm for the instant given.</summary>
        Wait,

        /// <summary>Send a probe (an ACK one below snd.una), then re-arm.</summary>
        Probe,

        /// <summary>Every probe went unanswered: reset the connection (TimedOut).</summary>
        GiveUp,
    }

    /// <summary>
    /// Keepalive (RFC 9293 section 3.8.4, Linux's timing and socket options): after <c>idle</c> without a segment
    /// from the peer, a probe every <c>interval</c>; after <c>count</c> unanswered probes the connection is given up.
    /// A connection with data outstanding or a zero-window probe running is left to those timers.
    /// </summary>
    internal sealed class TcpKeepAlive
    {
        private Duration _idle;
        private Duration _interval;
        private int _count;
        private int _probes;
        private Instant _lastProbe;

        /// <summary>SO_KEEPALIVE.</summary>
        internal bool Enabled;

        internal Duration Idle => _idle;

        internal Duration Interval => _interval;

        internal int Count => _count;

        /// <summary>Off, with the stack's default timing, no probe sent.</summary>
        internal void Reset(NetConfig config)
        {
            Enabled = false;
            _idle = config.TcpKeepAliveIdle;
            _interval = config.TcpKeepAliveInterval;
            _count = config.TcpKeepAliveProbes;
            _probes = 0;
            _lastProbe = Instant.None;
        }

        /// <summary>TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT.</summary>
        internal void Configure(Duration idle, Duration interval, int count)
        {
            _idle = idle;
            _interval = interval;
            _count = count;
        }

        /// <summary>A listener's settings, for a connection it accepted.</summary>
        internal void CopySettings(TcpKeepAlive listener)
        {
            Enabled = listener.Enabled;
            Configure(listener._idle, listener._interval, listener._count);
        }

        /// <summary>
        /// When the first probe is due for a connection last heard from at <paramref name="lastReceive"/> (or now);
        /// <see cref="Instant.None"/> when keepalive is off.
        /// </summary>
        internal Instant FirstDeadline(Instant lastReceive, Instant now)
        {
            if (!Enabled || _idle <= Duration.Zero)
            {
                return Instant.None;
            }
            Instant deadline = (lastReceive.IsSet ? lastReceive : now) + _idle;
            return deadline <= now ? now + Duration.FromNanoseconds(1) : deadline;
        }

        /// <summary>
        /// The timer fired at <paramref name="now"/>; the peer was last heard from at <paramref name="lastReceive"/>;
        /// <paramref name="busy"/>: other timers watch the connection. <paramref name="next"/> is when to fire again.
        /// </summary>
        internal KeepAliveAction OnTimer(Instant now, Instant lastReceive, bool busy, out Instant next)
        {
            if (lastReceive > _lastProbe)
            {
                _probes = 0; // the peer spoke since the last probe
            }
            if (_probes == 0 && now - lastReceive < _idle)
            {
                next = lastReceive + _idle;
                return KeepAliveAction.Wait;
            }
            if (busy)
            {
                next = now + _idle;
                return KeepAliveAction.Wait;
            }
            if (_probes >= _count)
            {
                next = Instant.None;
                return KeepAliveAction.GiveUp;
            }
            _probes++;
            _lastProbe = now;
            next = now + _interval;
            return KeepAliveAction.Probe;
        }
    }
}
