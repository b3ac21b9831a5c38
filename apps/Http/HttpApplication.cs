using System;
using Keel.Apps.Hosting;
using Keel.Hal;

namespace Keel.Apps.Http
{
    /// <summary>The HTTP server (port 80, <see cref="HttpServer"/>) as a hosted application with an <c>http</c> command.</summary>
    public sealed class HttpApplication : INetworkApplication, IApplicationCommand
    {
        /// <summary>Sockets below which the server runs with small-memory sizes (one 64 KiB render buffer).</summary>
        private const int SmallMemorySockets = 32;

        private readonly HttpServerConfig _config;

        public HttpApplication(HttpServerConfig config)
        {
            _config = config;
        }

        /// <summary>The server (null before <see cref="Start"/>).</summary>
        public HttpServer Server { get; private set; }

        public string Name => "http";

        public string Help => "HTTP server (port 80) counters";

        public Instant NextWake => Server.NextWake;

        public bool Start(IApplicationHost host)
        {
            if (host.Stack.Config.MaxSockets < SmallMemorySockets)
            {
                _config.RenderBuffers = 1;
                _config.RenderBufferSize = 64 * 1024;
            }
            Server = new HttpServer(host.Stack, host.Clock, _config, host.Statistics, host.UnixSecondsAtClockZero);
            if (!Server.Start())
            {
                return false;
            }
            host.Statistics.Add("http", Server);
            host.AddCommand(this);
            return true;
        }

        public void Poll()
        {
            Server.Poll();
        }

        public void Stop()
        {
            Server.Stop();
        }

        public void Execute(ReadOnlySpan<char> arguments, ITextOutput output)
        {
            Server.PrintStatistics(output);
        }
    }
}
