namespace Keel.Apps.Http
{
    /// <summary>Counter indices, names and descriptions of an <see cref="HttpServer"/> (values in <c>HttpServer.Counters</c>).</summary>
    public static class HttpStatistics
    {
        public const int ConnectionsAccepted = 0;
        public const int ConnectionsRefused = 1;
        public const int ConnectionsReset = 2;
        public const int Requests = 3;
        public const int Responses2xx = 4;
        public const int Responses4xx = 5;
        public const int Responses5xx = 6;
        public const int BytesSent = 7;
        public const int HeaderTimeouts = 8;
        public const int IdleTimeouts = 9;
        public const int SendTimeouts = 10;
        public const int BadRequests = 11;
        public const int RenderBusy = 12;
        public const int RenderOverflows = 13;
        public const int ConnectionsOpen = 14;
        public const int Count = 15;

        public static string Name(int index)
        {
            switch (index)
            {
                case ConnectionsAccepted: return "http_connections_accepted";
                case ConnectionsRefused: return "http_connections_refused";
                case ConnectionsReset: return "http_connections_reset";
                case Requests: return "http_requests";
                case Responses2xx: return "http_responses_2xx";
                case Responses4xx: return "http_responses_4xx";
                case Responses5xx: return "http_responses_5xx";
                case BytesSent: return "http_tx_bytes";
                case HeaderTimeouts: return "http_header_timeouts";
                case IdleTimeouts: return "http_idle_timeouts";
                case SendTimeouts: return "http_send_timeouts";
                case BadRequests: return "http_bad_requests";
                case RenderBusy: return "http_render_busy";
                case RenderOverflows: return "http_render_overflows";
                case ConnectionsOpen: return "http_connections_open";
                default: return "";
            }
        }

        public static string Help(int index)
        {
            switch (index)
            {
                case ConnectionsAccepted: return "HTTP connections accepted and served";
                case ConnectionsRefused: return "HTTP connections refused with 503 (or a reset) at the connection limit";
                case ConnectionsReset: return "HTTP connections that ended in a reset or a socket error";
                case Requests: return "HTTP requests answered";
                case Responses2xx: return "HTTP responses with a 2xx status";
                case Responses4xx: return "HTTP responses with a 4xx status";
                case Responses5xx: return "HTTP responses with a 5xx status";
                case BytesSent: return "HTTP bytes sent (heads and bodies)";
                case HeaderTimeouts: return "HTTP requests whose header section did not arrive in time (408)";
                case IdleTimeouts: return "Persistent HTTP connections closed after their idle timeout";
                case SendTimeouts: return "HTTP connections reset because the client read nothing for too long";
                case BadRequests: return "HTTP requests refused as malformed or over a limit";
                case RenderBusy: return "HTTP requests for a generated page refused with every render buffer busy (503)";
                case RenderOverflows: return "Generated HTTP pages larger than a render buffer (500)";
                case ConnectionsOpen: return "HTTP connections open now";
                default: return "";
            }
        }
    }
}
