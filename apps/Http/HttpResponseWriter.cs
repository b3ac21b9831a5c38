using Keel.Apps.Text;
using Keel.Hal;

namespace Keel.Apps.Http
{
    /// <summary>
    /// Writes HTTP/1.1 response heads (RFC 9112 section 4, RFC 9110 sections 6.6.1, 7.6.1, 8.3, 8.6, 10.2.1 and
    /// 15) into a <see cref="TextBuffer"/>: the status line, Date (IMF-fixdate; left out without a wall clock, as
    /// section 6.6.1 requires of a server without one), Server, Content-Type, Content-Length or
    /// Transfer-Encoding: chunked, Connection, and Allow with 405.
    /// </summary>
    public static class HttpResponseWriter
    {
        /// <summary>Methods the server allows, for Allow (405) and for docs.</summary>
        public const string AllowedMethods = "GET, HEAD";

        /// <summary>Content length meaning "sent chunked".</summary>
        public const long Chunked = -1;

        /// <summary>Reason phrase of <paramref name="status"/> (RFC 9110 section 15; 431 from RFC 6585).</summary>
        public static string ReasonPhrase(int status)
        {
            switch (status)
            {
                case 200: return "OK";
                case 400: return "Bad Request";
                case 404: return "Not Found";
                case 405: return "Method Not Allowed";
                case 408: return "Request Timeout";
                case 413: return "Content Too Large";
                case 414: return "URI Too Long";
                case 431: return "Request Header Fields Too Large";
                case 500: return "Internal Server Error";
                case 501: return "Not Implemented";
                case 503: return "Service Unavailable";
                case 505: return "HTTP Version Not Supported";
                default: return "";
            }
        }

        /// <summary>
        /// The response head. <paramref name="contentLength"/> ≥ 0 writes Content-Length, <see cref="Chunked"/>
        /// Transfer-Encoding: chunked. <paramref name="close"/> writes Connection: close;
        /// <paramref name="keepAliveForHttp10"/> writes Connection: keep-alive (an HTTP/1.0 client asked for it).
        /// <paramref name="unixSeconds"/> is the Date; 0 leaves it out.
        /// </summary>
        public static void WriteHead(TextBuffer output, int status, string contentType, long contentLength, bool close,
            bool keepAliveForHttp10, long unixSeconds)
        {
            output.Append("HTTP/1.1 ");
            output.Append((long)status);
            output.Append(' ');
            output.Append(ReasonPhrase(status));
            output.Append("\r\n");
            if (unixSeconds > 0)
            {
                output.Append("Date: ");
                AppendImfFixdate(output, unixSeconds);
                output.Append("\r\n");
            }
            output.Append("Server: Keel\r\n");
            if (status == 405)
            {
                output.Append("Allow: ");
                output.Append(AllowedMethods);
                output.Append("\r\n");
            }
            if (status == 503)
            {
                output.Append("Retry-After: 1\r\n");
            }
            if (contentType != null)
            {
                output.Append("Content-Type: ");
                output.Append(contentType);
                output.Append("\r\n");
            }
            if (contentLength == Chunked)
            {
                output.Append("Transfer-Encoding: chunked\r\n");
            }
            else
            {
                output.Append("Content-Length: ");
                output.Append(contentLength);
                output.Append("\r\n");
            }
            if (close)
            {
                output.Append("Connection: close\r\n");
            }
            else if (keepAliveForHttp10)
            {
                output.Append("Connection: keep-alive\r\n");
            }
            output.Append("\r\n");
        }

        /// <summary>IMF-fixdate (RFC 9110 section 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".</summary>
        public static void AppendImfFixdate(TextBuffer output, long unixSeconds)
        {
            long days = unixSeconds / CivilTime.SecondsPerDay;
            long secondOfDay = unixSeconds - days * CivilTime.SecondsPerDay;
            CivilTime.CivilFromDays(days, out long year, out int month, out int day);
            output.Append(DayName(CivilTime.DayOfWeek(days)));
            output.Append(", ");
            AppendTwoDigits(output, day);
            output.Append(' ');
            output.Append(MonthName(month));
            output.Append(' ');
            output.Append(year);
            output.Append(' ');
            AppendTwoDigits(output, (int)(secondOfDay / 3600));
            output.Append(':');
            AppendTwoDigits(output, (int)(secondOfDay / 60 % 60));
            output.Append(':');
            AppendTwoDigits(output, (int)(secondOfDay % 60));
            output.Append(" GMT");
        }

        private static void AppendTwoDigits(TextBuffer output, int value)
        {
            output.Append((char)('0' + value / 10));
            output.Append((char)('0' + value % 10));
        }

        private static string DayName(int weekday)
        {
            switch (weekday)
            {
                case 0: return "Sun";
                case 1: return "Mon";
                case 2: return "Tue";
                case 3: return "Wed";
                case 4: return "Thu";
                case 5: return "Fri";
                default: return "Sat";
            }
        }

        private static string MonthName(int month)
        {
            switch (month)
            {
                case 1: return "Jan";
                case 2: return "Feb";
                case 3: return "Mar";
                case 4: return "Apr";
                case 5: return "May";
                case 6: return "Jun";
                case 7: return "Jul";
                case 8: return "Aug";
                case 9: return "Sep";
                case 10: return "Oct";
                case 11: return "Nov";
                default: return "Dec";
            }
        }
    }
}
