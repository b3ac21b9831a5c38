using System.IO;
using NUnit.Framework;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// Every crash AFL++ found, as it found it (tests/Keel.Fuzz/regressions/TARGET/NAME), run through its target:
    /// each was a bug, fixed, and must stay fixed. docs/fuzzing.md lists them.
    /// </summary>
    public class FuzzRegressionTests
    {
        private static void Replay(string target, string name)
        {
            string file = Path.Combine(FuzzCorpus.RepositoryRoot(), "tests", "Keel.Fuzz", "regressions", target, name);
            FuzzTargets.Find(target).Run(File.ReadAllBytes(file));
        }

        /// <summary>A reply whose A record is 0.0.0.0 made the resolver report success with "no address".</summary>
        [Test]
        public void DnsClientZeroAddressAnswer() => Replay("dns-client", "zero-address");

        /// <summary>
        /// A virtio-mmio device whose queue size made the receive queue's pools too big for memory: the failed start
        /// kept the send ring it had allocated and the pages of the packet pool that ran out half-way.
        /// </summary>
        [Test]
        public void VirtioMmioFailedStartRingAndPool() => Replay("virtio-mmio", "failed-start-ring-and-pool");

        /// <summary>The same, another size: the packet pool's pages were kept.</summary>
        [Test]
        public void VirtioMmioFailedStartPool() => Replay("virtio-mmio", "failed-start-pool");
    }
}
