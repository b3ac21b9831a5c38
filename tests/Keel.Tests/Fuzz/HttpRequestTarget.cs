using System;
using Keel.Apps.Http;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// The HTTP request parser on the bytes as a connection would buffer them, then (for a chunked request) the
    /// chunked body decoder on what follows the head, fed in pieces the input's last byte sizes.
    /// </summary>
    public static class HttpRequestTarget
    {
        private static readonly HttpServerConfig s_limits = new HttpServerConfig
        {
            MaxRequestLine = 256,
            MaxHeaderBytes = 512,
            MaxHeaders = 8,
            MaxBodyBytes = 1024,
        };

        public static void Run(ReadOnlySpan<byte> input)
        {
            HttpRequest request;
            HttpParseResult result = HttpRequestParser.Parse(input, s_limits, out request);
            if (result == HttpParseResult.Error)
            {
                int s = request.ErrorStatus;
                FuzzInvariantException.Check(s == 400 || s == 413 || s == 414 || s == 431 || s == 501 || s == 505, "unexpected error status " + s);
                return;
            }
            if (result == HttpParseResult.Incomplete)
            {
                FuzzInvariantException.Check(input.Length <= s_limits.InputBufferSize + 8, "a head over the limits left incomplete");
                return;
            }
            FuzzInvariantException.Check(request.HeadLength > 0 && request.HeadLength <= input.Length, "head length outside the input");
            FuzzInvariantException.Check(request.PathStart >= 0 && request.PathLength >= 0 && request.PathStart + request.PathLength <= request.HeadLength,
                "path outside the head");
            FuzzInvariantException.Check(request.HeaderCount <= s_limits.MaxHeaders, "more header fields than the limit");
            FuzzInvariantException.Check(request.ContentLength >= 0 && request.ContentLength <= s_limits.MaxBodyBytes, "content length over the limit");
            FuzzInvariantException.Check(!(request.Chunked && request.ContentLength != 0), "both chunked and a content length");
            for (int i = 0; i < request.PathLength; i++)
            {
                byte b = input[request.PathStart + i];
                FuzzInvariantException.Check(b > 0x20 && b < 0x7F, "a control byte or space in the path");
            }
            if (!request.Chunked)
            {
                return;
            }
            ChunkedDecoder decoder = default;
            decoder.Reset(s_limits.MaxBodyBytes);
            ReadOnlySpan<byte> body = input.Slice(request.HeadLength);
            int piece = 1 + input[input.Length - 1] % 7;
            while (!body.IsEmpty && !decoder.Done && !decoder.Failed)
            {
                ReadOnlySpan<byte> part = body.Slice(0, piece < body.Length ? piece : body.Length);
                int used = decoder.Feed(part);
                FuzzInvariantException.Check(used >= 0 && used <= part.Length, "decoder consumed outside its input");
                FuzzInvariantException.Check(decoder.Done || decoder.Failed || used == part.Length, "decoder stopped early without an end");
                body = body.Slice(used);
            }
            FuzzInvariantException.Check(decoder.DataBytes <= s_limits.MaxBodyBytes, "chunked body over the limit");
        }
    }
}
