using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// Set-up shared by the tests that boot the kernel on the namespace's tap at 198.18.0.2/24 and drive it with the
    /// host's iperf3.
    /// </summary>
    internal static class TapGuest
    {
        /// <summary>Boots the kernel with <paramref name="memory"/> on the tap of <paramref name="netns"/> and waits
        /// for the shell and for an answer to ping; on failure the guest is stopped before the assertion propagates.
        /// <paramref name="commandLine"/>: more kernel command-line options (e.g. <c>offload=csum</c>);
        /// <paramref name="machine"/>: a QEMU machine other than q35 (e.g. <c>microvm</c>).</summary>
        public static QemuGuest Boot(NetworkNamespace netns, string memory, int timeoutSeconds, string commandLine = null, string machine = null)
        {
            string append = commandLine == null ? "ip=198.18.0.2/24" : "ip=198.18.0.2/24 " + commandLine;
            QemuGuest guest = new QemuGuest(new[] { "-m", memory, "--tap", NetworkNamespace.Tap, "--append", append }, netns.Name, timeoutSeconds, machine);
            try
            {
                guest.WaitFor("^keel> ", 30);
                Assert.That(netns.WaitForPing(20), Is.True, "guest never answered ping; output:\n" + guest.Output);
            }
            catch
            {
                guest.Dispose();
                throw;
            }
            return guest;
        }

        /// <summary><paramref name="count"/> pings of <paramref name="size"/> bytes, 20 ms apart: every one must be answered.</summary>
        public static void AssertPings(NetworkNamespace netns, int count, int size)
        {
            (int status, string output) = netns.Exec(30, "ping", "-c", count.ToString(), "-i", "0.02", "-s", size.ToString(), NetworkNamespace.GuestAddress);
            Assert.That(status, Is.EqualTo(0), output);
            Assert.That(output, Does.Contain(" 0% packet loss"), output);
        }

        /// <summary>TCP both ways: <c>iperf3 -c</c> for <paramref name="seconds"/>, then with <c>-R</c>; both must finish.</summary>
        public static void AssertIperfBothWays(NetworkNamespace netns, QemuGuest guest, int seconds)
        {
            foreach (string direction in new[] { "", "-R" })
            {
                string[] iperf = direction.Length == 0
                    ? new[] { "-c", NetworkNamespace.GuestAddress, "-t", seconds.ToString() }
                    : new[] { "-c", NetworkNamespace.GuestAddress, "-t", seconds.ToString(), direction };
                (int status, string output) = netns.Exec(30 + 2 * seconds, "iperf3", iperf);
                Assert.That(status, Is.EqualTo(0), "iperf3 " + direction + ": " + output + "\n" + guest.Output);
                Assert.That(output, Does.Contain("receiver"), output);
            }
        }

        /// <summary>Runs <c>iperf3 -c</c> against the guest with <c>--json</c> and <paramref name="options"/>, inside
        /// <paramref name="netns"/>.</summary>
        public static (int Status, string Output) Iperf3Json(NetworkNamespace netns, int timeoutSeconds, string[] options)
        {
            string[] arguments = new string[options.Length + 3];
            arguments[0] = "-c";
            arguments[1] = NetworkNamespace.GuestAddress;
            arguments[2] = "--json";
            System.Array.Copy(options, 0, arguments, 3, options.Length);
            return netns.Exec(timeoutSeconds, "iperf3", arguments);
        }
    }
}
