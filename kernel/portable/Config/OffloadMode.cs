namespace Keel.Kernel.Config
{
    /// <summary>Which virtio-net offloads the kernel asks for (<c>offload=</c> on the command line).</summary>
    public enum OffloadMode
    {
        /// <summary>Checksum offload both ways and TCP segmentation offload (TSO/large receive) — the default.</summary>
        On,

        /// <summary>Checksum offload only, every segment at most one MSS.</summary>
        ChecksumOnly,

        /// <summary>No offloads: software checksums, one MSS per segment (the pre-2010 receive path).</summary>
        Off,
    }
}
