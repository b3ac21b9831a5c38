using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Sockets;

namespace Keel.Net.Tcp
{
    /// <summary>
    /// One TCP control block (RFC 9293): addresses, state, congestion window, buffers and socket options, and parts
    /// that own their state: <see cref="SendSequence"/> (<c>Snd</c>), <see cref="ReceiveSequence"/> (<c>Rcv</c>),
    /// <see cref="NegotiatedOptions"/>, <see cref="TcpTimers"/>, <see cref="RetransmitBackoff"/>,
    /// <see cref="RttEstimator"/>, <see cref="TcpScoreboard"/>, <see cref="LossRecovery"/>, <see cref="DelayedAck"/>,
    /// <see cref="ReceiveReassembly"/>, <see cref="ReceiveBufferTuning"/>, <see cref="PathMtuDiscovery"/>,
    /// <see cref="TcpKeepAlive"/>, <see cref="AcceptQueue"/>, <see cref="TableLinks"/>, <see cref="TcpStatistics"/>,
    /// behind <see cref="CongestionControl"/>. The partial files are the connection's own flow, which applies what
    /// the parts decide: opening (<c>.Open</c>), segment input by state (<c>.Input</c>), data and FIN
    /// (<c>.Receive</c>), what an ACK does (<c>.Ack</c>), output (<c>.Output</c>), timer handlers (<c>.Timers</c>),
    /// closing and the application's reads and writes (<c>.Close</c>), what the socket asks for (<c>.Application</c>).
    /// Made with all its parts at start-up in <see cref="TcpLayer"/>'s pool; a stream <see cref="Socket"/> holds one
    /// while it is open.
    /// </summary>
    internal sealed unsafe partial class TcpConnection
    {
        private const int MinQueuedUnderPressure = 4;

        /// <summary>The socket that holds this connection while it is in use (set when the layer hands it out).</summary>
        internal Socket Socket { get; private set; }

        internal readonly TcpLayer Layer;
        internal readonly SendBuffer Send;
        internal readonly TcpScoreboard Board;
        internal readonly CongestionControl Cc;

        /// <summary>Where the connection is in RFC 9293's state diagram; changed only by <see cref="SetState"/>.</summary>
        internal TcpState State { get; private set; } = TcpState.Closed;

        /// <summary>Our address and port: set by Bind, Connect or the passive open (port 0 until then).</summary>
        internal IPEndPoint Local;

        /// <summary>The peer's address and port (port 0 until Connect or the passive open).</summary>
        internal IPEndPoint Remote;

        /// <summary>Places in <see cref="TcpLayer"/>'s tables; only the tables change them.</summary>
        internal TableLinks Links;

        /// <summary>As a listener, the children not accepted yet; as a child, its listener.</summary>
        internal readonly AcceptQueue Children;

        /// <summary>No application holds the socket (closed by it, or a child not yet accepted).</summary>
        internal bool Orphan;

        /// <summary>The send sequence space and the peer's window.</summary>
        internal readonly SendSequence Snd = new SendSequence();
        internal int Mss;         // largest payload the peer takes (its MSS option, our MTU), without options
        internal bool FinQueued;

        /// <summary>Window scaling, SACK, timestamps and the announced MSS, as the SYNs agreed.</summary>
        internal readonly NegotiatedOptions Options = new NegotiatedOptions();

        // receive sequence space
        /// <summary>The receive sequence space and the window advertised.</summary>
        internal readonly ReceiveSequence Rcv = new ReceiveSequence();
        internal PacketQueue ReceiveQueue;
        internal readonly ReceiveReassembly Reassembly;
        internal bool FinReceived;
        internal bool ReceiveShutdown;

        // congestion control and recovery
        internal long Cwnd;
        internal long Ssthresh;
        internal readonly LossRecovery Recovery = new LossRecovery();

        // RTT and timers
        internal RttEstimator Rtt;
        internal PathMtuDiscovery PathMtu;
        internal readonly TcpTimers Timers = new TcpTimers();
        internal readonly RetransmitBackoff Backoff = new RetransmitBackoff();
        internal Instant LastReceive;

        // ACK bookkeeping
        internal readonly DelayedAck DelayedAck = new DelayedAck();
        internal bool OutputPending;
        internal bool SendBlocked;

        // options and limits
        internal bool NoDelay;

        /// <summary>The application's last write said more follows: a part-filled last segment waits (see <see cref="Write"/>).</summary>
        internal bool Corked;

        internal int SendBufferSize;
        internal int ReceiveBufferSize;
        internal SocketError Error;
        internal int UserMss;     // TCP_MAXSEG (0: none)

        internal readonly TcpStatistics Stats;
        internal readonly ReceiveBufferTuning ReceiveTuning = new ReceiveBufferTuning();
        internal readonly TcpKeepAlive KeepAlive = new TcpKeepAlive();

        public TcpConnection(TcpLayer layer, SendBuffer send)
        {
            Layer = layer;
            Send = send;
            // A small ring of its own; a large one from the layer's pool while more is in flight.
            Board = new TcpScoreboard(layer.Scoreboards);
            Cc = CongestionControl.Create(layer.Config.TcpCongestionControl);
            Stats = new TcpStatistics(layer.Counters);
            Reassembly = new ReceiveReassembly(layer.Counters);
            Children = new AcceptQueue(this);
        }

        /// <summary>The listener that made this connection, until the application accepts it.</summary>
        internal TcpConnection Parent => Children.Parent;

        /// <summary>The listen backlog (<see cref="AcceptQueue.Backlog"/>).</summary>
        internal int Backlog
        {
            get => Children.Backlog;
            set => Children.Backlog = value;
        }

        private NetStack Stack => Layer.Stack;

        private long[] Counters => Layer.Counters;

        private static bool Lt(uint a, uint b) => TcpSequence.Lt(a, b);

        private static bool Leq(uint a, uint b) => TcpSequence.Leq(a, b);

        private static bool Gt(uint a, uint b) => TcpSequence.Gt(a, b);

        private static bool Geq(uint a, uint b) => TcpSequence.Geq(a, b);

        /// <summary>Sequence number just after the last byte in the send buffer (where a FIN goes).</summary>
        private uint DataEnd => Snd.BufferStart + (uint)Send.Length;

        /// <summary>Payload bytes per segment: the MSS less the options every segment carries (timestamps).</summary>
        internal int SendMss => Options.Timestamps ? Mss - TcpOptions.AlignedTimestampLength : Mss;

        /// <summary>Largest buffer this connection may reach: the window scale is chosen from it at the SYN.</summary>
        internal int ReceiveWindowLimit =>
            ReceiveTuning.Enabled && Layer.Config.TcpReceiveBufferMax > ReceiveBufferSize ? Layer.Config.TcpReceiveBufferMax : ReceiveBufferSize;

        /// <summary>RFC 6675 pipe: bytes in flight (outstanding, less SACKed and lost, plus retransmitted).</summary>
        internal long Pipe => Snd.InFlight - Board.SackedBytes - Board.LostBytes + Board.RetransBytes;

        /// <summary>
        /// The sender's invariants, read-only: the send sequence space in order (<see cref="SendSequence.CheckInvariants"/>),
        /// the scoreboard inside the send window with its counters right (<see cref="TcpScoreboard.CheckInvariants"/>),
        /// the records covering exactly the bytes in flight (SND.MAX − SND.UNA, less an unacknowledged SYN, which
        /// has no record), RFC 6675's pipe not negative, and a congestion window once synchronized. Null when they
        /// hold, else what broke; tests and the fuzz targets call it after every segment.
        /// </summary>
        internal string CheckInvariants()
        {
            if (State == TcpState.Closed || State == TcpState.Listen)
            {
                return null;
            }
            string broken = Snd.CheckInvariants() ?? Board.CheckInvariants(Snd.Una, Snd.Max);
            if (broken != null)
            {
                return broken;
            }
            long synUnacknowledged = Snd.Una == Snd.Iss && Snd.SynSentBefore ? 1 : 0;
            if (Board.RecordedBytes() != Snd.InFlight - synUnacknowledged)
            {
                return "the scoreboard's records do not cover the bytes in flight";
            }
            if (Pipe < 0)
            {
                return "negative bytes in flight (pipe)";
            }
            if (Cwnd <= 0 && State != TcpState.SynSent && State != TcpState.SynReceived)
            {
                return "no congestion window";
            }
            return null;
        }

        /// <summary>Timestamp clock (RFC 7323): milliseconds plus a per-connection random offset.</summary>
        internal uint TsNow(Instant now) => Options.TsNow(now);

        /// <summary>Whether the peer's SYN allowed SACK (RFC 2018).</summary>
        internal bool SackOk => Options.Sack;

        /// <summary>The MSS this side announces and receives at most.</summary>
        internal int ReceiveMss => Options.ReceiveMss;

        /// <summary>
        /// The one writer of <see cref="State"/>: takes an edge of RFC 9293's diagram (<see cref="TcpStateMachine"/>)
        /// and refuses any other, leaving the state as it was. Returns whether the state is now <paramref name="next"/>.
        /// </summary>
        internal bool SetState(TcpState next)
        {
            if (!TcpStateMachine.IsAllowed(State, next))
            {
                return false;
            }
            if (State == TcpState.TimeWait)
            {
                Counters[NetStatistics.TcpTimewait]--;
            }
            State = next;
            if (next == TcpState.TimeWait)
            {
                Counters[NetStatistics.TcpTimewait]++;
            }
            return true;
        }

        /// <summary>Reports [start, end) as a duplicate in the next ACK (D-SACK, RFC 2883) when SACK was agreed.</summary>
        private void SetDsack(uint start, uint end)
        {
            if (!SackOk || start == end)
            {
                return;
            }
            Reassembly.SetDsack(start, end);
            DelayedAck.AckImmediately();
        }

        /// <summary>SACK blocks for the next ACK (<see cref="ReceiveReassembly.BuildSackBlocks"/>), D-SACKs counted.</summary>
        internal int BuildSackBlocks(uint* blocks, int max)
        {
            int n = Reassembly.BuildSackBlocks(blocks, max, out bool dsack);
            if (dsack)
            {
                Stats.DsackSent();
            }
            return n;
        }

        /// <summary>Resets everything for a fresh use of the pooled socket.</summary>
        internal void Reset(NetConfig config)
        {
            SetState(TcpState.Closed);
            Local = default;
            Remote = default;
            Children.Reset();
            Orphan = false;
            FinQueued = false;
            FinReceived = false;
            ReceiveShutdown = false;
            Options.Reset();
            Snd.Reset();
            Reassembly.ResetBlocks();
            Board.Clear();
            Recovery.Reset();
            Rtt.Reset(config.TcpInitialRto);
            Backoff.Reset();
            Timers.StopAll();
            LastReceive = Instant.None;
            DelayedAck.Reset();
            OutputPending = false;
            SendBlocked = false;
            NoDelay = false;
            Corked = false;
            SendBufferSize = config.TcpSendBufferSize;
            ReceiveBufferSize = config.TcpReceiveBufferSize;
            ReceiveTuning.Reset(config.TcpReceiveBufferMax > config.TcpReceiveBufferSize);
            ReceiveTuning.RightSizing = config.TcpReceiveRightSizing;
            ReceiveTuning.MarginPercent = config.TcpReceiveMarginPercent;
            Error = SocketError.Success;
            UserMss = 0;
            KeepAlive.Reset(config);
            Stats.Clear();
            PathMtu.Reset();
        }

        internal void GetInfo(out TcpInfo info)
        {
            info = default;
            info.State = State;
            info.RttMicroseconds = Rtt.Srtt.Microseconds;
            info.RttVarMicroseconds = Rtt.RttVar.Microseconds;
            info.RtoMicroseconds = Rtt.Rto.Microseconds;
            info.CongestionWindow = Cwnd;
            info.SlowStartThreshold = Ssthresh;
            info.SendWindow = Snd.Window;
            info.SendMss = SendMss;
            info.ReceiveMss = ReceiveMss;
            info.ReceiveWindowScale = Options.WindowScaling ? Options.ReceiveWindowScale : -1;
            info.SendWindowScale = Options.WindowScaling ? Options.SendWindowScale : -1;
            info.SackPermitted = Options.Sack;
            info.Timestamps = Options.Timestamps;
            info.BytesInFlight = Snd.InFlight;
            info.OutOfOrderBytes = Reassembly.Bytes;
            info.ReceiveBufferSize = ReceiveBufferSize;
            info.CongestionControl = Cc.Name;
            info.PathMtu = PathMtu.Current(Stack.MtuFor(Remote.Address));
            Stats.Fill(ref info);
        }

        /// <summary>The per-connection part of <c>net</c>: options agreed, windows, RTT, recovery counts.</summary>
        internal void PrintDetails(ITextOutput output)
        {
            output.Write("      ");
            output.Write(Cc.Name);
            output.Write(SackOk ? " sack" : " nosack");
            output.Write(Options.Timestamps ? " ts" : " nots");
            output.Write(" wscale ");
            output.Write(Options.WindowScaling ? (long)Options.SendWindowScale : -1);
            output.Write(',');
            output.Write(Options.WindowScaling ? (long)Options.ReceiveWindowScale : -1);
            output.Write(" mss ");
            output.Write((long)SendMss);
            output.Write(" pmtu ");
            output.Write((long)PathMtu.Current(Stack.MtuFor(Remote.Address)));
            output.Write(" cwnd ");
            output.Write(Cwnd);
            output.Write(" ssthresh ");
            output.Write(Ssthresh >= CongestionControl.MaxCongestionWindow ? -1 : Ssthresh);
            output.Write(" srtt ");
            output.Write(Rtt.Srtt.Microseconds);
            output.Write("us rttvar ");
            output.Write(Rtt.RttVar.Microseconds);
            output.Write("us rto ");
            output.Write(Rtt.Rto.Milliseconds);
            output.Write("ms");
            output.WriteLine();
            Stats.PrintRecovery(output);
            output.Write(" ooo_bytes ");
            output.Write((long)Reassembly.Bytes);
            output.Write(" paws ");
            output.Write(Stats.PawsRejected);
            output.Write(" rcvbuf ");
            output.Write((long)ReceiveBufferSize);
            output.WriteLine();
        }
    }
}
