using Keel.Buffers;
using Keel.Hal;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// Receive-buffer auto-tuning (dynamic right-sizing, as Linux's tcp_rcv_space_adjust): once per receiver RTT the
    /// bytes the application read in that RTT are compared with the most seen so far; when they grow, the buffer
    /// (and so the window) becomes twice that, up to <see cref="NetConfig.TcpReceiveBufferMax"/>. The window then
    /// follows the bandwidth-delay product with room for a round of out-of-order data while a loss is repaired,
    /// and a connection that moves little keeps the small default. A socket whose application set
    /// ReceiveBufferSize is not tuned. The receiver's RTT is the time one advertised window takes to arrive
    /// (Linux's tcp_rcv_rtt_measure), which needs no data of our own in flight.
    /// <para>
    /// That time grows with the window itself once the sender is not window-limited (a window of W bytes takes
    /// W / rate to arrive), so "twice what was read per RTT" doubles the buffer every interval until the maximum:
    /// the excess is a standing queue in front of the receiver. With <see cref="RightSizing"/> the buffer instead
    /// follows the drained rate times the smallest receiver RTT seen (which a window of its own making cannot
    /// inflate), times <see cref="MarginPercent"/> (200: Linux's factor of two), plus 16 segments, and may shrink
    /// as well as grow, never below the floor the caller gives. The rate is the larger of the last two
    /// intervals', so one interval in which the application did not run does not shrink the window.
    /// </para>
    /// </summary>
    internal sealed class ReceiveBufferTuning
    {
        private Duration _rtt;          // receiver RTT estimate, zero = none yet
        private Instant _mark;          // when the window being timed was advertised (None = none)
        private uint _markSequence;     // its right edge
        private Instant _spaceStart;    // start of the current measurement RTT (None = none)
        private long _spaceReadStart;   // bytes read then
        private long _space;            // most bytes read in one RTT so far
        private int _driverWindowCap;   // largest buffer the driver's receive pools can hold for us (0 = not known)
        private long _bytesRead;
        private Duration _minRtt;       // smallest receiver RTT sample, zero = none yet
        private long _previousRate;     // bytes per second drained in the previous interval (right-sizing)

        /// <summary>Size the buffer from rate × minimum RTT, shrinking as well as growing (see the class comment).</summary>
        internal bool RightSizing;

        /// <summary>Right-sizing margin over rate × minimum RTT, percent (200 = twice, as Linux's DRS).</summary>
        internal int MarginPercent = 200;

        /// <summary>The smallest receiver RTT sample; zero before the first.</summary>
        internal Duration MinRtt => _minRtt;

        /// <summary>True when the buffer may grow (the application did not set SO_RCVBUF).</summary>
        internal bool Enabled;

        /// <summary>The receiver's RTT estimate; zero before the first window has been timed.</summary>
        internal Duration Rtt => _rtt;

        internal void Reset(bool enabled)
        {
            Enabled = enabled;
            _rtt = Duration.Zero;
            _mark = Instant.None;
            _markSequence = 0;
            _spaceStart = Instant.None;
            _spaceReadStart = 0;
            _space = 0;
            _driverWindowCap = 0;
            _bytesRead = 0;
            _minRtt = Duration.Zero;
            _previousRate = 0;
        }

        /// <summary>
        /// In-order data (in <paramref name="packet"/>) moved rcv.nxt to <paramref name="receiveNext"/>; rcv.adv is
        /// <paramref name="advertised"/>. Times how long one advertised window takes to arrive, and notes how much the
        /// pools the packet came from can hold. Held data (unread and out-of-order) lives in the driver's packets and
        /// pages: a window larger than half of them would be refused by the memory-pressure check and cost the peer
        /// a loss per refused segment, so the buffer grows at most to half the packets, each a full-sized segment of
        /// <paramref name="receiveMss"/>, and a quarter of the pages.
        /// </summary>
        internal void DataArrived(Packet packet, int receiveMss, uint receiveNext, uint advertised, Instant now)
        {
            if (_driverWindowCap == 0 && packet.Pool != null)
            {
                long cap = (long)(packet.Pool.Capacity / 2) * receiveMss;
                if (packet.FragmentCount > 0 && packet.Fragment(0).Pool != null)
                {
                    long pageBytes = (long)packet.Fragment(0).Pool.Capacity * DmaPage.Size / 4;
                    cap = pageBytes < cap ? pageBytes : cap;
                }
                _driverWindowCap = cap > int.MaxValue ? int.MaxValue : (int)cap;
            }
            if (_mark.IsSet && TcpSequence.Geq(receiveNext, _markSequence))
            {
                Duration sample = now - _mark;
                if (sample > Duration.Zero)
                {
                    // The smaller sample wins at once (a window that arrived sooner bounds the RTT); larger ones
                    // move the estimate by an eighth.
                    _rtt = _rtt.IsZero || sample < _rtt ? sample : _rtt + (sample - _rtt) / 8;
                    if (_minRtt.IsZero || sample < _minRtt)
                    {
                        _minRtt = sample;
                    }
                }
                _mark = Instant.None;
            }
            if (!_mark.IsSet && TcpSequence.Gt(advertised, receiveNext))
            {
                _mark = now;
                _markSequence = advertised;
            }
        }

        /// <summary>
        /// The application read <paramref name="copied"/> bytes: once per receiver RTT, the buffer should be twice
        /// the bytes read in it (plus 16 segments), at most <paramref name="max"/>. Returns the new size when that is
        /// more than <paramref name="current"/>, else <paramref name="current"/>. With <see cref="RightSizing"/>, the
        /// size from the drained rate and the minimum RTT instead, between <paramref name="min"/> and the maximum.
        /// </summary>
        internal int Read(int copied, int current, int receiveMss, int max, Instant now, int min = 0)
        {
            _bytesRead += copied;
            if (!Enabled || _rtt.IsZero)
            {
                return current;
            }
            if (!_spaceStart.IsSet)
            {
                _spaceStart = now;
                _spaceReadStart = _bytesRead;
                return current;
            }
            if (now - _spaceStart < _rtt)
            {
                return current;
            }
            long read = _bytesRead - _spaceReadStart;
            Duration elapsed = now - _spaceStart;
            _spaceStart = now;
            _spaceReadStart = _bytesRead;
            if (RightSizing)
            {
                return RightSize(read, elapsed, current, receiveMss, min, max);
            }
            if (read <= _space)
            {
                return current;
            }
            _space = read;
            long target = 2 * read + 16L * receiveMss;
            int limit = max;
            if (_driverWindowCap > 0 && _driverWindowCap < limit)
            {
                limit = _driverWindowCap;
            }
            if (target > limit)
            {
                target = limit;
            }
            return target > current ? (int)target : current;
        }

        /// <summary>
        /// Right-sizing at the end of an interval in which <paramref name="read"/> bytes were drained in
        /// <paramref name="elapsed"/>: rate × minimum RTT × margin + 16 segments, between <paramref name="min"/> and
        /// the smaller of <paramref name="max"/> and what the driver's pools hold.
        /// </summary>
        private int RightSize(long read, Duration elapsed, int current, int receiveMss, int min, int max)
        {
            long elapsedUs = elapsed.Microseconds;
            if (elapsedUs <= 0)
            {
                return current;
            }
            long rate = read * 1000000 / elapsedUs;
            long use = rate > _previousRate ? rate : _previousRate;
            _previousRate = rate;
            long target = use * _minRtt.Microseconds / 1000000 * MarginPercent / 100 + 16L * receiveMss;
            int limit = max;
            if (_driverWindowCap > 0 && _driverWindowCap < limit)
            {
                limit = _driverWindowCap;
            }
            if (target > limit)
            {
                target = limit;
            }
            if (target < min)
            {
                target = min;
            }
            return (int)target;
        }
    }
}
