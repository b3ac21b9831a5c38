using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.DocTests
{
    /// <summary>`make help` lists every target of the Makefile with one line each, and README's "Make targets" table lists the same ones.</summary>
    [TestFixture]
    public sealed class MakeTargetsTests
    {
        [Test]
        public void MakeHelpListsEveryTargetAndReadmeTableMatches()
        {
            (int status, string help) = Walkthrough.RunBash("make --no-print-directory -s help", DocExamples.Root, new Dictionary<string, string>(), 60);
            Assert.That(status, Is.EqualTo(0), help);
            List<string> helpLines = help.Split('\n').Where(l => l.Trim().Length > 0).ToList();
            List<string> fromHelp = helpLines.Select(l => Regex.Match(l, "^  make (\\S+) +\\S").Groups[1].Value).ToList();
            Assert.That(fromHelp, Has.None.Empty, "a line of make help is not '  make TARGET  what':\n" + help);

            string makefile = File.ReadAllText(Path.Combine(DocExamples.Root, "Makefile"));
            List<string> rules = Regex.Matches(makefile, "^([a-z][a-z-]*):(?!=)", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
            Assert.That(fromHelp, Is.EquivalentTo(rules), "make help:\n" + help);

            string readme = File.ReadAllText(Path.Combine(DocExamples.Root, "README.md"));
            int at = readme.IndexOf("## Make targets", System.StringComparison.Ordinal);
            Assert.That(at, Is.GreaterThanOrEqualTo(0), "README has no Make targets section");
            string section = readme.Substring(at, readme.IndexOf("\n## ", at + 3, System.StringComparison.Ordinal) - at);
            List<string> fromReadme = new List<string>();
            foreach (Match row in Regex.Matches(section, "^\\| ([^|]*) \\|", RegexOptions.Multiline))
            {
                foreach (Match target in Regex.Matches(row.Groups[1].Value, "`make ([a-z-]+)`"))
                {
                    fromReadme.Add(target.Groups[1].Value);
                }
            }
            Assert.That(fromReadme, Is.EquivalentTo(rules), "README's Make targets table:\n" + section);
        }
    }
}
