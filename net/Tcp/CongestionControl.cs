using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Congestion control behind one interface (Linux's <c>tcp_congestion_ops</c>): the connection's loss recovery
    /// (RFC 6675 + PRR) and timers call these at the same points for every algorithm. Each connection owns one
    /// instance, made at start-up for the algorithm in <see cref="NetConfig.TcpCongestionControl"/>.
    /// Window values are bytes and live in the connection (<c>Cwnd</c>, <c>Ssthresh</c>).
    /// </summary>
    internal abstract class CongestionControl
    {
        internal const long MaxCongestionWindow = 16L * 1024 * 1024;

        /// <summary>Name shown in <c>net</c> ("cubic", "newreno").</summary>
        internal abstract string Name { get; }

        /// <summary>A connection starts (cwnd and ssthresh already at their initial values).</summary>
        internal virtual void Init(TcpConnection c)
        {
        }

        /// <summary>An ACK advanced snd.una by <paramref name="acked"/> bytes outside loss recovery: grow cwnd.</summary>
        internal abstract void OnAck(TcpConnection c, long acked, Instant now);

        /// <summary>Loss detected (fast recovery or a timeout): returns the new ssthresh (RFC 5681: flight / 2).</summary>
        internal abstract long SsthreshOnLoss(TcpConnection c, Instant now);

        /// <summary>A new RTT sample.</summary>
        internal virtual void OnRttSample(TcpConnection c, Duration rtt, Instant now)
        {
        }

        /// <summary>The reduction was spurious (F-RTO): the connection restored cwnd/ssthresh; restore any own state.</summary>
        internal virtual void Undo(TcpConnection c)
        {
        }

        protected static long Clamp(long cwnd)
        {
            return cwnd > MaxCongestionWindow ? MaxCongestionWindow : cwnd;
        }

        internal static CongestionControl Create(TcpCongestionAlgorithm algorithm)
        {
            if (algorithm == TcpCongestionAlgorithm.NewReno)
            {
                return new NewRenoCongestion();
            }
            return new CubicCongestion();
        }
    }

    /// <summary>NewReno (RFC 5681): slow start with byte counting, one MSS per window in congestion avoidance, halve on loss.</summary>
    internal sealed class NewRenoCongestion : CongestionControl
    {
        private long _bytesAckedInCa;

        internal override string Name => "newreno";

        internal override void Init(TcpConnection c)
        {
            _bytesAckedInCa = 0;
        }

        internal override void OnAck(TcpConnection c, long acked, Instant now)
        {
            if (c.Cwnd < c.Ssthresh)
            {
                c.Cwnd = Clamp(c.Cwnd + acked);
                return;
            }
            _bytesAckedInCa += acked;
            if (_bytesAckedInCa >= c.Cwnd)
            {
                _bytesAckedInCa -= c.Cwnd;
                c.Cwnd = Clamp(c.Cwnd + c.SendMss);
            }
        }

        internal override long SsthreshOnLoss(TcpConnection c, Instant now)
        {
            _bytesAckedInCa = 0;
            long half = c.Cwnd / 2;
            long floor = 2L * c.SendMss;
            return half > floor ? half : floor;
        }
    }
}
