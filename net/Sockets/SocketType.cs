namespace Keel.Net.Sockets
{
    /// <summary>System.Net.Sockets.SocketType (the two kinds Keel has).</summary>
    public enum SocketType
    {
        Unknown = -1,
        Stream = 1,
        Dgram = 2,
    }
}
