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
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        /// <summary>True when the buffer may grow (the application did not set SO_RCVBUF).</summary>
        internal bool ReceiveAutoTune;

        private Duration _rcvRtt;      // receiver RTT estimate, zero = none yet
        private Instant _rcvRttMark;   // when the window being timed was advertised (None = none)
        private uint _rcvRttMarkSeq;   // its right edge
        private Instant _spaceStart;   // start of the current measurement RTT (None = none)
        private long _spaceReadStart;  // BytesRead then
        private long _rcvSpace;        // most bytes read in one RTT so far
        private int _driverWindowCap;  // largest buffer the driver's receive pools can hold for us (0 = not known)
        internal long BytesRead;

        private void ResetReceiveTuning(NetConfig config)
        {
            ReceiveAutoTune = config.TcpReceiveBufferMax > config.TcpReceiveBufferSize;
            _rcvRtt = Duration.Zero;
            _rcvRttMark = Instant.None;
            _rcvRttMarkSeq = 0;
            _spaceStart = Instant.None;
            _spaceReadStart = 0;
            _rcvSpace = 0;
            _driverWindowCap = 0;
            BytesRead = 0;
        }

        /// <summary>Largest buffer this connection may reach: the window scale is chosen from it at the SYN.</summary>
        internal int ReceiveWindowLimit =>
            ReceiveAutoTune && Layer.Config.TcpReceiveBufferMax > ReceiveBufferSize ? Layer.Config.TcpReceiveBufferMax : ReceiveBufferSize;

        /// <summary>
        /// In-order data advanced RcvNxt: time how long one advertised window takes to arrive, and note how much the
        /// pools the packet came from can hold. Held data (unread and out-of-order) lives in the driver's packets and
        /// pages: a window larger than half of them would be refused by the memory-pressure check (DataInput) and
        /// cost the peer a loss per refused segment, so the buffer grows at most to half the packets, each a
        /// full-sized segment, and a quarter of the pages.
        /// </summary>
        private void MeasureReceiveRtt(Packet packet, Instant now)
        {
            if (_driverWindowCap == 0 && packet.Pool != null)
            {
                long cap = (long)(packet.Pool.Capacity / 2) * ReceiveMss;
                if (packet.FragmentCount > 0 && packet.Fragment(0).Pool != null)
                {
                    long pageBytes = (long)packet.Fragment(0).Pool.Capacity * DmaPage.Size / 4;
                    cap = pageBytes < cap ? pageBytes : cap;
                }
                _driverWindowCap = cap > int.MaxValue ? int.MaxValue : (int)cap;
            }
            if (_rcvRttMark.IsSet && Geq(RcvNxt, _rcvRttMarkSeq))
            {
                Duration sample = now - _rcvRttMark;
                if (sample > Duration.Zero)
                {
                    // The smaller sample wins at once (a window that arrived sooner bounds the RTT); larger ones
                    // move the estimate by an eighth.
                    _rcvRtt = _rcvRtt.IsZero || sample < _rcvRtt ? sample : _rcvRtt + (sample - _rcvRtt) / 8;
                }
                _rcvRttMark = Instant.None;
            }
            if (!_rcvRttMark.IsSet && Gt(RcvAdv, RcvNxt))
            {
                _rcvRttMark = now;
                _rcvRttMarkSeq = RcvAdv;
            }
        }

        /// <summary>The application read: once per receiver RTT, grow the buffer to twice the bytes read in it.</summary>
        private void AdjustReceiveSpace(Instant now)
        {
            if (!ReceiveAutoTune || _rcvRtt.IsZero)
            {
                return;
            }
            if (!_spaceStart.IsSet)
            {
                _spaceStart = now;
                _spaceReadStart = BytesRead;
                return;
            }
            if (now - _spaceStart < _rcvRtt)
            {
                return;
            }
            long copied = BytesRead - _spaceReadStart;
            _spaceStart = now;
            _spaceReadStart = BytesRead;
            if (copied <= _rcvSpace)
            {
                return;
            }
            _rcvSpace = copied;
            long target = 2 * copied + 16L * ReceiveMss;
            int limit = Layer.Config.TcpReceiveBufferMax;
            if (_driverWindowCap > 0 && _driverWindowCap < limit)
            {
                limit = _driverWindowCap;
            }
            if (target > limit)
            {
                target = limit;
            }
            if (target > ReceiveBufferSize)
            {
                ReceiveBufferSize = (int)target;
                Stats.ReceiveBufferGrowth();
            }
        }
    }
}
