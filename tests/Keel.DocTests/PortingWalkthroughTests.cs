using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.DocTests
{
    /// <summary>
    /// docs/porting.md as a reader follows it: the commands of its step 0 (make pack, a fresh `dotnet new console`
    /// project, a nuget.config with the local folder, `dotnet add package` at the packed version), the project
    /// setting it shows, every C# block as a file of that project, `dotnet build`. Nothing is added that the doc
    /// does not say: no extra usings, no unsafe switch of ours. A package cache of its own (NUGET_PACKAGES), so no
    /// older copy is ever taken.
    /// </summary>
    [TestFixture]
    public sealed class PortingWalkthroughTests
    {
        [Test]
        public void PortingGuideBuildsInAFreshConsoleProjectFromThePackedPackages()
        {
            string doc = Path.Combine(DocExamples.Root, "docs", "porting.md");
            string commands = Walkthrough.MarkedBlock(doc, "porting, commands");
            string setting = Walkthrough.MarkedBlock(doc, "porting, MyStack.csproj PropertyGroup");
            // The one line a reader changes: where their Keel checkout is.
            Regex keel = new Regex("^KEEL=\\S+", RegexOptions.Multiline);
            Assert.That(keel.IsMatch(commands), Is.True, "the commands no longer set KEEL=<checkout>:\n" + commands);
            commands = keel.Replace(commands, "KEEL='" + DocExamples.Root + "'", 1);

            string work = Path.Combine(Path.GetTempPath(), "keel-porting-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(work);
            try
            {
                Dictionary<string, string> environment = new Dictionary<string, string>
                {
                    ["NUGET_PACKAGES"] = Path.Combine(work, "packages"),
                    ["DOTNET_NOLOGO"] = "1",
                    ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
                };
                (int status, string output) = Walkthrough.RunBash(commands, work, environment, 900);
                Assert.That(status, Is.EqualTo(0), "porting.md step 0 failed:\n" + commands + "\n---\n" + output);

                string project = Path.Combine(work, "MyStack");
                string csproj = Path.Combine(project, "MyStack.csproj");
                string text = File.ReadAllText(csproj);
                string version = File.ReadAllText(Path.Combine(DocExamples.Root, "build", "nuget", "version")).Trim();
                Assert.That(text, Does.Contain("Include=\"Keel.Net\" Version=\"" + version + "\""), text);
                Assert.That(text, Does.Contain("Include=\"Keel.Apps\" Version=\"" + version + "\""), text);
                Assert.That(text, Does.Not.Contain("ProjectReference"), text);
                int at = text.IndexOf("</PropertyGroup>", StringComparison.Ordinal);
                Assert.That(at, Is.GreaterThan(0), text);
                File.WriteAllText(csproj, text.Insert(at, setting));

                List<DocExamples.Block> blocks = DocExamples.Blocks().Where(b => b.File == "docs/porting.md").ToList();
                Assert.That(blocks.Count, Is.GreaterThanOrEqualTo(4), "porting.md lost its C# blocks");
                foreach (DocExamples.Block block in blocks)
                {
                    File.WriteAllText(Path.Combine(project, "Porting" + block.Line + ".cs"), block.Code);
                }
                (status, output) = Walkthrough.RunBash("dotnet build", project, environment, 900);
                Assert.That(status, Is.EqualTo(0), "porting.md's code does not build in a fresh console project:\n" + output);
                // The library came from the packages just made, restored into this test's own cache.
                Assert.That(Directory.Exists(Path.Combine(work, "packages", "keel.net", version)), Is.True, output);
            }
            finally
            {
                Directory.Delete(work, true);
            }
        }
    }
}
