using Keel.Apps.Text;
using Keel.Net.Sockets;

namespace Keel.Apps.Http
{
    /// <summary>What a connection is doing.</summary>
    public enum HttpConnectionPhase : byte
    {
        /// <summary>Waiting for (the rest of) a request head.</summary>
        ReadingHead,

        /// <summary>Reading and discarding a request body before answering.</summary>
        ReadingBody,

        /// <summary>Sending a response (head, body, chunked tail).</summary>
        Sending,
    }

    /// <summary>What a request asks for.</summary>
    public enum HttpRoute : byte
    {
        NotFound,
        Index,
        Stats,
        Metrics,
        Bytes,

        /// <summary>A resource that cannot be served as asked (/bytes/N with N over the limit).</summary>
        BadRequest,
    }

    /// <summary>Where a response body comes from.</summary>
    public enum HttpBodyKind : byte
    {
        None,

        /// <summary>A byte array (a static page, or a render buffer).</summary>
        Array,

        /// <summary>A repeating pattern (/bytes/N).</summary>
        Pattern,
    }

    /// <summary>
    /// One client connection's state, made once at start-up and reused (a pool slot of <see cref="HttpServer"/>):
    /// the input buffered so far, the response being sent, and the times the timeouts count from.
    /// </summary>
    public sealed class HttpConnection
    {
        /// <summary>Room for a response head, a chunk-size line, and an error page.</summary>
        public const int HeadCapacity = 1024;

        public HttpConnection(int inputCapacity)
        {
            Input = new byte[inputCapacity];
            Head = new TextBuffer(HeadCapacity);
        }

        /// <summary>The socket; null when the slot is free.</summary>
        public Socket Socket;

        public HttpConnectionPhase Phase;

        public readonly byte[] Input;

        /// <summary>Bytes buffered in <see cref="Input"/>.</summary>
        public int InputLength;

        /// <summary>The client shut down its side (end of stream): answer what is buffered, then close.</summary>
        public bool PeerDone;

        /// <summary>Close after the response being sent.</summary>
        public bool CloseAfterResponse;

        /// <summary>The request being answered (while its body is read).</summary>
        public HttpRequest Request;

        /// <summary>What the request asks for, and N of /bytes/N.</summary>
        public HttpRoute Route;
        public long RouteCount;

        /// <summary>Content-Length body bytes still to discard.</summary>
        public long BodyToDiscard;

        public ChunkedDecoder Chunked;

        /// <summary>Response head (and a small body or a chunk-size line) and how much of it went out.</summary>
        public readonly TextBuffer Head;
        public int HeadSent;

        public HttpBodyKind BodyKind;
        public byte[] BodyArray;
        public int BodyOffset;
        public long BodyRemaining;

        /// <summary>Pattern bytes sent so far (the offset into the repeating pattern).</summary>
        public long PatternPosition;

        /// <summary>Bytes of the chunked tail (CRLF, last chunk, empty trailer) still to send; 0 for none.</summary>
        public int TailRemaining;

        /// <summary>Render buffer held by the response; -1 for none.</summary>
        public int RenderBuffer = -1;

        /// <summary>Clock time the current request's first byte arrived; 0 when no request is under way.</summary>
        public long RequestStartNanoseconds;

        /// <summary>Clock time of the last completed response (or the accept): the idle timeout counts from it.</summary>
        public long IdleSinceNanoseconds;

        /// <summary>Clock time the response last made progress: the send timeout counts from it.</summary>
        public long LastProgressNanoseconds;

        /// <summary>Makes the slot ready for a new client.</summary>
        public void Open(Socket socket, long now)
        {
            Socket = socket;
            Phase = HttpConnectionPhase.ReadingHead;
            InputLength = 0;
            PeerDone = false;
            CloseAfterResponse = false;
            BodyToDiscard = 0;
            RequestStartNanoseconds = 0;
            IdleSinceNanoseconds = now;
            LastProgressNanoseconds = now;
            ClearResponse();
        }

        /// <summary>Forgets the response (after it went out, or when the connection ends).</summary>
        public void ClearResponse()
        {
            Head.Clear();
            HeadSent = 0;
            BodyKind = HttpBodyKind.None;
            BodyArray = null;
            BodyOffset = 0;
            BodyRemaining = 0;
            PatternPosition = 0;
            TailRemaining = 0;
        }

        /// <summary>Drops the first <paramref name="count"/> buffered bytes (a request that was read).</summary>
        public void Consume(int count)
        {
            if (count >= InputLength)
            {
                InputLength = 0;
                return;
            }
            new System.ReadOnlySpan<byte>(Input, count, InputLength - count).CopyTo(new System.Span<byte>(Input, 0, InputLength - count));
            InputLength -= count;
        }
    }
}
