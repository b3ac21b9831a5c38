using System;
using System.Diagnostics;
using System.IO;
using System.Text.RegularExpressions;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// The build itself: the kernel that boots is the one just built (its build id), and `make test` goes red
    /// when the kernel does not compile instead of testing an old build/keel.elf.
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class BuildTests
    {
        [Test]
        public void BootedKernelIsTheOneJustBuilt()
        {
            string inImage = Repository.BuildIdOf(Repository.Kernel);
            Assert.That(inImage, Does.Match("^[0-9a-f]{16}$"), "no KEEL-BUILD-ID in " + Repository.Kernel);
            string expected = Environment.GetEnvironmentVariable("KEEL_BUILD_ID");
            if (!string.IsNullOrEmpty(expected))
            {
                // Set by tools/run-tests right after its `make all` succeeded.
                Assert.That(inImage, Is.EqualTo(expected), "build/keel.elf changed since the build step");
            }
            using QemuGuest guest = new QemuGuest(new[] { "-m", "128M" });
            guest.AssertBuildId();
            guest.WaitFor("^keel> ", 20);
            guest.Send("exit 0");
            Assert.That(guest.WaitForExit(), Is.EqualTo(QemuGuest.ExitZeroStatus), guest.Output);
        }

        /// <summary>
        /// A copy of the repository with a compile error in kernel-only code (kernel/Kernel.cs is not part of the
        /// host build) and an old build/keel.elf next to it: `make test` must fail at its build step and run no test.
        /// </summary>
        [Test]
        public void MakeTestFailsWhenTheKernelDoesNotCompile()
        {
            string copy = Path.Combine(Path.GetTempPath(), "keel-broken-" + Environment.ProcessId);
            try
            {
                CopyRepository(Repository.Root, copy);
                string kernelFile = Path.Combine(copy, "kernel", "Kernel.cs");
                File.AppendAllText(kernelFile, "\nnamespace Keel.Kernel { internal static class DeliberateBuildBreak { internal static int Value = \"not a number\"; } }\n");
                string staleKernel = Path.Combine(copy, "build", "keel.elf");
                byte[] before = File.ReadAllBytes(staleKernel);

                (int status, string output) = Run(copy, 600, "make", "--no-print-directory", "test");

                Assert.That(status, Is.Not.EqualTo(0), output);
                Assert.That(output, Does.Contain("build: FAILED"), output);
                Assert.That(output, Does.Contain("error CS0029"), output);
                Assert.That(output, Does.Match("(?m)^0 passed, 1 failed(, [0-9]+ skipped)?$"), output);
                Assert.That(output, Does.Not.Contain("== qemu").And.Not.Contain("== unit"), output);
                Assert.That(File.ReadAllBytes(staleKernel), Is.EqualTo(before), "the old kernel image was touched");
            }
            finally
            {
                if (Directory.Exists(copy))
                {
                    Directory.Delete(copy, true);
                }
            }
        }

        /// <summary>Copies the files git knows (tracked and new, not ignored) and the current build/ outputs, keeping times.</summary>
        private static void CopyRepository(string from, string to)
        {
            if (Directory.Exists(to))
            {
                Directory.Delete(to, true);
            }
            Directory.CreateDirectory(to);
            (int status, string list) = Run(from, 60, "git", "ls-files", "-co", "--exclude-standard", "-z");
            Assert.That(status, Is.EqualTo(0), list);
            foreach (string relative in list.Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                CopyFile(from, to, relative);
            }
            foreach (string built in new[] { "build/System.Private.CoreLib.dll", "build/keel.elf" })
            {
                CopyFile(from, to, built);
            }
        }

        private static void CopyFile(string from, string to, string relative)
        {
            string source = Path.Combine(from, relative);
            if (!File.Exists(source))
            {
                return;
            }
            string target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target));
            File.Copy(source, target);
            File.SetLastWriteTimeUtc(target, File.GetLastWriteTimeUtc(source));
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, File.GetUnixFileMode(source));
            }
        }

        private static (int Status, string Output) Run(string directory, int timeoutSeconds, string file, params string[] arguments)
        {
            ProcessStartInfo start = new ProcessStartInfo(file)
            {
                WorkingDirectory = directory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
            // The outer run's build id and make state must not leak into the copy's run.
            start.Environment.Remove("KEEL_BUILD_ID");
            start.Environment.Remove("MAKEFLAGS");
            start.Environment.Remove("MAKELEVEL");
            using Process process = Process.Start(start);
            System.Threading.Tasks.Task<string> stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(timeoutSeconds * 1000))
            {
                process.Kill(true);
                Assert.Fail(file + " did not finish within " + timeoutSeconds + " s:\n" + stdout);
            }
            process.WaitForExit();
            return (process.ExitCode, stdout + stderr.Result);
        }
    }
}
