using Keel.Hal;

namespace Keel.Apps.Http
{
    /// <summary>Settings of an <see cref="HttpServer"/>: its port, its limits on what a client may send, and its timeouts.</summary>
    public sealed class HttpServerConfig
    {
        /// <summary>TCP port to listen on.</summary>
        public int Port = 80;

        /// <summary>Connections served at once; 0: one per <see cref="SocketsPerSlot"/> sockets of the stack (but at
        /// least half of them up to 64), at most <see cref="MaxSlots"/>. One more gets a 503 (or a RST when even that
        /// cannot be sent) at once.</summary>
        public int MaxConnections;

        /// <summary>Sockets of the stack per connection slot when <see cref="MaxConnections"/> is 0 (a slot holds an
        /// input buffer of <see cref="InputBufferSize"/> bytes, made at start-up).</summary>
        public const int SocketsPerSlot = 8;

        /// <summary>Most slots when <see cref="MaxConnections"/> is 0 (1024 slots hold about 7 MiB).</summary>
        public const int MaxSlots = 1024;

        /// <summary>Longest request line (method, target, version) in bytes; a longer one gets 414.</summary>
        public int MaxRequestLine = 2048;

        /// <summary>Most bytes of header fields after the request line; more gets 431.</summary>
        public int MaxHeaderBytes = 4096;

        /// <summary>Most header fields in one request; more gets 431.</summary>
        public int MaxHeaders = 32;

        /// <summary>Largest request body the server reads (and discards: GET and HEAD have no use for one); larger gets 413.</summary>
        public long MaxBodyBytes = 16384;

        /// <summary>Time from a request's first byte to the end of its header section; slower gets 408 and a close.</summary>
        public Duration HeaderTimeout = Duration.FromSeconds(10);

        /// <summary>Time a persistent connection may sit idle between requests before the server closes it.</summary>
        public Duration IdleTimeout = Duration.FromSeconds(5);

        /// <summary>Time a response may make no progress (the client reads nothing) before the connection is reset.</summary>
        public Duration SendTimeout = Duration.FromSeconds(30);

        /// <summary>Buffers for generated pages (/stats, /metrics): requests beyond them at one moment get 503.</summary>
        public int RenderBuffers = 2;

        /// <summary>Size of one render buffer: the largest generated page.</summary>
        public int RenderBufferSize = 128 * 1024;

        /// <summary>Largest N of /bytes/N.</summary>
        public long MaxBytesResource = 1L << 30;

        /// <summary>Bytes of input a connection buffers: a request line and a header section at their limits.</summary>
        public int InputBufferSize => MaxRequestLine + MaxHeaderBytes + 4;
    }
}
