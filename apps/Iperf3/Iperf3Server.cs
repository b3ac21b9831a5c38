using System;
using Keel.Apps.Iperf3.Json;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Iperf3
{
    /// <summary>
    /// An iperf3 server compatible with the stock iperf3 3.12 client (TCP and UDP, -R, --bidir, -P, -b, -l,
    /// -t/-n/-k, -O, --udp-counters-64bit, --get-server-output), following /work/shared/notes/iperf3-protocol.md.
    /// <para>
    /// No threads: a state machine driven by <see cref="Poll"/>, which the kernel main loop calls after the
    /// driver poll and NetStack.Poll. Every call returns at once; all sockets are non-blocking. Every buffer is
    /// made in the constructor; a test allocates nothing, a packet or a read neither. One test at a time: other
    /// control connections get ACCESS_DENIED. When a test ends (or fails) the server resets all per-test state
    /// and accepts the next one.
    /// </para>
    /// </summary>
    public sealed unsafe class Iperf3Server : IStatisticsSource
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
        private int _listenerSendBuffer;

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
        /// Earliest IClock time at which <see cref="Poll"/> has sending to do: 0 (at once) while a stream sends
        /// without a rate limit and its socket has room, the next pacing slot with one, long.MaxValue when the server only reacts to
        /// received data. A main loop may sleep until then or until the device has input.
        /// </summary>
        public long NextWakeNanoseconds
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
            SocketError error = listener.Bind(new IPEndPoint(IPv4Address.Any, _config.Port));
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
            _listenerSendBuffer = listener.SendBufferSize;
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

        // ---------------------------------------------------------------- listener

        private void ServiceListener(long now)
        {
            if (_listener == null)
            {
                return;
            }
            // At most a handful per call: each one costs a socket.
            for (int budget = 0; budget < 16; budget++)
            {
                if (_state == Iperf3ServerState.CreateStreams && !_parameters.Udp && _pendingCount == _pending.Length)
                {
                    return; // the rest wait in the backlog until a cookie is checked
                }
                Socket accepted;
                if (_listener.Accept(out accepted) != SocketError.Success)
                {
                    return;
                }
                if (_state == Iperf3ServerState.Idle)
                {
                    BeginTest(accepted, now);
                }
                else if (_state == Iperf3ServerState.CreateStreams && !_parameters.Udp)
                {
                    _pending[_pendingCount] = accepted;
                    _pendingBytes[_pendingCount] = 0;
                    _pendingCount++;
                }
                else
                {
                    Counters[Iperf3Statistics.AccessDenied]++;
                    if (_log != null)
                    {
                        _log.Write("iperf3: busy, access denied to ");
                        accepted.RemoteEndPoint.WriteTo(_log);
                        _log.WriteLine();
                    }
                    Deny(accepted);
                }
            }
        }

        /// <summary>
        /// ACCESS_DENIED: one 0xFF byte, then close. The stock server closes with the cookie unread (a reset); here
        /// the cookie is dropped and the close is a FIN, which the client handles the same way ("busy").
        /// </summary>
        private void Deny(Socket socket)
        {
            _smallMessage[0] = Iperf3Message.AccessDenied;
            SocketError error;
            socket.Send(new ReadOnlySpan<byte>(_smallMessage, 0, 1), out error);
            socket.Discard(int.MaxValue, out error);
            socket.Shutdown(SocketShutdown.Receive); // the cookie may still be on its way
            socket.Close();
        }

        private void BeginTest(Socket control, long now)
        {
            ResetTest();
            _testNumber++;
            Counters[Iperf3Statistics.ControlAccepted]++;
            _control = control;
            _control.NoDelay = true;
            _peer = control.RemoteEndPoint;
            EnterState(Iperf3ServerState.ReadCookie, now);
        }

        // ---------------------------------------------------------------- control connection

        private void ServiceControl(long now)
        {
            if (!FlushControl())
            {
                Abort("control connection failed", Iperf3Statistics.TestsAborted);
                return;
            }
            if (_state == Iperf3ServerState.Closing)
            {
                if (_txLength == 0)
                {
                    CloseControl();
                    EnterIdle(now);
                }
                return;
            }
            bool endOfStream = false;
            bool failed = false;
            while (_rxLength < _rx.Length)
            {
                SocketError error;
                int n = _control.Receive(new Span<byte>(_rx, _rxLength, _rx.Length - _rxLength), out error);
                if (n > 0)
                {
                    _rxLength += n;
                    continue;
                }
                if (error == SocketError.Success)
                {
                    endOfStream = true;
                }
                else if (error != SocketError.WouldBlock)
                {
                    failed = true;
                }
                break;
            }
            // Messages already received are handled before the end of stream.
            while (_control != null && _rxLength > 0 && ProcessControl(now))
            {
            }
            if (_control == null)
            {
                return;
            }
            if (endOfStream || failed)
            {
                if (_state == Iperf3ServerState.WaitDone)
                {
                    Finish(now);
                }
                else
                {
                    Abort(failed ? "control connection reset" : "the client closed the control connection",
                        Iperf3Statistics.TestsAborted);
                }
            }
            else if (_rxLength == _rx.Length && _control != null)
            {
                Counters[Iperf3Statistics.ProtocolErrors]++;
                Abort("control message too long", Iperf3Statistics.TestsAborted);
            }
        }

        /// <summary>Handles one complete message at the front of the receive buffer. False when more bytes are needed.</summary>
        private bool ProcessControl(long now)
        {
            switch (_state)
            {
                case Iperf3ServerState.ReadCookie:
                    if (_rxLength < Iperf3Message.CookieSize)
                    {
                        return false;
                    }
                    new ReadOnlySpan<byte>(_rx, 0, Iperf3Message.CookieSize).CopyTo(new Span<byte>(_cookie));
                    Consume(Iperf3Message.CookieSize);
                    SendControlByte(Iperf3Message.ParamExchange);
                    EnterState(Iperf3ServerState.ReadParameters, now);
                    return true;

                case Iperf3ServerState.ReadParameters:
                {
                    int length;
                    int status = FramedMessage(out length);
                    if (status <= 0)
                    {
                        return status == 0 ? false : ProtocolError("bad parameters length");
                    }
                    _reader.Reset(_rx, 4, length);
                    bool parsed = _parameters.Parse(_reader);
                    Consume(4 + length);
                    if (!parsed)
                    {
                        return ProtocolError("unreadable parameters");
                    }
                    StartStreams(now);
                    return true;
                }

                case Iperf3ServerState.CreateStreams:
                case Iperf3ServerState.Running:
                {
                    byte message = _rx[0];
                    Consume(1);
                    if (message == Iperf3Message.TestStart)
                    {
                        return true; // the stock server ignores it too
                    }
                    if (message == Iperf3Message.ClientTerminate)
                    {
                        Abort("the client terminated the test", Iperf3Statistics.ClientTerminated);
                        return false;
                    }
                    if (message == Iperf3Message.TestEnd && _state == Iperf3ServerState.Running)
                    {
                        EndTest(now);
                        return true;
                    }
                    return ProtocolError("unexpected control message");
                }

                case Iperf3ServerState.ReadClientResults:
                {
                    int length;
                    int status = FramedMessage(out length);
                    if (status <= 0)
                    {
                        return status == 0 ? false : ProtocolError("bad results length");
                    }
                    bool valid = CheckClientResults(length);
                    Consume(4 + length);
                    if (!valid)
                    {
                        return ProtocolError("unreadable client results");
                    }
                    SendResults();
                    EnterState(Iperf3ServerState.WaitDone, now);
                    return true;
                }

                case Iperf3ServerState.WaitDone:
                {
                    byte message = _rx[0];
                    Consume(1);
                    if (message == Iperf3Message.ClientTerminate)
                    {
                        Abort("the client terminated the test", Iperf3Statistics.ClientTerminated);
                        return false;
                    }
                    // IPERF_DONE (anything else is treated the same: the test is over).
                    Finish(now);
                    return false;
                }

                default:
                    // Idle/Closing: nothing is expected; drop it.
                    _rxLength = 0;
                    return false;
            }
        }

        /// <summary>1 when a whole 4-byte-length-framed message is buffered, 0 when more is needed, −1 when the length is bad.</summary>
        private int FramedMessage(out int length)
        {
            length = 0;
            if (_rxLength < 4)
            {
                return 0;
            }
            uint raw = ((uint)_rx[0] << 24) | ((uint)_rx[1] << 16) | ((uint)_rx[2] << 8) | _rx[3];
            if (raw == 0 || raw > (uint)(_rx.Length - 4))
            {
                return -1;
            }
            length = (int)raw;
            return _rxLength >= 4 + length ? 1 : 0;
        }

        private bool ProtocolError(string what)
        {
            Counters[Iperf3Statistics.ProtocolErrors]++;
            Abort(what, Iperf3Statistics.TestsAborted);
            return false;
        }

        private void Consume(int count)
        {
            int rest = _rxLength - count;
            if (rest > 0)
            {
                new ReadOnlySpan<byte>(_rx, count, rest).CopyTo(new Span<byte>(_rx, 0, rest));
            }
            _rxLength = rest < 0 ? 0 : rest;
        }

        private void SendControlByte(byte message)
        {
            _smallMessage[0] = message;
            QueueControl(_smallMessage, 0, 1);
        }

        /// <summary>Queues control bytes and sends what the socket takes now (the rest goes on later polls).</summary>
        private void QueueControl(byte[] data, int offset, int count)
        {
            if (_control == null)
            {
                return;
            }
            if (_txStart > 0 && _txStart + _txLength + count > _tx.Length)
            {
                new ReadOnlySpan<byte>(_tx, _txStart, _txLength).CopyTo(new Span<byte>(_tx, 0, _txLength));
                _txStart = 0;
            }
            if (_txStart + _txLength + count > _tx.Length)
            {
                Counters[Iperf3Statistics.ProtocolErrors]++;
                return; // cannot happen with the sizes used; the client will time out
            }
            new ReadOnlySpan<byte>(data, offset, count).CopyTo(new Span<byte>(_tx, _txStart + _txLength, count));
            _txLength += count;
            FlushControl();
        }

        /// <summary>Sends queued control bytes. False when the connection failed.</summary>
        private bool FlushControl()
        {
            while (_txLength > 0 && _control != null)
            {
                SocketError error;
                int n = _control.Send(new ReadOnlySpan<byte>(_tx, _txStart, _txLength), out error);
                if (n > 0)
                {
                    _txStart += n;
                    _txLength -= n;
                    continue;
                }
                if (error == SocketError.WouldBlock)
                {
                    break;
                }
                return false;
            }
            if (_txLength == 0)
            {
                _txStart = 0;
            }
            return true;
        }

        private void CloseControl()
        {
            if (_control == null)
            {
                return;
            }
            SocketError error;
            _control.Discard(int.MaxValue, out error);
            _control.Shutdown(SocketShutdown.Receive);
            _control.Close();
            _control = null;
            _rxLength = 0;
            _txLength = 0;
            _txStart = 0;
        }

        // ---------------------------------------------------------------- set-up

        /// <summary>After the parameters: checks them, binds UDP if needed, sends CREATE_STREAMS.</summary>
        private void StartStreams(long now)
        {
            Iperf3Parameters p = _parameters;
            if (!p.ProtocolSupported)
            {
                ServerError(p.Sctp ? Iperf3Message.ErrorUnimplemented : Iperf3Message.ErrorProtocol, now, "protocol not supported");
                return;
            }
            if (p.StreamCount > _streams.Length)
            {
                ServerError(Iperf3Message.ErrorNumStreams, now, "too many streams");
                return;
            }
            _expectedStreams = (int)p.StreamCount;
            if (p.Udp)
            {
                // The UDP port must be bound before CREATE_STREAMS: the client's hello is not repeated.
                Socket udp = _stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
                if (udp == null)
                {
                    Counters[Iperf3Statistics.SocketExhausted]++;
                    ServerError(Iperf3Message.ErrorStreamListen, now, "no UDP socket");
                    return;
                }
                udp.ReuseAddress = true;
                if (udp.Bind(new IPEndPoint(IPv4Address.Any, _config.Port)) != SocketError.Success)
                {
                    udp.Close();
                    ServerError(Iperf3Message.ErrorStreamListen, now, "cannot bind the UDP port");
                    return;
                }
                _udpHello = udp;
                long size = p.Length;
                int linkLimit = _stack.Device.Mtu - 28;
                if (size > linkLimit)
                {
                    size = linkLimit; // the stack does not fragment UDP it sends; the client reads any size
                }
                int header = p.UdpCounters64Bit ? UdpHeader64 : UdpHeader32;
                if (size < header)
                {
                    size = header;
                }
                _udpDatagramSize = (int)size;
            }
            else if (p.Window > 0 && _listener != null)
            {
                // Sockets accepted from now on (only data streams) take the listener's buffer sizes.
                int window = p.Window > (1 << 24) ? 1 << 24 : (int)p.Window;
                _listener.ReceiveBufferSize = window;
                _listener.SendBufferSize = window;
                _listenerBuffersChanged = true;
            }
            SendControlByte(Iperf3Message.CreateStreams);
            EnterState(Iperf3ServerState.CreateStreams, now);
        }

        private void RestoreListenerBuffers()
        {
            if (_listenerBuffersChanged && _listener != null)
            {
                _listener.ReceiveBufferSize = _listenerReceiveBuffer;
                _listener.SendBufferSize = _listenerSendBuffer;
            }
            _listenerBuffersChanged = false;
        }

        /// <summary>Reads the cookies of accepted data connections and turns them into streams in accept order.</summary>
        private void ServicePending(long now)
        {
            for (int i = 0; i < _pendingCount; i++)
            {
                Socket socket = _pending[i];
                if (socket == null)
                {
                    continue;
                }
                int have = _pendingBytes[i];
                while (have < Iperf3Message.CookieSize)
                {
                    SocketError error;
                    int n = socket.Receive(new Span<byte>(_pendingCookies, i * Iperf3Message.CookieSize + have,
                        Iperf3Message.CookieSize - have), out error);
                    if (n > 0)
                    {
                        have += n;
                        continue;
                    }
                    if (error != SocketError.WouldBlock)
                    {
                        // Closed or reset before its cookie: drop it.
                        socket.Abort();
                        _pending[i] = null;
                    }
                    break;
                }
                _pendingBytes[i] = have;
            }
            while (_pendingCount > 0 && _state == Iperf3ServerState.CreateStreams)
            {
                Socket head = _pending[0];
                if (head != null && _pendingBytes[0] < Iperf3Message.CookieSize)
                {
                    break;
                }
                if (head != null)
                {
                    if (CookieMatches(0) && _streamCount < _expectedStreams)
                    {
                        AddStream(head, false, default);
                    }
                    else
                    {
                        Counters[Iperf3Statistics.BadCookies]++;
                        Deny(head);
                    }
                }
                for (int i = 1; i < _pendingCount; i++)
                {
                    _pending[i - 1] = _pending[i];
                    _pendingBytes[i - 1] = _pendingBytes[i];
                    new ReadOnlySpan<byte>(_pendingCookies, i * Iperf3Message.CookieSize, Iperf3Message.CookieSize)
                        .CopyTo(new Span<byte>(_pendingCookies, (i - 1) * Iperf3Message.CookieSize, Iperf3Message.CookieSize));
                }
                _pendingCount--;
                _pending[_pendingCount] = null;
                if (_streamCount == _expectedStreams)
                {
                    BeginRunning(now);
                }
            }
        }

        /// <summary>strcmp of the pending connection's cookie with the control cookie, as the stock server does.</summary>
        private bool CookieMatches(int pendingIndex)
        {
            int offset = pendingIndex * Iperf3Message.CookieSize;
            for (int i = 0; i < Iperf3Message.CookieSize; i++)
            {
                byte a = _pendingCookies[offset + i];
                if (a != _cookie[i])
                {
                    return false;
                }
                if (a == 0)
                {
                    return true;
                }
            }
            return true;
        }

        /// <summary>UDP stream set-up: a hello from a new client port becomes a stream with its own connected socket.</summary>
        private void ServiceUdpHellos(long now)
        {
            if (_udpHello == null)
            {
                return;
            }
            for (int budget = 0; budget < 64 && _state == Iperf3ServerState.CreateStreams; budget++)
            {
                IPEndPoint from;
                SocketError error;
                int n = _udpHello.ReceiveFrom(new Span<byte>(_hello), out from, out error);
                if (error == SocketError.WouldBlock)
                {
                    return;
                }
                if (error != SocketError.Success && error != SocketError.MessageSize)
                {
                    continue;
                }
                // The reply is the hello's 4 bytes reversed (the client wrote UDP_CONNECT_MSG in host order and
                // compares the reply with UDP_CONNECT_REPLY in host order).
                if (n >= Iperf3Message.UdpHelloSize)
                {
                    _reply[0] = _hello[3];
                    _reply[1] = _hello[2];
                    _reply[2] = _hello[1];
                    _reply[3] = _hello[0];
                }
                else
                {
                    _reply[0] = (byte)'6';
                    _reply[1] = (byte)'7';
                    _reply[2] = (byte)'8';
                    _reply[3] = (byte)'9';
                }
                Iperf3Stream known = null;
                for (int i = 0; i < _streamCount; i++)
                {
                    if (_streams[i].Peer.Equals(from))
                    {
                        known = _streams[i];
                    }
                }
                if (known != null)
                {
                    if (known.Socket != null)
                    {
                        known.Socket.Send(new ReadOnlySpan<byte>(_reply), out error);
                    }
                    continue;
                }
                if (_streamCount >= _expectedStreams)
                {
                    continue;
                }
                Socket socket = _stack.CreateSocket(SocketType.Dgram, ProtocolType.Udp);
                if (socket == null)
                {
                    Counters[Iperf3Statistics.SocketExhausted]++;
                    ServerError(Iperf3Message.ErrorStreamListen, now, "no socket for a UDP stream");
                    return;
                }
                socket.ReuseAddress = true;
                if (_config.UdpStreamReceiveBufferSize > 0)
                {
                    socket.ReceiveBufferSize = _config.UdpStreamReceiveBufferSize;
                }
                if (socket.Bind(new IPEndPoint(IPv4Address.Any, _config.Port)) != SocketError.Success ||
                    socket.Connect(from) != SocketError.Success)
                {
                    socket.Close();
                    ServerError(Iperf3Message.ErrorStreamListen, now, "cannot bind a UDP stream");
                    return;
                }
                socket.Send(new ReadOnlySpan<byte>(_reply), out error);
                if (error != SocketError.Success)
                {
                    Counters[Iperf3Statistics.UdpSendErrors]++;
                }
                AddStream(socket, true, from);
                if (_streamCount == _expectedStreams)
                {
                    BeginRunning(now);
                }
            }
        }

        private void AddStream(Socket socket, bool udp, IPEndPoint peer)
        {
            Iperf3Stream stream = _streams[_streamCount];
            stream.Reset();
            stream.Socket = socket;
            stream.Udp = udp;
            stream.Peer = peer;
            // Ids 1, 3, 4, 5, …: upstream skips 2 and keeps doing so for compatibility.
            stream.Id = _streamCount == 0 ? 1 : _streamCount + 2;
            stream.Sender = _parameters.Reverse ||
                            (_parameters.Bidirectional && _streamCount >= _parameters.Parallel);
            if (!udp && stream.Sender)
            {
                socket.NoDelay = _parameters.NoDelay;
            }
            _streamCount++;
            Counters[Iperf3Statistics.StreamsCreated]++;
        }

        /// <summary>All streams exist: TEST_START and TEST_RUNNING; counting starts now.</summary>
        private void BeginRunning(long now)
        {
            RestoreListenerBuffers();
            _smallMessage[0] = Iperf3Message.TestStart;
            _smallMessage[1] = Iperf3Message.TestRunning;
            QueueControl(_smallMessage, 0, 2);
            _testStart = now;
            _lastData = now;
            _omitEnd = now + _parameters.Omit * NanosecondsPerSecond;
            _omitDone = _parameters.Omit <= 0;
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                s.StartNanoseconds = now;
                s.PacingStartNanoseconds = now;
                if (s.Sender && !s.Udp && s.Socket != null)
                {
                    TcpInfo info;
                    s.Socket.GetTcpInfo(out info);
                    s.RetransmitsAtStart = info.TotalRetransmits;
                }
            }
            Counters[Iperf3Statistics.TestsStarted]++;
            EnterState(Iperf3ServerState.Running, now);
        }

        // ---------------------------------------------------------------- data transfer

        private void RunStreams(long now)
        {
            if (!_omitDone && now >= _omitEnd)
            {
                // End of -O: counting restarts (the client does the same on its side).
                _omitDone = true;
                for (int i = 0; i < _streamCount; i++)
                {
                    Iperf3Stream s = _streams[i];
                    s.BytesIgnored += s.Bytes;
                    s.Bytes = 0;
                    s.StartNanoseconds = now;
                }
            }
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                if (s.Finished || s.Socket == null)
                {
                    continue;
                }
                if (s.Sender)
                {
                    if (s.Udp)
                    {
                        SendUdp(s, now);
                    }
                    else
                    {
                        SendTcp(s, now);
                    }
                }
                else if (s.Udp)
                {
                    ReceiveUdp(s, now);
                }
                else
                {
                    ReceiveTcp(s, now);
                }
            }
        }

        private void ReceiveTcp(Iperf3Stream s, long now)
        {
            for (int round = 0; round < 8; round++)
            {
                SocketError error;
                int n = s.Socket.Discard(int.MaxValue, out error);
                if (n > 0)
                {
                    s.Bytes += n;
                    Counters[Iperf3Statistics.TcpBytesReceived] += n;
                    _lastData = now;
                    continue;
                }
                if (error != SocketError.WouldBlock)
                {
                    s.Finished = true;
                    s.FinishError = error;
                }
                return;
            }
        }

        private void ReceiveUdp(Iperf3Stream s, long now)
        {
            double nowSeconds = (double)now / 1e9;
            int header = _parameters.UdpCounters64Bit ? UdpHeader64 : UdpHeader32;
            for (int budget = 0; budget < 4096; budget++)
            {
                int length = s.Socket.Available;
                SocketError error;
                int n = s.Socket.Receive(new Span<byte>(_udpHeader), out error);
                if (error == SocketError.WouldBlock)
                {
                    return;
                }
                if (error != SocketError.Success && error != SocketError.MessageSize)
                {
                    continue; // an ICMP error reported by the stack; keep reading
                }
                if (length < n)
                {
                    length = n;
                }
                s.Bytes += length;
                _lastData = now;
                Counters[Iperf3Statistics.UdpDatagramsReceived]++;
                Counters[Iperf3Statistics.UdpBytesReceived] += length;
                if (n < header)
                {
                    continue;
                }
                uint sec = ReadBE32(_udpHeader, 0);
                uint usec = ReadBE32(_udpHeader, 4);
                long sequence = header == UdpHeader64
                    ? (long)(((ulong)ReadBE32(_udpHeader, 8) << 32) | ReadBE32(_udpHeader, 12))
                    : (long)ReadBE32(_udpHeader, 8);
                long lostBefore = s.Lost;
                long outOfOrderBefore = s.OutOfOrder;
                s.AccountDatagram(sequence, (double)sec + (double)usec / 1e6, nowSeconds);
                Counters[Iperf3Statistics.UdpLost] += s.Lost - lostBefore;
                Counters[Iperf3Statistics.UdpOutOfOrder] += s.OutOfOrder - outOfOrderBefore;
            }
        }

        /// <summary>Bytes the stream may still send under its -b rate; long.MaxValue without one.</summary>
        private long PacingAllowance(Iperf3Stream s, long now)
        {
            long bandwidth = _parameters.Bandwidth;
            if (bandwidth <= 0)
            {
                return long.MaxValue;
            }
            double seconds = (double)(now - s.PacingStartNanoseconds) / 1e9;
            double allowed = (double)bandwidth / 8.0 * seconds - (double)s.BytesSentTotal;
            if (allowed <= 0)
            {
                return 0;
            }
            return allowed > 4e18 ? long.MaxValue : (long)allowed;
        }

        private void SendTcp(Iperf3Stream s, long now)
        {
            long allowance = PacingAllowance(s, now);
            long block = _parameters.Length;
            if (block <= 0 || block > _payload.Length)
            {
                block = _payload.Length;
            }
            if (allowance != long.MaxValue)
            {
                // Paced: whole blocks once the average rate is below the target (as iperf_check_throttle), or the
                // allowance when the block is larger than what the rate allows per poll.
                if (allowance == 0)
                {
                    return;
                }
            }
            for (int round = 0; round < 64; round++)
            {
                int chunk = (int)block;
                if (allowance < chunk)
                {
                    chunk = (int)allowance;
                }
                if (chunk <= 0)
                {
                    return;
                }
                SocketError error;
                int n = s.Socket.Send(new ReadOnlySpan<byte>(_payload, 0, chunk), out error);
                if (n > 0)
                {
                    s.Bytes += n;
                    s.BytesSentTotal += n;
                    if (allowance != long.MaxValue)
                    {
                        allowance -= n;
                    }
                    Counters[Iperf3Statistics.TcpBytesSent] += n;
                    if (n < chunk)
                    {
                        return; // send buffer full
                    }
                    continue;
                }
                if (error != SocketError.WouldBlock)
                {
                    s.Finished = true;
                    s.FinishError = error;
                }
                return;
            }
        }

        private void SendUdp(Iperf3Stream s, long now)
        {
            int size = _udpDatagramSize;
            long allowance = PacingAllowance(s, now);
            bool counter64 = _parameters.UdpCounters64Bit;
            for (int budget = 0; budget < _config.UdpSendBurst; budget++)
            {
                if (allowance != long.MaxValue && allowance <= 0)
                {
                    return;
                }
                long stamp = _clock.NowNanoseconds;
                WriteBE32(_payload, 0, (uint)(stamp / NanosecondsPerSecond));
                WriteBE32(_payload, 4, (uint)(stamp % NanosecondsPerSecond / 1000));
                long sequence = s.NextSequence;
                if (counter64)
                {
                    WriteBE32(_payload, 8, (uint)((ulong)sequence >> 32));
                    WriteBE32(_payload, 12, (uint)sequence);
                }
                else
                {
                    WriteBE32(_payload, 8, (uint)sequence);
                }
                SocketError error;
                s.Socket.Send(new ReadOnlySpan<byte>(_payload, 0, size), out error);
                if (error != SocketError.Success)
                {
                    if (error != SocketError.WouldBlock && error != SocketError.NoBufferSpaceAvailable)
                    {
                        Counters[Iperf3Statistics.UdpSendErrors]++;
                    }
                    return;
                }
                s.NextSequence = sequence + 1;
                s.PacketsSent++;
                s.Bytes += size;
                s.BytesSentTotal += size;
                if (allowance != long.MaxValue)
                {
                    allowance -= size;
                }
                Counters[Iperf3Statistics.UdpDatagramsSent]++;
                Counters[Iperf3Statistics.UdpBytesSent] += size;
            }
        }

        // ---------------------------------------------------------------- end of test

        /// <summary>TEST_END: freeze the counters, close the data sockets, EXCHANGE_RESULTS.</summary>
        private void EndTest(long now)
        {
            _testEnd = now;
            if (SentNothing())
            {
                // The stack could not send a byte (out of memory, issue 12): an error, not an empty success.
                ServerError(Iperf3Message.ErrorStreamWrite, now, "could not send any data (out of memory?)");
                return;
            }
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                s.EndTime = (double)(now - s.StartNanoseconds) / 1e9;
                if (s.EndTime < 0)
                {
                    s.EndTime = 0;
                }
                if (s.Socket == null)
                {
                    continue;
                }
                if (s.Sender && !s.Udp)
                {
                    TcpInfo info;
                    s.Socket.GetTcpInfo(out info);
                    s.Retransmits = info.TotalRetransmits - s.RetransmitsAtStart;
                    if (s.Retransmits < 0)
                    {
                        s.Retransmits = 0;
                    }
                }
                CloseStreamSocket(s, false);
            }
            CloseUdpHello();
            SendControlByte(Iperf3Message.ExchangeResults);
            EnterState(Iperf3ServerState.ReadClientResults, now);
        }

        /// <summary>True when this server was a TCP sender for the test and no stream sent a byte.</summary>
        private bool SentNothing()
        {
            bool sender = false;
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                if (!s.Sender || s.Udp)
                {
                    continue;
                }
                sender = true;
                if (s.BytesSentTotal > 0)
                {
                    return false;
                }
            }
            return sender;
        }

        private void CloseStreamSocket(Iperf3Stream s, bool abort)
        {
            Socket socket = s.Socket;
            if (socket == null)
            {
                return;
            }
            s.Socket = null;
            if (abort)
            {
                socket.Abort();
                return;
            }
            if (!s.Udp)
            {
                // Late data is not counted; reading it lets the close be a FIN rather than a reset.
                SocketError error;
                int late = socket.Discard(int.MaxValue, out error);
                if (late > 0)
                {
                    s.BytesIgnored += late;
                }
                // The client may still have data in flight: have the stack drop it instead of queueing it on
                // the closed (orphaned) connection, where it would pin receive pages until FIN_WAIT2 times out.
                socket.Shutdown(SocketShutdown.Receive);
            }
            socket.Close();
        }

        private void CloseUdpHello()
        {
            if (_udpHello != null)
            {
                _udpHello.Close();
                _udpHello = null;
            }
        }

        /// <summary>The client's results must be a JSON object; its numbers are not needed.</summary>
        private bool CheckClientResults(int length)
        {
            _reader.Reset(_rx, 4, length);
            if (!_reader.Read() || _reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }
            if (!_reader.Skip())
            {
                return false;
            }
            _reader.Read();
            return _reader.IsComplete;
        }

        /// <summary>The server's results JSON (protocol notes §5.2), framed, then DISPLAY_RESULTS.</summary>
        private void SendResults()
        {
            BuildSummary();
            bool anySender = false;
            for (int i = 0; i < _streamCount; i++)
            {
                anySender |= _streams[i].Sender;
            }
            JsonWriter w = _writer;
            w.Reset(4);
            w.BeginObject();
            w.Property("cpu_util_total", 0.0);
            w.Property("cpu_util_user", 0.0);
            w.Property("cpu_util_system", 0.0);
            // −1 as a receiver; as a sender 1 when TCP retransmits are real counts (ours are), 0 for UDP.
            w.Property("sender_has_retransmits", anySender ? (_parameters.Udp ? 0L : 1L) : -1L);
            if (_parameters.Tcp)
            {
                w.Property("congestion_used", "newreno");
            }
            if (_parameters.GetServerOutput)
            {
                w.PropertyName("server_output_text");
                w.StringValue(_line.Text);
            }
            w.PropertyName("streams");
            w.BeginArray();
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                bool udpReceiver = s.Udp && !s.Sender;
                w.BeginObject();
                w.Property("id", (long)s.Id);
                w.Property("bytes", s.Bytes);
                w.Property("retransmits", s.Sender && !s.Udp ? s.Retransmits : -1L);
                w.Property("jitter", udpReceiver ? s.Jitter : 0.0);
                w.Property("errors", udpReceiver ? s.Lost : 0L);
                w.Property("packets", s.Udp ? (s.Sender ? s.PacketsSent : s.MaxSequence) : 0L);
                w.Property("start_time", 0L);
                w.Property("end_time", s.EndTime);
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
            if (w.Overflowed)
            {
                Counters[Iperf3Statistics.ProtocolErrors]++;
            }
            byte[] buffer = w.Buffer;
            int length = w.Length;
            buffer[0] = (byte)(length >> 24);
            buffer[1] = (byte)(length >> 16);
            buffer[2] = (byte)(length >> 8);
            buffer[3] = (byte)length;
            QueueControl(buffer, 0, 4 + length);
            SendControlByte(Iperf3Message.DisplayResults);
        }

        /// <summary>IPERF_DONE or end of stream after the results: the test is complete.</summary>
        private void Finish(long now)
        {
            CloseControl();
            Counters[Iperf3Statistics.TestsCompleted]++;
            _line.WriteLineTo(_log);
            EnterIdle(now);
        }

        /// <summary>The per-test log line (also sent as server_output_text when asked for).</summary>
        private void BuildSummary()
        {
            TextBuffer t = _line;
            t.Clear();
            t.Append("iperf3: test ");
            t.Append((long)_testNumber);
            t.Append(" from ");
            t.Append(_peer);
            t.Append(": ");
            t.Append(_parameters.Udp ? "UDP" : "TCP");
            if (_parameters.Bidirectional)
            {
                t.Append(" bidir");
            }
            else if (_parameters.Reverse)
            {
                t.Append(" reverse");
            }
            t.Append(", ");
            t.Append(_parameters.Parallel);
            t.Append(_parameters.Parallel == 1 ? " stream" : " streams");
            long received = 0;
            long sent = 0;
            long retransmits = 0;
            long packets = 0;
            long lost = 0;
            long datagramsSent = 0;
            double jitter = 0;
            int udpReceivers = 0;
            bool anyReceiver = false;
            bool anySender = false;
            double seconds = 0;
            for (int i = 0; i < _streamCount; i++)
            {
                Iperf3Stream s = _streams[i];
                if (s.EndTime > seconds)
                {
                    seconds = s.EndTime;
                }
                if (s.Sender)
                {
                    anySender = true;
                    sent += s.Bytes;
                    retransmits += s.Retransmits;
                    datagramsSent += s.PacketsSent;
                }
                else
                {
                    anyReceiver = true;
                    received += s.Bytes;
                    if (s.Udp)
                    {
                        packets += s.MaxSequence;
                        lost += s.Lost;
                        jitter += s.Jitter;
                        udpReceivers++;
                    }
                }
            }
            if (anyReceiver)
            {
                t.Append(", received ");
                t.Append(received);
                t.Append(" bytes in ");
                t.AppendFixed(seconds, 2);
                t.Append(" s = ");
                t.AppendBitRate(seconds > 0 ? received * 8.0 / seconds : 0);
                if (udpReceivers > 0)
                {
                    t.Append(", ");
                    t.Append(lost);
                    t.Append('/');
                    t.Append(packets);
                    t.Append(" datagrams lost (");
                    t.AppendFixed(packets > 0 ? lost * 100.0 / packets : 0, 2);
                    t.Append("%), jitter ");
                    t.AppendFixed(jitter / udpReceivers * 1000.0, 3);
                    t.Append(" ms");
                }
            }
            if (anySender)
            {
                t.Append(", sent ");
                t.Append(sent);
                t.Append(" bytes in ");
                t.AppendFixed(seconds, 2);
                t.Append(" s = ");
                t.AppendBitRate(seconds > 0 ? sent * 8.0 / seconds : 0);
                if (_parameters.Udp)
                {
                    t.Append(", ");
                    t.Append(datagramsSent);
                    t.Append(" datagrams");
                }
                else
                {
                    t.Append(", ");
                    t.Append(retransmits);
                    t.Append(" retransmits");
                }
            }
        }

        // ---------------------------------------------------------------- failures

        /// <summary>SERVER_ERROR: 0xFE, int32 BE i_errno, int32 BE errno (0); then the control connection closes.</summary>
        private void ServerError(int errorNumber, long now, string what)
        {
            Counters[Iperf3Statistics.ServerErrors]++;
            CloseStreams(true);
            _smallMessage[0] = Iperf3Message.ServerError;
            WriteBE32(_smallMessage, 1, (uint)errorNumber);
            WriteBE32(_smallMessage, 5, 0);
            QueueControl(_smallMessage, 0, 9);
            LogEvent("refused test: ", what);
            EnterState(Iperf3ServerState.Closing, now);
        }

        /// <summary>Drops the current test (EOF, CLIENT_TERMINATE, protocol error, timeout) and goes back to Idle.</summary>
        private void Abort(string why, int counter)
        {
            Counters[counter]++;
            if (counter != Iperf3Statistics.TestsAborted)
            {
                Counters[Iperf3Statistics.TestsAborted]++;
            }
            LogEvent("test aborted: ", why);
            Teardown(true);
            EnterIdle(_clock.NowNanoseconds);
        }

        private void LogEvent(string prefix, string why)
        {
            if (_log == null)
            {
                return;
            }
            _log.Write("iperf3: test ");
            _log.Write((long)_testNumber);
            _log.Write(' ');
            _log.Write(prefix);
            _log.Write(why);
            _log.WriteLine();
        }

        private void Teardown(bool abort)
        {
            CloseStreams(abort);
            CloseControl();
        }

        private void CloseStreams(bool abort)
        {
            for (int i = 0; i < _streamCount; i++)
            {
                CloseStreamSocket(_streams[i], abort);
            }
            for (int i = 0; i < _pendingCount; i++)
            {
                if (_pending[i] != null)
                {
                    _pending[i].Abort();
                    _pending[i] = null;
                }
            }
            _pendingCount = 0;
            CloseUdpHello();
            RestoreListenerBuffers();
        }

        private void CheckTimeouts(long now)
        {
            switch (_state)
            {
                case Iperf3ServerState.Stopped:
                case Iperf3ServerState.Idle:
                    return;
                case Iperf3ServerState.Running:
                {
                    Iperf3Parameters p = _parameters;
                    if (p.Time > 0)
                    {
                        long limit = (p.Time + p.Omit) * NanosecondsPerSecond +
                                     _config.RunningGraceMilliseconds * NanosecondsPerMillisecond;
                        if (now - _testStart > limit)
                        {
                            Abort("no TEST_END from the client", Iperf3Statistics.Timeouts);
                            return;
                        }
                    }
                    bool receiving = false;
                    for (int i = 0; i < _streamCount; i++)
                    {
                        receiving |= !_streams[i].Sender;
                    }
                    if (receiving && now - _lastData > _config.ReceiveIdleTimeoutMilliseconds * NanosecondsPerMillisecond)
                    {
                        Abort("no data received", Iperf3Statistics.Timeouts);
                    }
                    return;
                }
                default:
                    if (now - _stateSince > _config.HandshakeTimeoutMilliseconds * NanosecondsPerMillisecond)
                    {
                        Abort("the client stopped answering", Iperf3Statistics.Timeouts);
                    }
                    return;
            }
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
