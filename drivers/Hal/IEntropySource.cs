using System;

namespace Keel.Hal
{
    /// <summary>
    /// Random numbers for the network stack and applications (TCP initial sequence numbers, ephemeral ports,
    /// payload seeds). The kernel implements it with its entropy pool (virtio-rng, RDRAND or a TSC-seeded
    /// generator); host tests with a fixed generator. Not on a per-packet path.
    /// </summary>
    public interface IEntropySource
    {
        ulong NextUInt64();
    }

    /// <summary>Where an entropy device delivers the bytes it read (the kernel's pool).</summary>
    public interface IEntropySink
    {
        /// <summary>
        /// Mixes <paramref name="data"/> in. Returns true while the sink wants more (the device keeps a request
        /// posted), false when it has enough for now (the device waits for <see cref="IEntropyDevice.RequestEntropy"/>).
        /// </summary>
        bool AddEntropy(ReadOnlySpan<byte> data);
    }

    /// <summary>A hardware entropy source the pool may ask for fresh bytes (virtio-rng).</summary>
    public interface IEntropyDevice
    {
        /// <summary>Posts read requests; the bytes arrive later through <see cref="IEntropySink.AddEntropy"/>.</summary>
        void RequestEntropy();
    }
}
