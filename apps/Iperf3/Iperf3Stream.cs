using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Iperf3
{
    /// <summary>
    /// One data stream of a test: its socket, its direction and its counters. The server owns a fixed array of
    /// these, made at start-up and reset for each test.
    /// </summary>
    public sealed class Iperf3Stream
    {
        /// <summary>The data socket (TCP connection, or UDP socket connected to the client's port); null once closed.</summary>
        public Socket Socket;

        /// <summary>iperf3 stream id: 1, 3, 4, 5, … in creation order.</summary>
        public int Id;

        /// <summary>True when the server sends on this stream (-R, or the second half of --bidir).</summary>
        public bool Sender;

        public bool Udp;

        /// <summary>The client's address and port (UDP streams).</summary>
        public IPEndPoint Peer;

        /// <summary>The stream saw end of stream or an error; it is no longer read or written.</summary>
        public bool Finished;

        /// <summary>Why it finished early (Success when it did not).</summary>
        public SocketError FinishError;

        /// <summary>Bytes counted for the results: received (receiver) or sent (sender) since TEST_RUNNING or the end of omit.</summary>
        public long Bytes;

        /// <summary>Bytes sent since TEST_RUNNING, omit included (pacing).</summary>
        public long BytesSentTotal;

        /// <summary>Bytes received during the omit period and after TEST_END (not counted).</summary>
        public long BytesIgnored;

        // UDP receiver
        /// <summary>Highest sequence number seen (reported as "packets").</summary>
        public long MaxSequence;

        /// <summary>Lost datagrams (reported as "errors").</summary>
        public long Lost;

        public long OutOfOrder;

        /// <summary>Datagrams received (not reported; the log and counters use it).</summary>
        public long Datagrams;

        /// <summary>RFC 1889 jitter, seconds.</summary>
        public double Jitter;

        public double PreviousTransit;
        public bool HaveTransit;

        // UDP sender
        /// <summary>Next sequence number to send (starts at 1).</summary>
        public long NextSequence;

        /// <summary>Datagrams sent (reported as "packets" by a UDP sender).</summary>
        public long PacketsSent;

        // timing (IClock nanoseconds)
        /// <summary>Start of the counted period: TEST_RUNNING, or the end of omit.</summary>
        public long StartNanoseconds;

        /// <summary>Start of pacing (TEST_RUNNING).</summary>
        public long PacingStartNanoseconds;

        /// <summary>Seconds from <see cref="StartNanoseconds"/> to TEST_END.</summary>
        public double EndTime;

        // TCP sender
        public long RetransmitsAtStart;
        public long Retransmits;

        /// <summary>Forgets everything from the previous test (the socket must already be closed).</summary>
        public void Reset()
        {
            Socket = null;
            Id = 0;
            Sender = false;
            Udp = false;
            Peer = default;
            Finished = false;
            FinishError = SocketError.Success;
            Bytes = 0;
            BytesSentTotal = 0;
            BytesIgnored = 0;
            MaxSequence = 0;
            Lost = 0;
            OutOfOrder = 0;
            Datagrams = 0;
            Jitter = 0;
            PreviousTransit = 0;
            HaveTransit = false;
            NextSequence = 1;
            PacketsSent = 0;
            StartNanoseconds = 0;
            PacingStartNanoseconds = 0;
            EndTime = 0;
            RetransmitsAtStart = 0;
            Retransmits = 0;
        }

        /// <summary>
        /// UDP receiver accounting for one datagram (protocol notes §4.5): loss from sequence gaps, out-of-order,
        /// and RFC 1889 jitter from the sender timestamp. <paramref name="nowSeconds"/> is the local clock.
        /// </summary>
        public void AccountDatagram(long sequence, double sentSeconds, double nowSeconds)
        {
            Datagrams++;
            if (sequence > MaxSequence)
            {
                Lost += sequence - MaxSequence - 1;
                MaxSequence = sequence;
            }
            else
            {
                OutOfOrder++;
                if (Lost > 0)
                {
                    Lost--;
                }
            }
            double transit = nowSeconds - sentSeconds;
            if (transit < 0)
            {
                transit = -transit;
            }
            if (!HaveTransit)
            {
                HaveTransit = true;
                PreviousTransit = transit;
            }
            double d = transit - PreviousTransit;
            if (d < 0)
            {
                d = -d;
            }
            PreviousTransit = transit;
            Jitter += (d - Jitter) / 16.0;
        }
    }
}
