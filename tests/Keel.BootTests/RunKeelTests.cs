using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.RegularExpressions;
using Keel.DocTests;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// `make run` and tools/run-keel as people start them: on the tap (root) and on QEMU's user network, as root
    /// and as a normal user (nobody, through runuser, when the tests run as root; as themselves otherwise). Each
    /// exits with the guest's `exit N` status; `make run` succeeds after `exit 0` and fails after `exit N`. The
    /// banner lists what QEMU really forwards (FWD adds to the defaults, restrict=on stays), and every program it
    /// tells the user to run is installed by tools/setup.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class RunKeelTests
    {
        private const int GuestStatus = 3;

        private static bool IsRoot => Environment.IsPrivilegedProcess;

        /// <summary><paramref name="file"/> with these variables, run as <paramref name="user"/> (runuser) or as ourselves (null).</summary>
        private static ProcessStartInfo Start(string user, IDictionary<string, string> environment, string file, params string[] arguments)
        {
            ProcessStartInfo start = new ProcessStartInfo { WorkingDirectory = Repository.Root };
            List<string> words = new List<string>();
            if (user == null)
            {
                start.FileName = file;
                foreach (KeyValuePair<string, string> variable in environment)
                {
                    start.Environment[variable.Key] = variable.Value;
                }
            }
            else
            {
                start.FileName = "runuser";
                words.AddRange(new[] { "-u", user, "--", "env" });
                words.AddRange(environment.Select(v => v.Key + "=" + v.Value));
                words.Add(file);
            }
            words.AddRange(arguments);
            foreach (string word in words)
            {
                start.ArgumentList.Add(word);
            }
            return start;
        }

        private static string RunKeel => Path.Combine(Repository.Root, "tools", "run-keel");

        private static Dictionary<string, string> UserNet(string fwd = null)
        {
            Dictionary<string, string> environment = new Dictionary<string, string> { ["NET"] = "user" };
            if (fwd != null)
            {
                environment["FWD"] = fwd;
            }
            return environment;
        }

        /// <summary>Boots through <paramref name="start"/>, types `exit N` at the prompt; returns the status and everything printed.</summary>
        private static (int Status, string Output) BootAndExit(ProcessStartInfo start, int guestStatus, Action<QemuGuest> atPrompt = null)
        {
            using QemuGuest guest = new QemuGuest(start);
            guest.WaitFor("^keel> ", 180);
            atPrompt?.Invoke(guest);
            guest.Send("exit " + guestStatus);
            int status = guest.WaitForExit(60);
            return (status, guest.Output);
        }

        /// <summary>
        /// tools/run-keel, what it runs and the kernel, copied where nobody can read them (the checkout may sit in a
        /// directory only root can enter): run-keel finds the rest from its own place, as in a user's clone.
        /// </summary>
        private static string TreeForNobody()
        {
            string tree = Path.Combine(Path.GetTempPath(), "keel-nobody-" + Guid.NewGuid().ToString("N"));
            (int status, string output) = Walkthrough.RunBash(
                "mkdir -p \"$TREE\" && cp --parents tools/run-keel tools/qemu-launch tools/netns.sh build/keel.elf \"$TREE\" && chmod -R a+rX \"$TREE\"",
                Repository.Root, new Dictionary<string, string> { ["TREE"] = tree }, 60);
            Assert.That(status, Is.EqualTo(0), output);
            return tree;
        }

        private static void NeedsRoot()
        {
            if (!IsRoot)
            {
                Assert.Ignore(NetworkNamespace.NeedsRootMessage);
            }
        }

        [Test]
        public void UserNetworkRunKeelExitsWithTheGuestStatusAndForwardsFwd()
        {
            int port = UserNetworkFixture.FreePort();
            (int status, string output) = BootAndExit(Start(null, UserNet("tcp:" + port + "-:7"), RunKeel), GuestStatus, guest =>
            {
                // The extra forward reaches the guest: the built-in echo (port 7) answers on it.
                UserNetworkFixture.AssertEchoes(port, "hello through FWD\n", guest);
            });
            Assert.That(output, Does.Match("127\\.0\\.0\\.1:" + port + " +-> guest tcp 7 "), output);
            Assert.That(status, Is.EqualTo(GuestStatus), output);
            Assert.That(output, Does.Contain("run-keel: guest exited with status " + GuestStatus), output);
        }

        [Test]
        public void UserNetworkRunKeelAsANormalUserExitsWithTheGuestStatus()
        {
            // As root: the same script as nobody. As a normal user the test above already is that case.
            NeedsRoot();
            string tree = TreeForNobody();
            try
            {
                ProcessStartInfo start = Start("nobody", UserNet(), Path.Combine(tree, "tools", "run-keel"));
                start.WorkingDirectory = tree;
                (int status, string output) = BootAndExit(start, GuestStatus);
                Assert.That(status, Is.EqualTo(GuestStatus), output);
            }
            finally
            {
                Directory.Delete(tree, true);
            }
        }

        [Test]
        public void MakeRunUserNetworkSucceedsAfterExitZeroAndFailsAfterExitN()
        {
            (int status, string output) = BootAndExit(Start(null, new Dictionary<string, string>(), "make", "--no-print-directory", "run", "NET=user"), 0);
            Assert.That(status, Is.EqualTo(0), output);
            (status, output) = BootAndExit(Start(null, new Dictionary<string, string>(), "make", "--no-print-directory", "run", "NET=user"), GuestStatus);
            Assert.That(status, Is.Not.EqualTo(0), output);
            Assert.That(output, Does.Contain("run-keel: guest exited with status " + GuestStatus), output);
            Assert.That(output, Does.Contain("Error " + GuestStatus), output);
        }

        [Test]
        public void TapRunKeelExitsWithTheGuestStatusAndMakeRunSucceedsAfterExitZero()
        {
            NeedsRoot();
            (int status, string output) = BootAndExit(Start(null, new Dictionary<string, string>(), RunKeel), GuestStatus);
            Assert.That(status, Is.EqualTo(GuestStatus), output);
            Assert.That(output, Does.Contain("ip netns exec keel-run-"), output);
            (status, output) = BootAndExit(Start(null, new Dictionary<string, string>(), "make", "--no-print-directory", "run"), 0);
            Assert.That(status, Is.EqualTo(0), output);
        }

        [Test]
        public void TapAsANormalUserSaysItNeedsRootAndPointsToNetUser()
        {
            string tree = IsRoot ? TreeForNobody() : Repository.Root;
            try
            {
                (int status, string output) = Walkthrough.RunBash(
                    (IsRoot ? "runuser -u nobody -- " : "") + "tools/run-keel", tree, new Dictionary<string, string>(), 60);
                Assert.That(status, Is.EqualTo(1), output);
                Assert.That(output, Does.Contain("needs root").And.Contain("make run NET=user"), output);
            }
            finally
            {
                if (IsRoot)
                {
                    Directory.Delete(tree, true);
                }
            }
        }

        /// <summary>The dry run prints the banner and then the exact QEMU command: both name the same forwards.</summary>
        [Test]
        public void BannerListsExactlyTheForwardsQemuGets()
        {
            (int status, string output) = Walkthrough.RunBash("tools/run-keel --dry-run", Repository.Root,
                new Dictionary<string, string> { ["NET"] = "user", ["FWD"] = "tcp:7119-:19,udp:7120-:7120" }, 60);
            Assert.That(status, Is.EqualTo(0), output);
            string netdev = Regex.Match(output, "-netdev (user,\\S+)").Groups[1].Value;
            Assert.That(netdev, Does.Contain(",restrict=on,"), output);
            MatchCollection forwards = Regex.Matches(netdev, "hostfwd=(tcp|udp):127\\.0\\.0\\.1:(\\d+)-:(\\d+)");
            List<string> fromQemu = forwards.Select(m => m.Groups[2].Value + " " + m.Groups[1].Value + " " + m.Groups[3].Value).ToList();
            // Defaults kept (iperf3 TCP+UDP 5201, echo 7) and the FWD ones added.
            Assert.That(fromQemu.Select(f => f.Split(' ')[1] + " " + f.Split(' ')[2]),
                Is.EquivalentTo(new[] { "tcp 5201", "udp 5201", "tcp 7", "tcp 19", "udp 7120" }), output);
            Assert.That(fromQemu, Does.Contain("7119 tcp 19").And.Contain("7120 udp 7120"), output);
            // The banner: one line per host port, naming the guest protocol(s) and port QEMU forwards it to.
            List<string> fromBanner = new List<string>();
            foreach (Match line in Regex.Matches(output, "127\\.0\\.0\\.1:(\\d+) +-> guest (tcp\\+udp|tcp|udp) (\\d+)"))
            {
                foreach (string protocol in line.Groups[2].Value.Split('+'))
                {
                    fromBanner.Add(line.Groups[1].Value + " " + protocol + " " + line.Groups[3].Value);
                }
            }
            Assert.That(fromBanner, Is.EquivalentTo(fromQemu), output);
            Assert.That(output, Does.Contain("restrict=on"), output);
        }

        [Test]
        public void NetUserRefusesItsOwnNetworkOptions()
        {
            (int status, string output) = Walkthrough.RunBash("tools/run-keel --net user,hostfwd=tcp:127.0.0.1:7000-:7 --dry-run", Repository.Root,
                new Dictionary<string, string> { ["NET"] = "user" }, 60);
            Assert.That(status, Is.EqualTo(2), output);
            Assert.That(output, Does.Contain("FWD="), output);
            (status, output) = Walkthrough.RunBash("tools/run-keel --dry-run", Repository.Root,
                new Dictionary<string, string> { ["NET"] = "user", ["FWD"] = "7000:7" }, 60);
            Assert.That(status, Is.EqualTo(2), output);
        }

        /// <summary>Every program the banners (user network and tap) tell the user to run comes from a package tools/setup installs.</summary>
        [Test]
        public void BannerSuggestsOnlyProgramsSetupInstalls()
        {
            string banners = Walkthrough.RunBash("tools/run-keel --dry-run", Repository.Root, UserNet(), 60).Output;
            if (IsRoot)
            {
                banners += Walkthrough.RunBash("tools/run-keel --dry-run", Repository.Root, new Dictionary<string, string>(), 60).Output;
                Assert.That(banners, Does.Contain("ip netns exec"), banners);
            }
            // Commands sit after "label: " or at the start of an indented line, or after "netns exec NAME".
            HashSet<string> words = new HashSet<string>();
            foreach (string line in banners.Split('\n').Where(l => !l.StartsWith("qemu-system", StringComparison.Ordinal)))
            {
                foreach (Match m in Regex.Matches(line, "(?:^\\s+|:\\s+|netns exec \\S+ )([a-z][a-z0-9]*) "))
                {
                    words.Add(m.Groups[1].Value);
                }
            }
            string setup = File.ReadAllText(Path.Combine(Repository.Root, "tools", "setup"));
            List<string> programs = new List<string>();
            foreach (string word in words)
            {
                (int found, string path) = Walkthrough.RunBash("p=$(command -v " + word + ") && [ \"${p#/}\" != \"$p\" ] && readlink -f \"$p\"", Repository.Root, new Dictionary<string, string>(), 10);
                if (found != 0)
                {
                    continue; // not a program (a word of the text, a shell builtin)
                }
                path = path.Trim();
                programs.Add(word);
                string package = null;
                foreach (string candidate in new[] { path, Regex.Replace(path, "^/usr/", "/") })
                {
                    (int owned, string owner) = Walkthrough.RunBash("dpkg -S '" + candidate + "'", "/", new Dictionary<string, string>(), 10);
                    if (owned == 0)
                    {
                        package = owner.Split(':')[0].Trim();
                        break;
                    }
                }
                Assert.That(package, Is.Not.Null, word + " (" + path + ") belongs to no Debian package");
                Assert.That(setup, Does.Match("PKGS\\+?=\\([^)]*\\b" + Regex.Escape(package) + "\\b"), word + " comes from " + package + ", which tools/setup does not install");
            }
            Assert.That(programs, Does.Contain("iperf3").And.Contain("nc"), "banners:\n" + banners);
        }
    }
}
