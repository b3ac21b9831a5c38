namespace Keel.Net.Sockets
{
    /// <summary>What <see cref="Socket.Poll"/> asks (System.Net.Sockets.SelectMode).</summary>
    public enum SelectMode
    {
        /// <summary>Data, a datagram, end of stream, an error, or (listening) a connection to accept.</summary>
        SelectRead = 0,

        /// <summary>Connected and room in the send buffer (a non-blocking Connect has completed).</summary>
        SelectWrite = 1,

        /// <summary>An error is pending (connection refused, reset or timed out).</summary>
        SelectError = 2,
    }
}
