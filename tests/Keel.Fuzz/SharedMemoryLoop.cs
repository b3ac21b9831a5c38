using System;
using System.Runtime.InteropServices;
using Keel.Tests.Fuzz;

namespace Keel.Fuzz
{
    /// <summary>
    /// AFL++'s persistent loop with the input in shared memory, for the fast parser targets whose own work is a
    /// fraction of a microsecond. SharpFuzz's <c>Fuzzer.Run</c> takes each input through a file: AFL++ rewrites
    /// and truncates the file before every execution (four system calls) and the target reads it back (two more),
    /// on top of the control and status pipes; on this machine every system call costs several microseconds.
    /// Here the coverage still comes from SharpFuzz's instrumentation (its trace map is pointed at AFL++'s), but
    /// the fork-server handshake asks AFL++ for its shared-memory test cases (<c>__AFL_SHM_FUZZ_ID</c>: a 32-bit
    /// length, then the bytes), so an execution costs the two pipe messages only. AFL++ offers this only when
    /// it can do it (afl-fuzz 4 always does); without it the driver falls back to <c>Fuzzer.Run</c>.
    ///
    /// The protocol (AFL++'s fork server, as its afl-forkserver.c reads it): the target writes a 32-bit hello
    /// with the option bits it wants on the status pipe (fd 199) and reads AFL++'s answer on the control pipe
    /// (fd 198); then for every execution it reads 32 bits from the control pipe, writes its process id and,
    /// after the run, a wait status (0, or that of a process killed by SIGABRT for a crash) on the status pipe.
    /// A timeout is AFL++ killing the process and starting it again.
    /// </summary>
    internal static unsafe class SharedMemoryLoop
    {
        private const int ControlFd = 198;
        private const int StatusFd = 199;
        private const uint OptionsEnabled = 0x80000001;
        private const uint SharedMemoryInput = 0x01000000;
        private const int MapSize = 1 << 16;
        private const int CrashStatus = 6; // the wait status of a process killed by SIGABRT

        /// <summary>Whether AFL++ offers shared-memory test cases to this process.</summary>
        public static bool Offered =>
            int.TryParse(Environment.GetEnvironmentVariable("__AFL_SHM_ID"), out _)
            && int.TryParse(Environment.GetEnvironmentVariable("__AFL_SHM_FUZZ_ID"), out _);

        public static void Run(FuzzAction run)
        {
            byte* map = Attach("__AFL_SHM_ID");
            byte* input = Attach("__AFL_SHM_FUZZ_ID");
            SharpFuzz.Common.Trace.SharedMem = map;
            SharpFuzz.Common.Trace.PrevLocation = 0;

            uint word = OptionsEnabled | SharedMemoryInput;
            Write(StatusFd, word);
            Read(ControlFd); // AFL++'s acknowledgement of the options
            int pid = Environment.ProcessId;
            bool first = true;
            while (true)
            {
                Read(ControlFd);
                Write(StatusFd, (uint)pid);
                uint length = *(uint*)input;
                var bytes = new ReadOnlySpan<byte>(input + 4, (int)Math.Min(length, 1u << 20));
                if (first)
                {
                    // The first run takes every one-time path (static constructors, the target's set-up); AFL++
                    // would see it differ from every later run of the same input and call the target unstable.
                    Execute(run, bytes);
                    new Span<byte>(map, MapSize).Clear();
                    first = false;
                }
                SharpFuzz.Common.Trace.PrevLocation = 0;
                Write(StatusFd, Execute(run, bytes) ? 0u : CrashStatus);
            }
        }

        private static bool Execute(FuzzAction run, ReadOnlySpan<byte> bytes)
        {
            try
            {
                run(bytes);
                return true;
            }
            catch
            {
                return false;
            }
        }

        private static byte* Attach(string variable)
        {
            int id = int.Parse(Environment.GetEnvironmentVariable(variable));
            nint address = shmat(id, 0, 0);
            if (address == -1)
            {
                throw new InvalidOperationException("shmat " + variable + " failed: " + Marshal.GetLastPInvokeError());
            }
            return (byte*)address;
        }

        private static void Read(int fd)
        {
            uint word;
            if (read(fd, &word, 4) != 4)
            {
                Environment.Exit(0); // AFL++ has gone
            }
        }

        private static void Write(int fd, uint word)
        {
            if (write(fd, &word, 4) != 4)
            {
                Environment.Exit(0);
            }
        }

        [DllImport("libc", SetLastError = true)]
        private static extern nint shmat(int id, nint address, int flags);

        [DllImport("libc")]
        private static extern nint read(int fd, void* buffer, nint count);

        [DllImport("libc")]
        private static extern nint write(int fd, void* buffer, nint count);
    }
}
