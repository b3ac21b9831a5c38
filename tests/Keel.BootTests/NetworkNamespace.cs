using System;
using System.Diagnostics;
using System.Text;
using System.Threading;

namespace Keel.BootTests
{
    /// <summary>
    /// A private network namespace with a tap device whose host end is 198.18.0.1/24 (RFC 2544 range), and, when
    /// asked, 2001:db8:1::1/64 (RFC 3849 documentation range) and a link-local address.
    /// QEMU, ping, iperf3 and framegen all run inside it; Dispose kills what runs there and deletes it.
    /// Nothing is bridged to a real interface.
    /// </summary>
    public sealed class NetworkNamespace : IDisposable
    {
        public const string HostAddress = "198.18.0.1";
        public const string GuestAddress = "198.18.0.2";
        public const string Tap = "ktap0";
        public const string HostAddress6 = "2001:db8:1::1";

        private static int s_counter;

        /// <summary>Creating namespaces and taps needs root: without it the calling test is skipped (not failed).</summary>
        public const string NeedsRootMessage = "needs root (network namespace + tap); run make test as root";

        /// <summary>Makes the namespace; <paramref name="ipv6"/> leaves IPv6 on in it and gives the tap <see cref="HostAddress6"/>/64.</summary>
        public NetworkNamespace(bool ipv6 = false)
        {
            if (!Environment.IsPrivilegedProcess)
            {
                NUnit.Framework.Assert.Ignore(NeedsRootMessage);
            }
            Name = "keel-t" + Environment.ProcessId + "-" + Interlocked.Increment(ref s_counter);
            Run("ip", "netns", "add", Name);
            Run("ip", "-n", Name, "link", "set", "lo", "up");
            Run("ip", "-n", Name, "tuntap", "add", "dev", Tap, "mode", "tap");
            Exec(10, "sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=" + (ipv6 ? "0" : "1"));
            Run("ip", "-n", Name, "addr", "add", HostAddress + "/24", "dev", Tap);
            if (ipv6)
            {
                Run("ip", "-n", Name, "-6", "addr", "add", HostAddress6 + "/64", "dev", Tap, "nodad");
            }
            Run("ip", "-n", Name, "link", "set", Tap, "up");
        }

        public string Name { get; }

        /// <summary>Runs a command inside the namespace; returns exit status and combined output.</summary>
        public (int Status, string Output) Exec(int timeoutSeconds, string file, params string[] arguments)
        {
            string[] all = new string[arguments.Length + 4];
            all[0] = "netns";
            all[1] = "exec";
            all[2] = Name;
            all[3] = file;
            Array.Copy(arguments, 0, all, 4, arguments.Length);
            return RunProcess(timeoutSeconds, "ip", all);
        }

        /// <summary>Starts a command inside the namespace in the background.</summary>
        public Process Start(string file, params string[] arguments)
        {
            ProcessStartInfo start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("netns");
            start.ArgumentList.Add("exec");
            start.ArgumentList.Add(Name);
            start.ArgumentList.Add(file);
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            return Process.Start(start);
        }

        /// <summary>Pings the guest until it answers or the time runs out.</summary>
        public bool WaitForPing(int timeoutSeconds)
        {
            DateTime deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
            while (DateTime.UtcNow < deadline)
            {
                if (Exec(5, "ping", "-c", "1", "-W", "1", GuestAddress).Status == 0)
                {
                    return true;
                }
                Thread.Sleep(200);
            }
            return false;
        }

        private static void Run(params string[] command)
        {
            string[] arguments = new string[command.Length - 1];
            Array.Copy(command, 1, arguments, 0, arguments.Length);
            (int status, string output) = RunProcess(20, command[0], arguments);
            if (status != 0)
            {
                throw new InvalidOperationException(string.Join(" ", command) + " failed: " + output);
            }
        }

        internal static (int, string) RunProcess(int timeoutSeconds, string file, params string[] arguments)
        {
            ProcessStartInfo start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            using Process process = Process.Start(start);
            StringBuilder output = new StringBuilder();
            process.OutputDataReceived += (s, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
            process.ErrorDataReceived += (s, e) => { if (e.Data != null) lock (output) output.AppendLine(e.Data); };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            if (!process.WaitForExit(timeoutSeconds * 1000))
            {
                process.Kill(true);
                process.WaitForExit();
                lock (output) return (124, output.ToString() + "\n(timed out after " + timeoutSeconds + " s)");
            }
            process.WaitForExit();
            lock (output) return (process.ExitCode, output.ToString());
        }

        public void Dispose()
        {
            (int _, string pids) = RunProcess(10, "ip", "netns", "pids", Name);
            foreach (string pid in pids.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                RunProcess(5, "kill", "-9", pid);
            }
            RunProcess(10, "ip", "netns", "del", Name);
        }
    }
}
