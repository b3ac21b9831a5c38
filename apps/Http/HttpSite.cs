namespace Keel.Apps.Http
{
    /// <summary>The static pages compiled into the image, as bytes made once at start-up.</summary>
    public sealed class HttpSite
    {
        public const string HtmlType = "text/html; charset=utf-8";

        private const string IndexText =
            "<!DOCTYPE html>\n" +
            "<html lang=\"en\">\n" +
            "<head>\n" +
            "<meta charset=\"utf-8\">\n" +
            "<title>Keel</title>\n" +
            "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto;padding:0 1em;line-height:1.5}" +
            "code{background:#eee;padding:0 .2em}</style>\n" +
            "</head>\n" +
            "<body>\n" +
            "<h1>Keel</h1>\n" +
            "<p>This page is served by Keel, a bare-metal x86_64 kernel written in C# and compiled ahead of time " +
            "with .NET NativeAOT against its own minimal corelib. There is no Linux underneath: the HTTP server is " +
            "an application polled from the kernel's main loop, on Keel's own IPv4 and TCP stack, on its own " +
            "virtio-net driver (mergeable page buffers, page-pool recycling, NAPI-style polling).</p>\n" +
            "<h2>What else is here</h2>\n" +
            "<ul>\n" +
            "<li><a href=\"/stats\"><code>/stats</code></a>: uptime, memory, driver and TCP counters as JSON</li>\n" +
            "<li><a href=\"/metrics\"><code>/metrics</code></a>: every counter in the Prometheus text format</li>\n" +
            "<li><code>/bytes/N</code>: N bytes, for download tests (<a href=\"/bytes/1024\">/bytes/1024</a>)</li>\n" +
            "</ul>\n" +
            "<p>The same kernel answers <code>ping</code>, runs an iperf3 server on port 5201 and a TCP echo " +
            "server on port 7. Its serial console has a shell: <code>help</code>, <code>stats</code>, " +
            "<code>net</code>, <code>http</code>.</p>\n" +
            "</body>\n" +
            "</html>\n";

        public HttpSite()
        {
            Index = ToBytes(IndexText);
        }

        /// <summary>The page at "/" (and "/index.html").</summary>
        public byte[] Index { get; }

        private static byte[] ToBytes(string text)
        {
            byte[] bytes = new byte[text.Length];
            for (int i = 0; i < text.Length; i++)
            {
                bytes[i] = (byte)text[i];
            }
            return bytes;
        }
    }
}
