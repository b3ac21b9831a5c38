using System;
using Keel.Apps.Hosting;
using Keel.Apps.Json;
using Keel.Apps.Text;
using Keel.Buffers;
using Keel.Hal;
using Keel.Net;
using Keel.Net.Sockets;

namespace Keel.Apps.Http
{
    /// <summary>
    /// An HTTP/1.1 server (RFC 9110, RFC 9112) for GET and HEAD: persistent connections and pipelining (requests
    /// are answered in order, one response at a time), Content-Length and chunked responses, limits on what a
    /// client may send, header, idle and send timeouts, and a connection limit past which a client gets 503 at
    /// once. Everything is made in the constructor: connection slots with their buffers, render buffers for
    /// generated pages. Serves the static site, <c>/stats</c> (JSON), <c>/metrics</c> (Prometheus) and
    /// <c>/bytes/N</c>.
    /// </summary>
    public sealed class HttpServer : IStatisticsSource, IPoolMaker<HttpConnection>
    {
        private const int MaxRequestsPerPoll = 16;
        private const int PatternSize = 4096;
        private const string TextType = "text/plain; charset=utf-8";
        private const string OctetType = "application/octet-stream";

        /// <summary>The end of a chunked body after its one data chunk: CRLF, the last chunk, an empty trailer section.</summary>
        private static readonly byte[] s_chunkedTail = { (byte)'\r', (byte)'\n', (byte)'0', (byte)'\r', (byte)'\n', (byte)'\r', (byte)'\n' };

        private readonly NetStack _stack;
        private readonly IClock _clock;
        private readonly HttpServerConfig _config;

        /// <summary>Connection slots made at start-up; the rest are made when first needed.</summary>
        private const int PreallocatedSlots = 64;

        private readonly StatisticsRegistry _statistics;
        private readonly long _unixAtClockZero;
        /// <summary>Connection slots: <see cref="PreallocatedSlots"/> made at start-up, the rest when first needed.</summary>
        private readonly LazyPool<HttpConnection> _connections;
        private readonly HttpSite _site = new HttpSite();
        private readonly byte[] _pattern = new byte[PatternSize];
        private readonly byte[] _refusal;
        private readonly byte[][] _render;
        private readonly TextBuffer[] _renderText;
        private readonly JsonWriter[] _renderJson;
        private readonly bool[] _renderBusy;
        private Socket _listener;

        /// <summary>Counter values, indexed by the <see cref="HttpStatistics"/> constants.</summary>
        public readonly long[] Counters = new long[HttpStatistics.Count];

        /// <param name="statistics">The counter sources /stats and /metrics export.</param>
        /// <param name="unixAtClockZero">Wall-clock seconds at clock time 0 (for Date); 0 for none.</param>
        public HttpServer(NetStack stack, IClock clock, HttpServerConfig config, StatisticsRegistry statistics, long unixAtClockZero)
        {
            _stack = stack;
            _clock = clock;
            _config = config;
            _statistics = statistics;
            _unixAtClockZero = unixAtClockZero;
            int slots = config.MaxConnections;
            if (slots <= 0)
            {
                // Half the sockets up to 64 (small tables), else one per SocketsPerSlot up to MaxSlots.
                int half = stack.Config.MaxSockets / 2;
                slots = stack.Config.MaxSockets / HttpServerConfig.SocketsPerSlot;
                slots = slots > (half < 64 ? half : 64) ? slots : (half < 64 ? half : 64);
                slots = slots < 1 ? 1 : slots > HttpServerConfig.MaxSlots ? HttpServerConfig.MaxSlots : slots;
            }
            _connections = new LazyPool<HttpConnection>(slots, PreallocatedSlots, this);
            int renderCount = config.RenderBuffers < 1 ? 1 : config.RenderBuffers;
            _render = new byte[renderCount][];
            _renderText = new TextBuffer[renderCount];
            _renderJson = new JsonWriter[renderCount];
            _renderBusy = new bool[renderCount];
            for (int i = 0; i < renderCount; i++)
            {
                _render[i] = new byte[config.RenderBufferSize];
                _renderText[i] = new TextBuffer(_render[i]);
                _renderJson[i] = new JsonWriter(_render[i]);
            }
            for (int i = 0; i < PatternSize; i++)
            {
                _pattern[i] = (byte)('a' + i % 26);
            }
            TextBuffer refusal = new TextBuffer(HttpConnection.HeadCapacity);
            WriteErrorPage(refusal, 503, true, false, 0);
            _refusal = new byte[refusal.Length];
            refusal.Text.CopyTo(_refusal);
        }

        /// <summary>Connection slots (the connection limit).</summary>
        public int MaxConnections => _connections.Limit;

        /// <summary>Connections open now.</summary>
        public int OpenConnections
        {
            get
            {
                int open = 0;
                for (int i = 0; i < _connections.Made; i++)
                {
                    if (_connections.At(i).Socket != null)
                    {
                        open++;
                    }
                }
                return open;
            }
        }

        /// <summary>Render buffers in use now (0 when idle: every response gave its buffer back).</summary>
        public int RenderBuffersInUse
        {
            get
            {
                int busy = 0;
                for (int i = 0; i < _renderBusy.Length; i++)
                {
                    busy += _renderBusy[i] ? 1 : 0;
                }
                return busy;
            }
        }

        /// <summary>Opens the listening socket. False when no socket is free or the port is taken.</summary>
        public bool Start()
        {
            _listener = _stack.CreateSocket(SocketType.Stream, ProtocolType.Tcp);
            if (_listener == null)
            {
                return false;
            }
            if (_listener.Bind(new IPEndPoint(IPv4Address.Any, _config.Port)) != SocketError.Success ||
                _listener.Listen(_connections.Limit + 16) != SocketError.Success)
            {
                _listener.Close();
                _listener = null;
                return false;
            }
            return true;
        }

        /// <summary>Closes every connection and the listener.</summary>
        public void Stop()
        {
            for (int i = 0; i < _connections.Made; i++)
            {
                if (_connections.At(i).Socket != null)
                {
                    Release(_connections.At(i), false);
                }
            }
            if (_listener != null)
            {
                _listener.Close();
                _listener = null;
            }
        }

        public void Poll()
        {
            if (_listener == null)
            {
                return;
            }
            long now = _clock.NowNanoseconds;
            Accept(now);
            for (int i = 0; i < _connections.Made; i++)
            {
                HttpConnection connection = _connections.At(i);
                if (connection.Socket != null)
                {
                    Service(connection, now);
                }
                if (connection.Socket != null)
                {
                    CheckTimeouts(connection, now);
                }
            }
        }

        /// <summary>The earliest timeout of any connection; <see cref="Instant.MaxValue"/> when none is open.</summary>
        public Instant NextWake => Instant.FromNanoseconds(NextWakeNanoseconds);

        private long NextWakeNanoseconds
        {
            get
            {
                long next = long.MaxValue;
                for (int i = 0; i < _connections.Made; i++)
                {
                    HttpConnection c = _connections.At(i);
                    if (c.Socket == null)
                    {
                        continue;
                    }
                    long deadline = Deadline(c);
                    if (deadline < next)
                    {
                        next = deadline;
                    }
                }
                return next;
            }
        }

        private long Deadline(HttpConnection c)
        {
            if (c.Phase == HttpConnectionPhase.Sending)
            {
                return c.LastProgressNanoseconds + _config.SendTimeout.Nanoseconds;
            }
            if (c.RequestStartNanoseconds != 0)
            {
                return c.RequestStartNanoseconds + _config.HeaderTimeout.Nanoseconds;
            }
            return c.IdleSinceNanoseconds + _config.IdleTimeout.Nanoseconds;
        }

        private void Accept(long now)
        {
            while (true)
            {
                Socket accepted;
                if (_listener.Accept(out accepted) != SocketError.Success)
                {
                    return;
                }
                HttpConnection slot = FreeSlot();
                if (slot == null)
                {
                    // Over the connection limit: a 503 at once, or a reset when even that does not fit.
                    Counters[HttpStatistics.ConnectionsRefused]++;
                    Counters[HttpStatistics.Responses5xx]++;
                    SocketError error;
                    int sent = accepted.Send(_refusal, true, out error); // with the FIN of the Close below
                    if (sent == _refusal.Length)
                    {
                        Counters[HttpStatistics.BytesSent] += sent;
                        accepted.Close();
                    }
                    else
                    {
                        accepted.Abort();
                    }
                    continue;
                }
                accepted.NoDelay = true;
                slot.Open(accepted, now);
                Counters[HttpStatistics.ConnectionsAccepted]++;
            }
        }

        /// <summary>A free slot (one past those made at start-up is made now, from the memory the socket table's sizing set aside); null at the limit.</summary>
        private HttpConnection FreeSlot() => _connections.Take();

        HttpConnection IPoolMaker<HttpConnection>.Make(int index) => new HttpConnection(_config.InputBufferSize);

        /// <summary>Moves one connection along as far as it goes without waiting: send, read, parse, answer, repeat.</summary>
        private void Service(HttpConnection c, long now)
        {
            for (int round = 0; round < MaxRequestsPerPoll; round++)
            {
                if (c.Phase == HttpConnectionPhase.Sending)
                {
                    int flushed = Flush(c, now);
                    if (flushed < 0)
                    {
                        Release(c, true);
                        return;
                    }
                    if (flushed == 0)
                    {
                        return; // the send buffer is full: next poll
                    }
                    FinishResponse(c, now);
                    if (c.CloseAfterResponse)
                    {
                        Release(c, false);
                        return;
                    }
                }
                if (!ReadInput(c))
                {
                    Release(c, true);
                    return;
                }
                if (c.Phase == HttpConnectionPhase.ReadingBody && !DiscardBody(c))
                {
                    if (c.Phase != HttpConnectionPhase.Sending)
                    {
                        if (c.PeerDone)
                        {
                            Release(c, false); // the body was cut off
                        }
                        return;
                    }
                    continue; // an error response was queued
                }
                if (c.Phase == HttpConnectionPhase.ReadingBody)
                {
                    Respond(c);
                    continue;
                }
                if (c.InputLength == 0)
                {
                    if (c.PeerDone)
                    {
                        Release(c, false);
                    }
                    return;
                }
                if (c.RequestStartNanoseconds == 0)
                {
                    c.RequestStartNanoseconds = now;
                }
                HttpRequest request;
                HttpParseResult result = HttpRequestParser.Parse(new ReadOnlySpan<byte>(c.Input, 0, c.InputLength), _config, out request);
                if (result == HttpParseResult.Incomplete && c.InputLength == c.Input.Length)
                {
                    // Leading empty lines filled the buffer past the limits the parser counts.
                    result = HttpParseResult.Error;
                    request.ErrorStatus = 431;
                }
                if (result == HttpParseResult.Incomplete)
                {
                    if (c.PeerDone)
                    {
                        Release(c, false); // the client ended in the middle of a request head
                    }
                    return;
                }
                if (result == HttpParseResult.Error)
                {
                    Counters[HttpStatistics.BadRequests]++;
                    QueueError(c, request.ErrorStatus, request.VersionMinor == 0 ? 0 : 1);
                    continue;
                }
                c.Request = request;
                c.RequestStartNanoseconds = now;
                Route(c, new ReadOnlySpan<byte>(c.Input, request.PathStart, request.PathLength));
                c.Consume(request.HeadLength);
                c.BodyToDiscard = request.ContentLength;
                if (request.Chunked)
                {
                    c.Chunked.Reset(_config.MaxBodyBytes);
                }
                c.Phase = HttpConnectionPhase.ReadingBody;
            }
        }

        /// <summary>Reads what fits into the input buffer. False on a socket error (reset, timeout).</summary>
        private bool ReadInput(HttpConnection c)
        {
            while (!c.PeerDone && c.InputLength < c.Input.Length)
            {
                SocketError error;
                int received = c.Socket.Receive(new Span<byte>(c.Input, c.InputLength, c.Input.Length - c.InputLength), out error);
                if (received > 0)
                {
                    c.InputLength += received;
                    continue;
                }
                if (error == SocketError.Success)
                {
                    c.PeerDone = true;
                    break;
                }
                return error == SocketError.WouldBlock;
            }
            return true;
        }

        /// <summary>
        /// Discards the request body from the input. True when it has all been read; false when more is needed or it
        /// was refused (then an error response is queued and <see cref="HttpConnection.Phase"/> is Sending).
        /// </summary>
        private bool DiscardBody(HttpConnection c)
        {
            if (c.Request.Chunked)
            {
                int used = c.Chunked.Feed(new ReadOnlySpan<byte>(c.Input, 0, c.InputLength));
                c.Consume(used);
                if (c.Chunked.Failed)
                {
                    Counters[HttpStatistics.BadRequests]++;
                    QueueError(c, c.Chunked.TooLarge ? 413 : 400, c.Request.VersionMinor);
                    return false;
                }
                return c.Chunked.Done;
            }
            int take = c.BodyToDiscard < c.InputLength ? (int)c.BodyToDiscard : c.InputLength;
            c.Consume(take);
            c.BodyToDiscard -= take;
            return c.BodyToDiscard == 0;
        }

        /// <summary>What a request asks for, decided from its path while the head is still in the input buffer.</summary>
        private void Route(HttpConnection c, ReadOnlySpan<byte> target)
        {
            ReadOnlySpan<byte> path = target;
            for (int i = 0; i < target.Length; i++)
            {
                if (target[i] == (byte)'?')
                {
                    path = target.Slice(0, i);
                    break;
                }
            }
            c.RouteCount = 0;
            if (path.Length == 0 || AsciiText.Matches(path, "/") || AsciiText.Matches(path, "/index.html"))
            {
                c.Route = HttpRoute.Index;
            }
            else if (AsciiText.Matches(path, "/stats"))
            {
                c.Route = HttpRoute.Stats;
            }
            else if (AsciiText.Matches(path, "/metrics"))
            {
                c.Route = HttpRoute.Metrics;
            }
            else if (AsciiText.StartsWith(path, "/bytes/"))
            {
                long count = ParseCount(path.Slice(7));
                c.Route = count < 0 ? HttpRoute.NotFound : count > _config.MaxBytesResource ? HttpRoute.BadRequest : HttpRoute.Bytes;
                c.RouteCount = count;
            }
            else
            {
                c.Route = HttpRoute.NotFound;
            }
        }

        /// <summary>Answers the request in <see cref="HttpConnection.Request"/> (its head and body have been read).</summary>
        private void Respond(HttpConnection c)
        {
            HttpRequest request = c.Request;
            c.RequestStartNanoseconds = 0;
            c.CloseAfterResponse = !request.KeepAlive;
            if (request.Method == HttpMethod.Other)
            {
                QueueError(c, 405, request.VersionMinor);
                return;
            }
            bool head = request.Method == HttpMethod.Head;
            switch (c.Route)
            {
                case HttpRoute.Index:
                    QueueArray(c, HttpSite.HtmlType, _site.Index, _site.Index.Length, head, false);
                    return;
                case HttpRoute.Stats:
                    QueueRendered(c, false, head);
                    return;
                case HttpRoute.Metrics:
                    QueueRendered(c, true, head);
                    return;
                case HttpRoute.Bytes:
                    WriteHead(c, 200, OctetType, c.RouteCount);
                    c.BodyKind = HttpBodyKind.Pattern;
                    c.BodyRemaining = head ? 0 : c.RouteCount;
                    StartSending(c);
                    return;
                case HttpRoute.BadRequest:
                    QueueError(c, 400, request.VersionMinor);
                    return;
                default:
                    QueueError(c, 404, request.VersionMinor);
                    return;
            }
        }

        private void QueueArray(HttpConnection c, string type, byte[] body, int length, bool head, bool chunked)
        {
            WriteHead(c, 200, type, chunked ? HttpResponseWriter.Chunked : length);
            if (!head)
            {
                if (chunked)
                {
                    c.Head.AppendHex(length);
                    c.Head.Append("\r\n");
                    c.TailRemaining = s_chunkedTail.Length;
                }
                c.BodyKind = HttpBodyKind.Array;
                c.BodyArray = body;
                c.BodyOffset = 0;
                c.BodyRemaining = length;
            }
            StartSending(c);
        }

        /// <summary>/stats or /metrics, generated into a render buffer; chunked to HTTP/1.1 clients.</summary>
        private void QueueRendered(HttpConnection c, bool metrics, bool head)
        {
            int buffer = -1;
            for (int i = 0; i < _renderBusy.Length; i++)
            {
                if (!_renderBusy[i])
                {
                    buffer = i;
                    break;
                }
            }
            if (buffer < 0)
            {
                Counters[HttpStatistics.RenderBusy]++;
                QueueError(c, 503, c.Request.VersionMinor);
                return;
            }
            long uptime = Instant.Now(_clock).SinceOrigin.Seconds;
            int length;
            bool overflowed;
            if (metrics)
            {
                TextBuffer text = _renderText[buffer];
                text.Clear();
                MetricsWriter.Write(_statistics, uptime, text);
                length = text.Length;
                overflowed = text.Overflowed;
            }
            else
            {
                JsonWriter json = _renderJson[buffer];
                json.Reset();
                StatsWriter.Write(_statistics, uptime, UnixNow(), json);
                length = json.Length;
                overflowed = json.Overflowed;
            }
            if (overflowed)
            {
                Counters[HttpStatistics.RenderOverflows]++;
                QueueError(c, 500, c.Request.VersionMinor);
                return;
            }
            _renderBusy[buffer] = true;
            c.RenderBuffer = buffer;
            QueueArray(c, metrics ? MetricsWriter.ContentType : StatsWriter.ContentType, _render[buffer], length, head,
                c.Request.VersionMinor >= 1);
        }

        /// <summary>An error response with a short text body; the connection closes after it (except 404 and 405).</summary>
        private void QueueError(HttpConnection c, int status, int versionMinor)
        {
            if (status != 404 && status != 405)
            {
                c.CloseAfterResponse = true;
            }
            c.Head.Clear();
            WriteErrorPage(c.Head, status, c.CloseAfterResponse, versionMinor == 0 && !c.CloseAfterResponse, UnixNow());
            c.BodyKind = HttpBodyKind.None;
            CountStatus(status);
            StartSending(c);
        }

        private static void WriteErrorPage(TextBuffer output, int status, bool close, bool keepAlive10, long unixSeconds)
        {
            string reason = HttpResponseWriter.ReasonPhrase(status);
            HttpResponseWriter.WriteHead(output, status, TextType, 4 + reason.Length + 1, close, keepAlive10, unixSeconds);
            output.Append((long)status);
            output.Append(' ');
            output.Append(reason);
            output.Append('\n');
        }

        private void WriteHead(HttpConnection c, int status, string type, long contentLength)
        {
            c.Head.Clear();
            bool keepAlive10 = c.Request.VersionMinor == 0 && !c.CloseAfterResponse;
            HttpResponseWriter.WriteHead(c.Head, status, type, contentLength, c.CloseAfterResponse, keepAlive10, UnixNow());
            CountStatus(status);
        }

        private void CountStatus(int status)
        {
            Counters[HttpStatistics.Requests]++;
            Counters[status < 300 ? HttpStatistics.Responses2xx : status < 500 ? HttpStatistics.Responses4xx : HttpStatistics.Responses5xx]++;
        }

        private void StartSending(HttpConnection c)
        {
            c.Phase = HttpConnectionPhase.Sending;
            c.HeadSent = 0;
            c.LastProgressNanoseconds = _clock.NowNanoseconds;
        }

        /// <summary>Sends what the socket takes: 1 when the response is out, 0 when the send buffer is full, -1 on an error.</summary>
        private int Flush(HttpConnection c, long now)
        {
            SocketError error;
            while (true)
            {
                ReadOnlySpan<byte> next;
                long after; // bytes of the response after this piece
                if (c.HeadSent < c.Head.Length)
                {
                    next = c.Head.Text.Slice(c.HeadSent);
                    after = c.BodyRemaining + c.TailRemaining;
                }
                else if (c.BodyRemaining > 0)
                {
                    if (c.BodyKind == HttpBodyKind.Array)
                    {
                        next = new ReadOnlySpan<byte>(c.BodyArray, c.BodyOffset, (int)c.BodyRemaining);
                    }
                    else
                    {
                        int offset = (int)(c.PatternPosition % PatternSize);
                        long length = PatternSize - offset;
                        next = new ReadOnlySpan<byte>(_pattern, offset, (int)(length < c.BodyRemaining ? length : c.BodyRemaining));
                    }
                    after = c.BodyRemaining - next.Length + c.TailRemaining;
                }
                else if (c.TailRemaining > 0)
                {
                    next = new ReadOnlySpan<byte>(s_chunkedTail, s_chunkedTail.Length - c.TailRemaining, c.TailRemaining);
                    after = 0;
                }
                else
                {
                    return 1;
                }
                // The pieces of a response (and the FIN when the connection closes after it) leave together: every
                // piece but the last says more follows, and so does the last when Close follows at once.
                int sent = c.Socket.Send(next, after > 0 || c.CloseAfterResponse, out error);
                if (sent <= 0)
                {
                    return error == SocketError.WouldBlock ? 0 : -1;
                }
                Counters[HttpStatistics.BytesSent] += sent;
                c.LastProgressNanoseconds = now;
                if (c.HeadSent < c.Head.Length)
                {
                    c.HeadSent += sent;
                }
                else if (c.BodyRemaining > 0)
                {
                    c.BodyRemaining -= sent;
                    c.BodyOffset += sent;
                    c.PatternPosition += sent;
                }
                else
                {
                    c.TailRemaining -= sent;
                }
            }
        }

        private void FinishResponse(HttpConnection c, long now)
        {
            ReleaseRender(c);
            c.ClearResponse();
            c.Phase = HttpConnectionPhase.ReadingHead;
            c.IdleSinceNanoseconds = now;
            c.RequestStartNanoseconds = 0;
        }

        private void CheckTimeouts(HttpConnection c, long now)
        {
            if (now < Deadline(c))
            {
                return;
            }
            if (c.Phase == HttpConnectionPhase.Sending)
            {
                Counters[HttpStatistics.SendTimeouts]++;
                Release(c, true);
            }
            else if (c.RequestStartNanoseconds != 0)
            {
                // RFC 9110 section 15.5.9: 408, then close.
                Counters[HttpStatistics.HeaderTimeouts]++;
                c.InputLength = 0;
                QueueError(c, 408, 1);
                Service(c, now);
            }
            else
            {
                Counters[HttpStatistics.IdleTimeouts]++;
                Release(c, false);
            }
        }

        /// <summary>Gives the slot back: a graceful close, or a reset (<paramref name="reset"/>) after an error.</summary>
        private void Release(HttpConnection c, bool reset)
        {
            ReleaseRender(c);
            if (reset)
            {
                Counters[HttpStatistics.ConnectionsReset]++;
                c.Socket.Abort();
            }
            else
            {
                c.Socket.Close();
            }
            c.Socket = null;
            c.ClearResponse();
            _connections.Give(c);
        }

        private void ReleaseRender(HttpConnection c)
        {
            if (c.RenderBuffer >= 0)
            {
                _renderBusy[c.RenderBuffer] = false;
                c.RenderBuffer = -1;
            }
        }

        private long UnixNow() => _unixAtClockZero == 0 ? 0 : _unixAtClockZero + Instant.Now(_clock).SinceOrigin.Seconds;

        /// <summary>Decimal digits of /bytes/N: -1 for anything else (empty, non-digits, more than 18 digits).</summary>
        private static long ParseCount(ReadOnlySpan<byte> digits)
        {
            if (digits.IsEmpty || digits.Length > 18)
            {
                return -1;
            }
            long value = 0;
            for (int i = 0; i < digits.Length; i++)
            {
                if (digits[i] < (byte)'0' || digits[i] > (byte)'9')
                {
                    return -1;
                }
                value = value * 10 + (digits[i] - '0');
            }
            return value;
        }

        public int StatisticsCount => HttpStatistics.Count;

        public string StatisticName(int index) => HttpStatistics.Name(index);

        public string StatisticHelp(int index) => HttpStatistics.Help(index);

        public StatisticKind StatisticKind(int index) => index == HttpStatistics.ConnectionsOpen ? Keel.Hal.StatisticKind.Gauge : Keel.Hal.StatisticKind.Counter;

        public long StatisticValue(int index)
        {
            if (index == HttpStatistics.ConnectionsOpen)
            {
                return OpenConnections;
            }
            return index >= 0 && index < HttpStatistics.Count ? Counters[index] : 0;
        }

        /// <summary>Counters, connection slots and render buffers, one per line (the <c>http</c> command).</summary>
        public void PrintStatistics(ITextOutput output)
        {
            output.Write("  http port ");
            output.Write(_config.Port);
            output.Write(", connections ");
            output.Write(OpenConnections);
            output.Write(" of ");
            output.Write(_connections.Limit);
            output.Write(", render buffers busy ");
            output.Write(RenderBuffersInUse);
            output.Write(" of ");
            output.Write(_renderBusy.Length);
            output.WriteLine();
            for (int i = 0; i < HttpStatistics.Count; i++)
            {
                output.Write("  ");
                output.Write(HttpStatistics.Name(i));
                output.Write(' ');
                output.Write(StatisticValue(i));
                output.WriteLine();
            }
        }
    }
}
