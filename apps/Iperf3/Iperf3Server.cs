using System;
using Keel.Apps.Json;
using Keel.Apps.Text;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Iperf3
{
    /// <summary>
    /// An iperf3 server compatible with the stock iperf3 3.12 client (TCP and UDP, -R, --bidir, -P, -b, -l,
    /// -t/-n/-k, -O, --udp-counters-64bit, --get-server-output), following iperf3 3.12's wire protocol.
    /// <para>
    /// No threads: a state machine driven by <see cref="Poll"/>, which the kernel main loop calls after the
    /// driver poll and NetStack.Poll. Every call returns at once; all sockets are non-blocking. Every buffer is
    /// made in the constructor; a test allocates nothing, a packet or a read neither. One test at a time: other
    /// control connections get ACCESS_DENIED. When a test ends (or fails) the server resets all per-test state
    /// and accepts the next one.
    /// </para>
    /// <para>
    /// The class is split by the protocol's phases: this file (state, entry points, statistics),
    /// Iperf3Server.Listener.cs, .Control.cs, .Setup.cs, .Transfer.cs and .Results.cs.
    /// </para>
    /// </summary>
    public sealed unsafe partial class Iperf3Server : IStatisticsSource
    {
        private const long NanosecondsPerSecond = 1000000000L;
        private const long NanosecondsPerMillisecond = 1000000L;
        private const int UdpHeaderMax = 16;
        private const int UdpHeader32 = 12;
        private const int UdpHeader64 = 16;

        private readonly NetStack _stack;
        private readonly IClock _clock;
        private readonly ITextOutput _log;
        private readonly Iperf3ServerConfig _config;

        private readonly Iperf3Parameters _parameters = new Iperf3Parameters();
        private readonly Iperf3Stream[] _streams;
        private readonly byte[] _cookie = new byte[Iperf3Message.CookieSize];

        // Data connections accepted during CREATE_STREAMS whose cookie is still being read (FIFO, accept order).
        private readonly Socket[] _pending;
        private readonly int[] _pendingBytes;
        private readonly byte[] _pendingCookies;
        private int _pendingCount;

        private readonly byte[] _rx;
        private int _rxLength;
        private readonly byte[] _tx;
        private int _txStart;
        private int _txLength;

        private readonly JsonReader _reader = new JsonReader();
        private readonly JsonWriter _writer;
        private readonly byte[] _payload;
        private readonly byte[] _udpHeader = new byte[UdpHeaderMax];
        private readonly byte[] _hello = new byte[64];
        private readonly byte[] _reply = new byte[Iperf3Message.UdpHelloSize];
        private readonly byte[] _smallMessage = new byte[16];
        private readonly TextBuffer _line = new TextBuffer(640);

        private Socket _listener;
        private Socket _control;
        private Socket _udpHello;
        private Iperf3ServerState _state;
        private long _stateSince;
        private int _streamCount;
        private int _expectedStreams;
        private int _testNumber;
        private IPEndPoint _peer;
        private long _testStart;
        private long _omitEnd;
        private bool _omitDone;
        private long _testEnd;
        private long _lastData;
        private int _udpDatagramSize;
        private bool _listenerBuffersChanged;
        private int _listenerReceiveBuffer;
        private bool _listenerAutoTune;
        private int _listenerSendBuffer;
        private int _listenerMss;

        /// <summary>Counter values, indexed by the <see cref="Iperf3Statistics"/> constants.</summary>
        public readonly long[] Counters = new long[Iperf3Statistics.Count];

        /// <summary>
        /// Makes the server and every buffer it will use. <paramref name="log"/> gets one line per test (may be
        /// null). Call <see cref="Start"/> to open the port.
        /// </summary>
        public Iperf3Server(NetStack stack, IClock clock, ITextOutput log, Iperf3ServerConfig config)
        {
            _stack = stack;
            _clock = clock;
            _log = log;
            _config = config ?? new Iperf3ServerConfig();
            int maxStreams = _config.MaxStreams < 1 ? 1 : _config.MaxStreams;
            _streams = new Iperf3Stream[maxStreams];
            for (int i = 0; i < maxStreams; i++)
            {
                _streams[i] = new Iperf3Stream();
                _streams[i].Reset();
            }
            int pendingMax = maxStreams < 8 ? 8 : maxStreams;
            _pending = new Socket[pendingMax];
            _pendingBytes = new int[pendingMax];
            _pendingCookies = new byte[pendingMax * Iperf3Message.CookieSize];
            int controlSize = _config.ControlBufferSize < 1024 ? 1024 : _config.ControlBufferSize;
            _rx = new byte[controlSize];
            _tx = new byte[controlSize * 2];
            _writer = new JsonWriter(new byte[controlSize]);
            int payloadSize = _config.MaxWriteSize < Iperf3Message.MaxUdpBlockSize ? Iperf3Message.MaxUdpBlockSize : _config.MaxWriteSize;
            _payload = new byte[payloadSize];
            ulong x = _config.PayloadSeed | 1;
            for (int i = 0; i < _payload.Length; i++)
            {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                _payload[i] = (byte)(x >> 32);
            }
            _state = Iperf3ServerState.Stopped;
        }

        /// <summary>Where the server is.</summary>
        public Iperf3ServerState State => _state;

        /// <summary>The port it listens on (TCP and UDP).</summary>
        public int Port => _config.Port;

        /// <summary>Tests whose control connection was accepted so far (the current one included).</summary>
        public int TestNumber => _testNumber;

        /// <summary>The current (or last) test's parameters.</summary>
        public Iperf3Parameters Parameters => _parameters;

        /// <summary>Data streams of the current (or last) test.</summary>
        public int StreamCount => _streamCount;

        /// <summary>Stream <paramref name="index"/> of the current (or last) test (0 ≤ index &lt; StreamCount).</summary>
        public Iperf3Stream Stream(int index) => _streams[index];

        /// <summary>The last test's log line (also written to the log).</summary>
        public ReadOnlySpan<byte> LastLine => _line.Text;

        /// <summary>
        /// Earliest clock time at which <see cref="Poll"/> has sending to do: <see cref="Instant.None"/> (at once)
        /// while a stream sends without a rate limit and its socket has room, the next pacing slot with one,
        /// <see cref="Instant.MaxValue"/> when the server only reacts to received data. A main loop may sleep until
        /// then or until the device has input.
        /// </summary>
        public Instant NextWake => Instant.FromNanoseconds(NextWakeNanoseconds);

        private long NextWakeNanoseconds
        {
            get
            {
                if (_state != Iperf3ServerState.Running)
                {
                    return _txLength > 0 ? 0 : long.MaxValue;
                }
                long next = long.MaxValue;
                for (int i = 0; i < _streamCount; i++)
                {
                    Iperf3Stream s = _streams[i];
                    if (!s.Sender || s.Finished || s.Socket == null)
                    {
                        continue;
                    }
                    if (_parameters.Bandwidth <= 0)
                    {
                        // Unpaced: at once if the socket can take data; otherwise the ACK that frees send
                        // buffer space arrives as an interrupt, so the main loop may halt until then.
                        if (s.Socket.Poll(SelectMode.SelectWrite))
                        {
                            return 0;
                        }
                        continue;
                    }
                    double due = (double)s.BytesSentTotal * 8.0 / _parameters.Bandwidth;
                    long at = s.PacingStartNanoseconds + (long)(due * 1e9);
                    if (at < next)
                    {
                        next = at;
                    }
                }
                return next;
            }
        }

        /// <summary>Opens TCP port <see cref="Port"/> (the UDP port is bound per UDP test). False when that fails.</summary>
        public bool Start()
        {
            if (_state != Iperf3ServerState.Stopped)
            {
                return true;
            }
            Socket listener = _stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            if (listener == null)
            {
                WriteLog("iperf3: no socket for the listener");
                return false;
            }
            listener.ReuseAddress = true;
            listener.SetKeepAlive(60000, 10000, 6); // control and data connections of a vanished client are reset
            SocketError error = listener.Bind(new IPEndPoint(_stack.AnyAddress, _config.Port));
            if (error == SocketError.Success)
            {
                error = listener.Listen(_config.Backlog);
            }
            if (error != SocketError.Success)
            {
                listener.Close();
                WriteLog("iperf3: cannot listen on the port");
                return false;
            }
            _listener = listener;
            _listenerReceiveBuffer = listener.ReceiveBufferSize;
            _listenerAutoTune = listener.ReceiveBufferAutoTune;
            _listenerSendBuffer = listener.SendBufferSize;
            _listenerMss = listener.MaximumSegmentSize;
            ResetTest();
            EnterState(Iperf3ServerState.Idle, _clock.NowNanoseconds);
            if (_log != null)
            {
                _log.Write("iperf3: server listening on port ");
                _log.Write((long)_config.Port);
                _log.WriteLine();
            }
            return true;
        }

        /// <summary>Drops any test (SERVER_TERMINATE is not sent) and closes the port.</summary>
        public void Stop()
        {
            if (_state == Iperf3ServerState.Stopped)
            {
                return;
            }
            if (_state != Iperf3ServerState.Idle)
            {
                Teardown(true);
            }
            if (_listener != null)
            {
                _listener.Close();
                _listener = null;
            }
            _state = Iperf3ServerState.Stopped;
        }

        /// <summary>Does all work that can be done now. Call from the main loop, often (every pass while a test runs).</summary>
        public void Poll()
        {
            if (_state == Iperf3ServerState.Stopped)
            {
                return;
            }
            long now = _clock.NowNanoseconds;
            if (_state == Iperf3ServerState.Running)
            {
                RunStreams(now);
            }
            if (_control != null)
            {
                ServiceControl(now);
            }
            if (_state == Iperf3ServerState.CreateStreams)
            {
                if (_parameters.Udp)
                {
                    ServiceUdpHellos(now);
                }
                else
                {
                    ServicePending(now);
                }
            }
            ServiceListener(now);
            if (_state == Iperf3ServerState.ReadCookie && _control != null)
            {
                // A control connection accepted just now may already hold its cookie.
                ServiceControl(now);
            }
            else if (_state == Iperf3ServerState.CreateStreams && !_parameters.Udp && _pendingCount > 0)
            {
                ServicePending(now);
            }
            CheckTimeouts(now);
        }

        // ---------------------------------------------------------------- state

        private void EnterState(Iperf3ServerState state, long now)
        {
            _state = state;
            _stateSince = now;
        }

        private void EnterIdle(long now)
        {
            // Sockets are closed by now; forget every per-test value except the last results (for inspection).
            _rxLength = 0;
            _txLength = 0;
            _txStart = 0;
            _expectedStreams = 0;
            _pendingCount = 0;
            EnterState(Iperf3ServerState.Idle, now);
        }

        /// <summary>Everything a test leaves behind, cleared before the next one starts.</summary>
        private void ResetTest()
        {
            _parameters.Reset();
            for (int i = 0; i < _streams.Length; i++)
            {
                _streams[i].Reset();
            }
            _streamCount = 0;
            _expectedStreams = 0;
            _pendingCount = 0;
            new Span<byte>(_cookie).Clear();
            _rxLength = 0;
            _txLength = 0;
            _txStart = 0;
            _testStart = 0;
            _testEnd = 0;
            _omitEnd = 0;
            _omitDone = true;
            _lastData = 0;
            _udpDatagramSize = 0;
            _peer = default;
            _line.Clear();
        }

        private void WriteLog(string text)
        {
            if (_log != null)
            {
                _log.Write(text);
                _log.WriteLine();
            }
        }

        private static uint ReadBE32(byte[] b, int offset) =>
            ((uint)b[offset] << 24) | ((uint)b[offset + 1] << 16) | ((uint)b[offset + 2] << 8) | b[offset + 3];

        private static void WriteBE32(byte[] b, int offset, uint value)
        {
            b[offset] = (byte)(value >> 24);
            b[offset + 1] = (byte)(value >> 16);
            b[offset + 2] = (byte)(value >> 8);
            b[offset + 3] = (byte)value;
        }

        // ---------------------------------------------------------------- statistics

        public int StatisticsCount => Iperf3Statistics.Count;

        public string StatisticName(int index) => Iperf3Statistics.Name(index);

        public long StatisticValue(int index) => index >= 0 && index < Iperf3Statistics.Count ? Counters[index] : 0;

        public StatisticKind StatisticKind(int index) => Keel.Hal.StatisticKind.Counter;

        public string StatisticHelp(int index) => Iperf3Statistics.Help(index);

        /// <summary>Writes the counters, one per line, for a shell command.</summary>
        public void PrintStatistics(ITextOutput output)
        {
            for (int i = 0; i < Iperf3Statistics.Count; i++)
            {
                output.Write("  ");
                output.Write(Iperf3Statistics.Name(i));
                output.Write(' ');
                output.Write(Counters[i]);
                output.WriteLine();
            }
        }
    }
}
