namespace Keel.Net.Sockets
{
    /// <summary>What changed on a socket, passed to <see cref="ISocketHandler.OnSocketEvent"/>. A bit set.</summary>
    public enum SocketEvents
    {
        None = 0,

        /// <summary>Poll(SelectRead) became true: data, a datagram, end of stream, or a connection to accept.</summary>
        Readable = 1,

        /// <summary>Poll(SelectWrite) became true: connected, or send buffer space freed by ACKs.</summary>
        Writable = 2,

        /// <summary>An error is pending (see <see cref="Socket.PendingError"/>): refused, reset, timed out.</summary>
        Error = 4,

        /// <summary>The connection is fully closed (the peer's FIN arrived and ours was acknowledged, or reset).</summary>
        Closed = 8,
    }
}
