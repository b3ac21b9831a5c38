namespace Keel.Net.Sockets
{
    /// <summary>System.Net.Sockets.ProtocolType (values are the IP protocol numbers).</summary>
    public enum ProtocolType
    {
        Unknown = -1,
        Tcp = 6,
        Udp = 17,
    }
}
