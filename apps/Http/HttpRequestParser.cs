using System;
using Keel.Hal;

namespace Keel.Apps.Http
{
    /// <summary>
    /// Parses an HTTP/1.1 request head (RFC 9112 sections 2-3 and 5, RFC 9110 section 5) from the bytes a connection
    /// has buffered. Stateless: it is given everything buffered so far each time and says whether a complete head
    /// is there, more is needed, or the request must be refused. Strict where leniency lets requests be read two
    /// ways (request smuggling): a single SP between request-line parts, no whitespace before a field's colon, no
    /// line folding, no bare CR, no NUL, one Content-Length value, never both Content-Length and Transfer-Encoding.
    /// A bare LF ends a line (RFC 9112 section 2.2 allows it). Nothing is allocated.
    /// </summary>
    public static class HttpRequestParser
    {
        /// <summary>Empty lines skipped before a request line (RFC 9112 section 2.2: at least one SHOULD be ignored).</summary>
        private const int MaxLeadingEmptyLines = 4;

        public static HttpParseResult Parse(ReadOnlySpan<byte> data, HttpServerConfig limits, out HttpRequest request)
        {
            request = default;
            int position = 0;
            for (int empty = 0; empty < MaxLeadingEmptyLines; empty++)
            {
                if (position < data.Length && data[position] == (byte)'\n')
                {
                    position++;
                }
                else if (position + 1 < data.Length && data[position] == (byte)'\r' && data[position + 1] == (byte)'\n')
                {
                    position += 2;
                }
                else
                {
                    break;
                }
            }

            int lineStart = position;
            int lineEnd = FindLineEnd(data, position, out int next);
            if (lineEnd < 0)
            {
                if (data.Length - lineStart > limits.MaxRequestLine)
                {
                    return Fail(ref request, 414);
                }
                return ContainsBadByte(data.Slice(lineStart)) ? Fail(ref request, 400) : HttpParseResult.Incomplete;
            }
            if (lineEnd - lineStart > limits.MaxRequestLine)
            {
                return Fail(ref request, 414);
            }
            int status = ParseRequestLine(data, lineStart, lineEnd, ref request);
            if (status != 0)
            {
                return Fail(ref request, status);
            }

            // Header fields up to the empty line.
            int headerStart = next;
            bool hasHost = false;
            bool hasContentLength = false;
            bool hasTransferEncoding = false;
            bool connectionClose = false;
            bool connectionKeepAlive = false;
            position = next;
            while (true)
            {
                lineEnd = FindLineEnd(data, position, out next);
                if (lineEnd < 0)
                {
                    if (data.Length - headerStart > limits.MaxHeaderBytes)
                    {
                        return Fail(ref request, 431);
                    }
                    return ContainsBadByte(data.Slice(position)) ? Fail(ref request, 400) : HttpParseResult.Incomplete;
                }
                if (next - headerStart > limits.MaxHeaderBytes + 2)
                {
                    return Fail(ref request, 431);
                }
                if (lineEnd == position)
                {
                    position = next;
                    break; // the empty line
                }
                if (++request.HeaderCount > limits.MaxHeaders)
                {
                    return Fail(ref request, 431);
                }
                ReadOnlySpan<byte> line = data.Slice(position, lineEnd - position);
                position = next;
                if (line[0] == (byte)' ' || line[0] == (byte)'\t')
                {
                    return Fail(ref request, 400); // obsolete line folding (RFC 9112 section 5.2)
                }
                int colon = IndexOf(line, (byte)':');
                if (colon <= 0 || !IsToken(line.Slice(0, colon)))
                {
                    return Fail(ref request, 400); // no name, or whitespace or a delimiter in it (section 5.1)
                }
                ReadOnlySpan<byte> name = line.Slice(0, colon);
                ReadOnlySpan<byte> value = TrimWhitespace(line.Slice(colon + 1));
                if (!IsFieldValue(value))
                {
                    return Fail(ref request, 400);
                }
                if (EqualsIgnoreCase(name, "host"))
                {
                    if (hasHost)
                    {
                        return Fail(ref request, 400); // RFC 9112 section 3.2: more than one Host
                    }
                    hasHost = true;
                }
                else if (EqualsIgnoreCase(name, "content-length"))
                {
                    long length = ParseContentLength(value);
                    if (length < 0 || (hasContentLength && length != request.ContentLength))
                    {
                        return Fail(ref request, 400); // RFC 9112 section 6.3, item 5
                    }
                    hasContentLength = true;
                    request.ContentLength = length;
                }
                else if (EqualsIgnoreCase(name, "transfer-encoding"))
                {
                    if (hasTransferEncoding || request.VersionMinor == 0)
                    {
                        return Fail(ref request, 400); // section 6.1: HTTP/1.0 with Transfer-Encoding is faulty
                    }
                    if (!EqualsIgnoreCase(value, "chunked"))
                    {
                        return Fail(ref request, 501); // a transfer coding the server does not implement
                    }
                    hasTransferEncoding = true;
                    request.Chunked = true;
                }
                else if (EqualsIgnoreCase(name, "connection"))
                {
                    ReadConnectionOptions(value, ref connectionClose, ref connectionKeepAlive);
                }
            }

            if (hasTransferEncoding && hasContentLength)
            {
                return Fail(ref request, 400); // section 6.1: a possible smuggling attempt; reject and close
            }
            if (request.VersionMinor >= 1 && !hasHost)
            {
                return Fail(ref request, 400); // section 3.2: an HTTP/1.1 request without Host
            }
            if (request.ContentLength > limits.MaxBodyBytes)
            {
                return Fail(ref request, 413);
            }
            request.KeepAlive = request.VersionMinor >= 1 ? !connectionClose : connectionKeepAlive && !connectionClose;
            request.HeadLength = position;
            return HttpParseResult.Complete;
        }

        /// <summary>Fills method, version and path; 0 when the line is valid, else the status to answer.</summary>
        private static int ParseRequestLine(ReadOnlySpan<byte> data, int start, int end, ref HttpRequest request)
        {
            ReadOnlySpan<byte> line = data.Slice(start, end - start);
            int firstSpace = IndexOf(line, (byte)' ');
            if (firstSpace <= 0)
            {
                return 400;
            }
            ReadOnlySpan<byte> method = line.Slice(0, firstSpace);
            if (!IsToken(method))
            {
                return 400;
            }
            ReadOnlySpan<byte> rest = line.Slice(firstSpace + 1);
            int secondSpace = IndexOf(rest, (byte)' ');
            if (secondSpace <= 0)
            {
                return 400;
            }
            ReadOnlySpan<byte> target = rest.Slice(0, secondSpace);
            ReadOnlySpan<byte> version = rest.Slice(secondSpace + 1);
            // HTTP-version = "HTTP" "/" DIGIT "." DIGIT (RFC 9112 section 2.3), case-sensitive.
            if (version.Length != 8 || version[0] != (byte)'H' || version[1] != (byte)'T' || version[2] != (byte)'T' ||
                version[3] != (byte)'P' || version[4] != (byte)'/' || !IsDigit(version[5]) || version[6] != (byte)'.' ||
                !IsDigit(version[7]))
            {
                return 400;
            }
            if (version[5] != (byte)'1')
            {
                return 505;
            }
            request.VersionMinor = version[7] - '0';
            for (int i = 0; i < target.Length; i++)
            {
                if (target[i] <= 0x20 || target[i] >= 0x7F)
                {
                    return 400;
                }
            }
            int pathOffset;
            int pathLength;
            if (!FindPath(target, out pathOffset, out pathLength) || HasDotSegment(target.Slice(pathOffset, pathLength)))
            {
                return 400;
            }
            request.PathStart = start + firstSpace + 1 + pathOffset;
            request.PathLength = pathLength;
            request.Method = AsciiText.Matches(method, "GET") ? HttpMethod.Get : AsciiText.Matches(method, "HEAD") ? HttpMethod.Head : HttpMethod.Other;
            return 0;
        }

        /// <summary>
        /// The path of an origin-form target ("/a?b") or of an absolute-form one ("http://host/a?b", RFC 9112
        /// section 3.2.2, which a server MUST accept; an empty path is "/"). False for any other form.
        /// </summary>
        private static bool FindPath(ReadOnlySpan<byte> target, out int offset, out int length)
        {
            offset = 0;
            length = target.Length;
            if (target[0] == (byte)'/')
            {
                return true;
            }
            int authority;
            if (StartsWithIgnoreCase(target, "http://"))
            {
                authority = 7;
            }
            else if (StartsWithIgnoreCase(target, "https://"))
            {
                authority = 8;
            }
            else
            {
                return false; // authority-form and asterisk-form belong to CONNECT and OPTIONS, which are not allowed
            }
            int slash = IndexOf(target.Slice(authority), (byte)'/');
            if (slash == 0)
            {
                return false; // no host
            }
            if (slash < 0)
            {
                offset = target.Length - 1; // "http://host": the path is "/"; point at a byte that reads as one below
                length = 0;
                return true;
            }
            offset = authority + slash;
            length = target.Length - offset;
            return true;
        }

        /// <summary>True when a segment of the path (before any '?') is "." or "..", also percent-encoded ("%2e").</summary>
        private static bool HasDotSegment(ReadOnlySpan<byte> path)
        {
            int end = IndexOf(path, (byte)'?');
            if (end < 0)
            {
                end = path.Length;
            }
            int dots = 0;
            bool other = false;
            for (int i = 0; i <= end; i++)
            {
                if (i == end || path[i] == (byte)'/')
                {
                    if (!other && (dots == 1 || dots == 2))
                    {
                        return true;
                    }
                    dots = 0;
                    other = false;
                }
                else if (path[i] == (byte)'.')
                {
                    dots++;
                }
                else if (path[i] == (byte)'%' && i + 2 < end && path[i + 1] == (byte)'2' && (path[i + 2] | 0x20) == (byte)'e')
                {
                    dots++;
                    i += 2;
                }
                else
                {
                    other = true;
                }
            }
            return false;
        }

        /// <summary>
        /// Offset of the line end at or after <paramref name="start"/> (the CR of CRLF, or a bare LF); -1 when there
        /// is none yet. A CR not followed by LF makes the line invalid: -1 too, and <see cref="ContainsBadByte"/>
        /// then finds it.
        /// </summary>
        private static int FindLineEnd(ReadOnlySpan<byte> data, int start, out int next)
        {
            int lf = IndexOf(data.Slice(start), (byte)'\n');
            if (lf < 0)
            {
                next = data.Length;
                return -1;
            }
            lf += start;
            next = lf + 1;
            if (lf > start && data[lf - 1] == (byte)'\r')
            {
                return lf - 1;
            }
            return lf;
        }

        /// <summary>A NUL, or a CR followed by something other than LF, in bytes that have no line end yet.</summary>
        private static bool ContainsBadByte(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                if (bytes[i] == 0 || (bytes[i] == (byte)'\r' && i + 1 < bytes.Length && bytes[i + 1] != (byte)'\n'))
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>Field value characters (RFC 9110 section 5.5): visible ASCII, obs-text, SP and HTAB; no CR, LF or NUL.</summary>
        private static bool IsFieldValue(ReadOnlySpan<byte> value)
        {
            for (int i = 0; i < value.Length; i++)
            {
                byte b = value[i];
                if (b < 0x20 ? b != (byte)'\t' : b == 0x7F)
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>token = 1*tchar (RFC 9110 section 5.6.2).</summary>
        public static bool IsToken(ReadOnlySpan<byte> text)
        {
            if (text.IsEmpty)
            {
                return false;
            }
            for (int i = 0; i < text.Length; i++)
            {
                byte c = text[i];
                bool ok = (c >= (byte)'a' && c <= (byte)'z') || (c >= (byte)'A' && c <= (byte)'Z') || IsDigit(c) ||
                    c == (byte)'!' || c == (byte)'#' || c == (byte)'$' || c == (byte)'%' || c == (byte)'&' ||
                    c == (byte)'\'' || c == (byte)'*' || c == (byte)'+' || c == (byte)'-' || c == (byte)'.' ||
                    c == (byte)'^' || c == (byte)'_' || c == (byte)'`' || c == (byte)'|' || c == (byte)'~';
                if (!ok)
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>Content-Length = 1*DIGIT (RFC 9110 section 8.6); -1 when malformed or beyond 18 digits.</summary>
        private static long ParseContentLength(ReadOnlySpan<byte> value)
        {
            if (value.IsEmpty || value.Length > 18)
            {
                return -1;
            }
            long length = 0;
            for (int i = 0; i < value.Length; i++)
            {
                if (!IsDigit(value[i]))
                {
                    return -1;
                }
                length = length * 10 + (value[i] - '0');
            }
            return length;
        }

        /// <summary>The "close" and "keep-alive" options of a Connection field (a comma-separated token list).</summary>
        private static void ReadConnectionOptions(ReadOnlySpan<byte> value, ref bool close, ref bool keepAlive)
        {
            while (!value.IsEmpty)
            {
                int comma = IndexOf(value, (byte)',');
                ReadOnlySpan<byte> option = TrimWhitespace(comma < 0 ? value : value.Slice(0, comma));
                if (EqualsIgnoreCase(option, "close"))
                {
                    close = true;
                }
                else if (EqualsIgnoreCase(option, "keep-alive"))
                {
                    keepAlive = true;
                }
                value = comma < 0 ? ReadOnlySpan<byte>.Empty : value.Slice(comma + 1);
            }
        }

        private static int IndexOf(ReadOnlySpan<byte> text, byte value)
        {
            for (int i = 0; i < text.Length; i++)
            {
                if (text[i] == value)
                {
                    return i;
                }
            }
            return -1;
        }

        private static ReadOnlySpan<byte> TrimWhitespace(ReadOnlySpan<byte> text)
        {
            int start = 0;
            int end = text.Length;
            while (start < end && (text[start] == (byte)' ' || text[start] == (byte)'\t'))
            {
                start++;
            }
            while (end > start && (text[end - 1] == (byte)' ' || text[end - 1] == (byte)'\t'))
            {
                end--;
            }
            return text.Slice(start, end - start);
        }

        private static bool IsDigit(byte c) => c >= (byte)'0' && c <= (byte)'9';

        /// <summary>ASCII case-insensitive comparison with a lower-case literal.</summary>
        public static bool EqualsIgnoreCase(ReadOnlySpan<byte> text, string lowerCase)
        {
            return text.Length == lowerCase.Length && StartsWithIgnoreCase(text, lowerCase);
        }

        private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> text, string lowerCase)
        {
            if (text.Length < lowerCase.Length)
            {
                return false;
            }
            for (int i = 0; i < lowerCase.Length; i++)
            {
                byte c = text[i];
                if (c >= (byte)'A' && c <= (byte)'Z')
                {
                    c = (byte)(c + 32);
                }
                if (c != lowerCase[i])
                {
                    return false;
                }
            }
            return true;
        }

        private static HttpParseResult Fail(ref HttpRequest request, int status)
        {
            request.ErrorStatus = status;
            return HttpParseResult.Error;
        }
    }
}
