namespace Keel.Kernel.Config
{
    /// <summary>Benchmark receive hook selected with <c>hook=</c> (or <c>bench-hook=</c>).</summary>
    public enum PacketHookMode
    {
        /// <summary>No hook: frames go up the network stack.</summary>
        None,

        /// <summary><c>hook=drop</c>: free every received frame in the driver (XDP_DROP-like).</summary>
        Drop,

        /// <summary><c>hook=echo-count</c>: count frames and send them back.</summary>
        EchoCount,
    }
}
