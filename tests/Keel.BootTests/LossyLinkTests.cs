using System;
using System.IO;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// TCP under loss: Keel behind a router namespace that drops 5 % of the forwarded TCP segments (both directions,
    /// offloads off on the path so one drop is one segment). tools/lossy-link --check boots the kernel, runs
    /// iperf3 -n 4M each way, echoes 1 MiB of random bytes compared byte for byte, and checks that `net` shows a
    /// connection with SACK and timestamps agreed.
    /// </summary>
    [TestFixture]
    public class LossyLinkTests
    {
        [Test]
        public void TransfersCompleteByteExactAtFivePercentLossWithSackAndTimestamps()
        {
            if (!Environment.IsPrivilegedProcess)
            {
                Assert.Ignore(NetworkNamespace.NeedsRootMessage);
            }
            string script = Path.Combine(Repository.Root, "tools", "lossy-link");
            string output = Path.Combine(Repository.Root, "build", "lossy-test");
            (int status, string text) = NetworkNamespace.RunProcess(400, script, "--check", "--loss", "5", "--keel", Repository.Kernel, "--out", output);
            TestContext.Out.WriteLine(text);
            Assert.That(text, Does.Contain("LOSSY-CHECK PASS"), text);
            Assert.That(status, Is.EqualTo(0));
        }
    }
}
