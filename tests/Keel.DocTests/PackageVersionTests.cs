using System;
using System.Collections.Generic;
using System.IO;
using NUnit.Framework;

namespace Keel.DocTests
{
    /// <summary>
    /// What docs/porting.md promises of the package version (tools/pack-version, used by make pack): the same code
    /// gives the same version, any change to the packed code gives another, so no NuGet cache serves an old copy.
    /// </summary>
    [TestFixture]
    public sealed class PackageVersionTests
    {
        [Test]
        public void VersionChangesWithThePackedCodeOnly()
        {
            string copy = Path.Combine(Path.GetTempPath(), "keel-version-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(copy);
            try
            {
                Dictionary<string, string> environment = new Dictionary<string, string> { ["COPY"] = copy };
                (int status, string output) = Walkthrough.RunBash(
                    "cp -a --parents tools/pack-version drivers net apps projects LICENSE \"$COPY\"", DocExamples.Root, environment, 120);
                Assert.That(status, Is.EqualTo(0), output);
                string original = Version(DocExamples.Root);
                Assert.That(original, Does.Match("^0\\.1\\.0-g[0-9a-f]{12}$"));
                Assert.That(Version(copy), Is.EqualTo(original), "the same code in another place");
                File.WriteAllText(Path.Combine(copy, "README-not-packed.txt"), "not part of the packages");
                Assert.That(Version(copy), Is.EqualTo(original), "a file outside the packed folders");
                File.AppendAllText(Path.Combine(copy, "net", "NetStack.cs"), "\n// changed\n");
                string changed = Version(copy);
                Assert.That(changed, Is.Not.EqualTo(original), "a change to net/");
                File.WriteAllText(Path.Combine(copy, "apps", "Added.cs"), "// a new file\n");
                Assert.That(Version(copy), Is.Not.EqualTo(changed), "a file added to apps/");
            }
            finally
            {
                Directory.Delete(copy, true);
            }
        }

        private static string Version(string root)
        {
            (int status, string output) = Walkthrough.RunBash("tools/pack-version", root, new Dictionary<string, string>(), 60);
            Assert.That(status, Is.EqualTo(0), output);
            return output.Trim();
        }
    }
}
