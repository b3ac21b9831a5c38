using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using Keel.DocTests;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// docs/apps.md's walkthrough, as a reader runs it, on a copy of the tree: the C# file saved where the doc
    /// says, the one line (and its using) added to apps/Applications.cs, `make`, the doc's boot command
    /// (`make run NET=user FWD=...`), the doc's command that talks to the application from this machine, the
    /// application's shell command, `exit 0` (make run succeeds). The only change made to the doc's commands:
    /// the host side of the forwarded port is a free one (other runs may hold the doc's).
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class AppsWalkthroughTests
    {
        [Test]
        public void AppsGuideWalkthroughRunsAsWritten()
        {
            string doc = Path.Combine(Repository.Root, "docs", "apps.md");
            string text = File.ReadAllText(doc);
            string file = Match(text, "Save the file above as `(apps/[^`]+\\.cs)`", "where the file goes");
            string line = Match(text, "add one line to the array\\s+`Applications.CreateAll` returns in `apps/Applications.cs`, `([^`]+)`", "the one line");
            string usingLine = Match(text, "with\\s+`(using [^`]+;)` at the top of that file", "the using line");
            string boot = Walkthrough.MarkedBlock(doc, "apps, boot").Trim();
            string talk = Walkthrough.MarkedBlock(doc, "apps, talk").Trim();
            string code = Walkthrough.MarkedBlock(doc, "apps, file");
            Assert.That(code, Does.Contain("class " + Path.GetFileNameWithoutExtension(file)), "the file apps.md shows is not " + file);

            // The doc's forward FWD=tcp:HOST-:GUEST and the port its talk command uses (the host side).
            System.Text.RegularExpressions.Match fwd = Regex.Match(boot, "FWD=tcp:(\\d+)-:(\\d+)");
            Assert.That(fwd.Success, Is.True, "the boot command forwards no port: " + boot);
            string docPort = fwd.Groups[1].Value;
            Assert.That(talk, Does.Contain(" " + docPort), "the talk command does not use the forwarded port " + docPort);
            string port = UserNetworkFixture.FreePort().ToString();
            boot = boot.Replace("FWD=tcp:" + docPort + "-:", "FWD=tcp:" + port + "-:");
            talk = Regex.Replace(talk, "\\b" + docPort + "\\b", port);

            string tree = CopyTree();
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(tree, file)));
                File.WriteAllText(Path.Combine(tree, file), code);
                string applications = Path.Combine(tree, "apps", "Applications.cs");
                string list = File.ReadAllText(applications);
                System.Text.RegularExpressions.Match end = Regex.Match(list, "return new INetworkApplication\\[\\]\\s*\\{[^}]*?\\n(\\s*)\\};");
                Assert.That(end.Success, Is.True, "apps/Applications.cs has no application array:\n" + list);
                int at = end.Groups[1].Index;
                list = usingLine + "\n" + list.Substring(0, at) + end.Groups[1].Value + "    " + line + "\n" + list.Substring(at);
                File.WriteAllText(applications, list);

                (int status, string output) = Walkthrough.RunBash("make --no-print-directory", tree, new Dictionary<string, string>(), 1200);
                Assert.That(status, Is.EqualTo(0), "make failed with the new application:\n" + output);

                ProcessStartInfo start = new ProcessStartInfo("bash") { WorkingDirectory = tree };
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(boot);
                using QemuGuest guest = new QemuGuest(start);
                guest.WaitFor("127\\.0\\.0\\.1:" + port + " +-> guest tcp " + fwd.Groups[2].Value + " ", 120);
                guest.WaitFor("^keel> ", 180);
                (status, output) = Walkthrough.RunBash(talk, tree, new Dictionary<string, string>(), 60);
                Assert.That(status, Is.EqualTo(0), talk + "\n" + output + "\nguest:\n" + guest.Output);
                Assert.That(output.Trim(), Is.EqualTo("hello"), talk + "\nguest:\n" + guest.Output);
                string name = Match(text, "`(\\w+)` at the prompt then prints", "the application's command");
                string counters = guest.Command(name);
                Assert.That(counters, Does.Contain(Match(text, "at the prompt then prints `([^`]+)`", "what the command prints")), guest.Output);
                Assert.That(guest.Command("help"), Does.Contain(name), guest.Output);
                guest.Send("exit 0");
                Assert.That(guest.WaitForExit(60), Is.EqualTo(0), "make run after exit 0; output:\n" + guest.Output);
            }
            finally
            {
                Directory.Delete(tree, true);
            }
        }

        private static string Match(string text, string pattern, string what)
        {
            System.Text.RegularExpressions.Match match = Regex.Match(text, pattern);
            Assert.That(match.Success, Is.True, "docs/apps.md no longer says " + what + " (/" + pattern + "/)");
            return match.Groups[1].Value;
        }

        /// <summary>
        /// The repository's files (git's view: tracked and untracked, not ignored) with their times, and the kernel
        /// build's intermediate files, so `make` there rebuilds only what the new application changes.
        /// </summary>
        private static string CopyTree()
        {
            string tree = Path.Combine(Path.GetTempPath(), "keel-apps-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(tree);
            string script = "git ls-files -z --cached --others --exclude-standard | xargs -0 cp -a --parents -t \"$TREE\" 2>/dev/null || true\n" +
                            "mkdir -p \"$TREE/build\"\n" +
                            "for f in System.Private.CoreLib.dll layers boot keel.dll keel.o keel.elf buildid.o; do\n" +
                            "  [ -e \"build/$f\" ] && cp -a \"build/$f\" \"$TREE/build/\"\n" +
                            "done\n" +
                            "test -f \"$TREE/Makefile\"";
            (int status, string output) = Walkthrough.RunBash(script, Repository.Root, new Dictionary<string, string> { ["TREE"] = tree }, 300);
            Assert.That(status, Is.EqualTo(0), "copying the tree failed:\n" + output);
            return tree;
        }
    }
}
