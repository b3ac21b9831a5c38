using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

namespace Keel.BootTests
{
    /// <summary>
    /// One QEMU run of the kernel through tools/qemu-launch, serial console on stdio. Collects everything
    /// the guest prints, lets a test wait for text, type shell commands and read the exit status.
    /// Always killed on Dispose.
    /// </summary>
    public sealed class QemuGuest : IDisposable
    {
        /// <summary>Status QEMU returns after the guest writes 0 to isa-debug-exit ("exit 0").</summary>
        public const int ExitZeroStatus = 1;

        /// <summary>Status QEMU returns after a kernel panic (Panic.FailureExitValue = 3 → (3&lt;&lt;1)|1).</summary>
        public const int PanicStatus = 7;

        private readonly Process _process;
        private readonly StringBuilder _output = new StringBuilder();
        private readonly object _lock = new object();

        /// <summary>The microvm variants a test boots on: ACPI on (virtio-mmio devices in the DSDT) and off (on the
        /// command line), without the PIT, and without the RTC and PIC.</summary>
        public static readonly string[] MicrovmVariants = { "microvm", "microvm,acpi=off", "microvm,pit=off", "microvm,rtc=off,pic=off" };

        /// <summary>Starts QEMU through tools/qemu-launch with <paramref name="launchArguments"/>; <paramref name="machine"/>
        /// (a -M value such as <c>microvm,acpi=off</c>) replaces the launcher's default q35, and its NIC and
        /// <c>--rng</c> then sit on that machine's transport (virtio-mmio on microvm).</summary>
        public QemuGuest(IEnumerable<string> launchArguments, string netns = null, int timeoutSeconds = 120, string machine = null)
            : this(LaunchStart(launchArguments, netns, timeoutSeconds, machine))
        {
        }

        /// <summary>
        /// Runs any command that ends in QEMU with its serial console on stdio (tools/run-keel, `make run`):
        /// <paramref name="start"/> names the program, its arguments and environment; the streams are redirected here.
        /// </summary>
        public QemuGuest(ProcessStartInfo start)
        {
            start.RedirectStandardInput = true;
            start.RedirectStandardOutput = true;
            start.RedirectStandardError = true;
            start.UseShellExecute = false;
            if (string.IsNullOrEmpty(start.WorkingDirectory))
            {
                start.WorkingDirectory = Repository.Root;
            }
            _process = new Process { StartInfo = start };
            _process.ErrorDataReceived += (sender, e) => AppendLine(e.Data == null ? null : "[stderr] " + e.Data);
            _process.Start();
            _process.BeginErrorReadLine();
            // The serial console is read as raw characters: a shell prompt has no newline after it.
            _reader = new Thread(ReadConsole) { IsBackground = true, Name = "qemu-serial" };
            _reader.Start();
        }

        /// <summary>tools/qemu-launch with the kernel, the serial console on stdio, a timeout and these options.</summary>
        private static ProcessStartInfo LaunchStart(IEnumerable<string> launchArguments, string netns, int timeoutSeconds, string machine)
        {
            ProcessStartInfo start = new ProcessStartInfo();
            if (netns != null)
            {
                start.FileName = "ip";
                start.ArgumentList.Add("netns");
                start.ArgumentList.Add("exec");
                start.ArgumentList.Add(netns);
                start.ArgumentList.Add(Repository.QemuLaunch);
            }
            else
            {
                start.FileName = Repository.QemuLaunch;
            }
            start.ArgumentList.Add("--kernel");
            start.ArgumentList.Add(Repository.Kernel);
            start.ArgumentList.Add("--serial");
            start.ArgumentList.Add("stdio");
            start.ArgumentList.Add("--timeout");
            start.ArgumentList.Add(timeoutSeconds.ToString());
            if (machine != null)
            {
                start.ArgumentList.Add("--machine");
                start.ArgumentList.Add(machine);
            }
            foreach (string argument in launchArguments)
            {
                start.ArgumentList.Add(argument);
            }
            return start;
        }

        /// <summary>Everything printed so far (serial console and QEMU's stderr).</summary>
        public string Output
        {
            get
            {
                lock (_lock)
                {
                    return _output.ToString();
                }
            }
        }

        private readonly Thread _reader;

        private void ReadConsole()
        {
            char[] buffer = new char[4096];
            while (true)
            {
                int count;
                try
                {
                    count = _process.StandardOutput.Read(buffer, 0, buffer.Length);
                }
                catch (Exception)
                {
                    count = 0;
                }
                lock (_lock)
                {
                    if (count <= 0)
                    {
                        _consoleClosed = true;
                        Monitor.PulseAll(_lock);
                        return;
                    }
                    for (int i = 0; i < count; i++)
                    {
                        if (buffer[i] != '\r')
                        {
                            _output.Append(buffer[i]);
                        }
                    }
                    Monitor.PulseAll(_lock);
                }
            }
        }

        private bool _consoleClosed;

        private void AppendLine(string line)
        {
            if (line == null)
            {
                return;
            }
            lock (_lock)
            {
                _output.Append(line).Append('\n');
                Monitor.PulseAll(_lock);
            }
        }

        /// <summary>Waits until the output matches <paramref name="pattern"/>; returns the match or throws with the output.</summary>
        public Match WaitFor(string pattern, int timeoutSeconds = 30)
        {
            Regex regex = new Regex(pattern, RegexOptions.Multiline);
            DateTime deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
            lock (_lock)
            {
                while (true)
                {
                    Match match = regex.Match(_output.ToString());
                    if (match.Success)
                    {
                        return match;
                    }
                    TimeSpan left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero || _consoleClosed)
                    {
                        throw new TimeoutException("no match for /" + pattern + "/ within " + timeoutSeconds + " s; guest output:\n" + _output);
                    }
                    Monitor.Wait(_lock, left < TimeSpan.FromMilliseconds(200) ? left : TimeSpan.FromMilliseconds(200));
                }
            }
        }

        /// <summary>
        /// Waits for the "build id:" line and checks it is the id inside build/keel.elf (and the one tools/run-tests
        /// saw built, KEEL_BUILD_ID, when set): the kernel that booted is the one just built.
        /// </summary>
        public void AssertBuildId(int timeoutSeconds = 60)
        {
            string booted = WaitFor("^build id: ([0-9a-f]{16})$", timeoutSeconds).Groups[1].Value;
            string built = Repository.BuildIdOf(Repository.Kernel);
            if (booted != built)
            {
                throw new InvalidOperationException("booted build id " + booted + " is not build/keel.elf's " + built + "; output:\n" + Output);
            }
            string expected = Environment.GetEnvironmentVariable("KEEL_BUILD_ID");
            if (!string.IsNullOrEmpty(expected) && booted != expected)
            {
                throw new InvalidOperationException("booted build id " + booted + " is not the one just built, " + expected);
            }
        }

        /// <summary>Types these characters on the serial console as they are (a menu hotkey), no CR.</summary>
        public void SendKeys(string keys)
        {
            _process.StandardInput.Write(keys);
            _process.StandardInput.Flush();
        }

        /// <summary>Types a line on the serial console (CR terminated, as a terminal sends it).</summary>
        public void Send(string line)
        {
            _process.StandardInput.Write(line + "\r");
            _process.StandardInput.Flush();
        }

        /// <summary>Sends a shell command and waits for the next prompt; returns what the command printed.</summary>
        public string Command(string line, int timeoutSeconds = 30)
        {
            int before = Output.Length;
            Send(line);
            // The echo of the line, its output, then the next prompt.
            WaitForAfter(before, Regex.Escape(line) + "\n[\\s\\S]*?keel> ", timeoutSeconds);
            string text = Output.Substring(before);
            int start = text.IndexOf(line + "\n", StringComparison.Ordinal) + line.Length + 1;
            int end = text.IndexOf("keel> ", start, StringComparison.Ordinal);
            return text.Substring(start, end - start);
        }

        private void WaitForAfter(int offset, string pattern, int timeoutSeconds)
        {
            Regex regex = new Regex(pattern);
            DateTime deadline = DateTime.UtcNow.AddSeconds(timeoutSeconds);
            lock (_lock)
            {
                while (!regex.IsMatch(_output.ToString(offset, _output.Length - offset)))
                {
                    TimeSpan left = deadline - DateTime.UtcNow;
                    if (left <= TimeSpan.Zero || _consoleClosed)
                    {
                        throw new TimeoutException("no match for /" + pattern + "/ within " + timeoutSeconds + " s; guest output:\n" + _output);
                    }
                    Monitor.Wait(_lock, TimeSpan.FromMilliseconds(200));
                }
            }
        }

        /// <summary>Waits for QEMU to exit and returns its status (124 when the launcher's timeout killed it).</summary>
        public int WaitForExit(int timeoutSeconds = 60)
        {
            if (!_process.WaitForExit(timeoutSeconds * 1000))
            {
                Kill();
                throw new TimeoutException("QEMU still running after " + timeoutSeconds + " s; guest output:\n" + Output);
            }
            _process.WaitForExit();
            _reader.Join(5000);
            return _process.ExitCode;
        }

        public bool HasExited => _process.HasExited;

        private void Kill()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(true);
                    _process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
            }
        }

        public void Dispose()
        {
            Kill();
            _process.Dispose();
        }
    }
}
