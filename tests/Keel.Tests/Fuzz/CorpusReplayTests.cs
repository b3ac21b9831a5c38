using System;
using System.IO;
using NUnit.Framework;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// Every stored corpus input (seeds and what AFL++ kept) through its target, without AFL: no exception and no
    /// broken invariant. Runs in `make test`; docs/fuzzing.md says how the corpora are grown.
    /// </summary>
    public class CorpusReplayTests
    {
        private static readonly string[] Names = Array.ConvertAll(FuzzTargets.All, t => t.Name);

        [TestCaseSource(nameof(Names))]
        public void CorpusReplays(string name)
        {
            FuzzTarget target = FuzzTargets.Find(name);
            FuzzAction run = target.Create();
            int count = 0;
            foreach (string file in FuzzCorpus.Files(name))
            {
                byte[] input = File.ReadAllBytes(file);
                try
                {
                    run(input);
                }
                catch (Exception e)
                {
                    Assert.Fail(Path.GetFileName(file) + ": " + e);
                }
                count++;
            }
            Assert.That(count, Is.GreaterThan(0), "no stored corpus for " + name);
        }

        [Test]
        public void TargetNamesAreUnique()
        {
            Assert.That(Names, Is.Unique);
        }
    }
}
