namespace Keel.Apps.Http
{
    /// <summary>Request methods the server tells apart (RFC 9110 section 9: method names are case-sensitive).</summary>
    public enum HttpMethod : byte
    {
        /// <summary>A syntactically valid method the server does not allow (answered with 405).</summary>
        Other,
        Get,
        Head,
    }

    /// <summary>Outcome of <see cref="HttpRequestParser.Parse"/>.</summary>
    public enum HttpParseResult : byte
    {
        /// <summary>The header section has not ended yet and is within the limits: wait for more bytes.</summary>
        Incomplete,

        /// <summary>A request head was parsed; <see cref="HttpRequest.HeadLength"/> bytes belong to it.</summary>
        Complete,

        /// <summary>The request is unacceptable: answer <see cref="HttpRequest.ErrorStatus"/> and close.</summary>
        Error,
    }

    /// <summary>What the server needs of one parsed request head. Offsets are into the parsed bytes.</summary>
    public struct HttpRequest
    {
        public HttpMethod Method;

        /// <summary>Minor version of HTTP/1.x (0 or 1; higher minors are answered as 1.1).</summary>
        public int VersionMinor;

        /// <summary>The path (origin-form, or the path of an absolute-form target; query included), as an offset and a length.</summary>
        public int PathStart;
        public int PathLength;

        /// <summary>The connection persists after the response (HTTP/1.1 without "close", HTTP/1.0 with "keep-alive").</summary>
        public bool KeepAlive;

        /// <summary>Content-Length of the body; 0 when none was sent.</summary>
        public long ContentLength;

        /// <summary>The body is chunked (Transfer-Encoding: chunked).</summary>
        public bool Chunked;

        /// <summary>Header fields in the request.</summary>
        public int HeaderCount;

        /// <summary>Bytes from the start of the parsed data to the end of the empty line (leading empty lines included).</summary>
        public int HeadLength;

        /// <summary>Status code for <see cref="HttpParseResult.Error"/> (400, 414, 431, 413, 501, 505).</summary>
        public int ErrorStatus;
    }
}
