namespace Keel.Net.Sockets
{
    /// <summary>Which direction <see cref="Socket.Shutdown"/> closes (System.Net.Sockets.SocketShutdown).</summary>
    public enum SocketShutdown
    {
        Receive = 0,
        Send = 1,
        Both = 2,
    }
}
