using System;
using System.IO;
using Keel.Tests.Fuzz;

namespace Keel.Fuzz
{
    /// <summary>
    /// The AFL++ driver of the fuzz targets (tests/Keel.Tests/Fuzz; docs/fuzzing.md):
    ///   Keel.Fuzz list                  the targets, one a line
    ///   Keel.Fuzz run TARGET            under afl-fuzz: an in-process loop, one input per execution, the input in
    ///                                   AFL++'s shared memory (SharedMemoryLoop; KEEL_FUZZ_STDIN=1, or a tool that
    ///                                   does not offer it: SharpFuzz's Fuzzer.Run, the input on standard input)
    ///   Keel.Fuzz replay TARGET FILE... runs inputs once each, prints what fails (exit 1 when one does)
    ///   Keel.Fuzz seed DIRECTORY        writes the built seeds to DIRECTORY/TARGET/NAME
    ///   Keel.Fuzz time TARGET FILE...   runs the inputs round and round for about 5 s, prints inputs/s (no AFL)
    /// </summary>
    public static class Program
    {
        public static unsafe int Main(string[] args)
        {
            // The instrumented assemblies count every branch in SharpFuzz's trace map, which AFL++ provides under
            // afl-fuzz; replay and time on the instrumented build (outside AFL++) count into a scratch map.
            if (SharpFuzz.Common.Trace.SharedMem == null)
            {
                SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(1 << 16);
            }
            string command = args.Length > 0 ? args[0] : "";
            switch (command)
            {
                case "list":
                    foreach (FuzzTarget t in FuzzTargets.All)
                    {
                        Console.WriteLine(t.Name + "\t" + t.Description);
                    }
                    return 0;
                case "run" when args.Length == 2:
                    return Run(args[1]);
                case "replay" when args.Length >= 3:
                    return Replay(args[1], args.AsSpan(2));
                case "time" when args.Length >= 3:
                    return Time(args[1], args.AsSpan(2));
                case "seed" when args.Length == 2:
                    return Seed(args[1]);
                default:
                    Console.Error.WriteLine("usage: Keel.Fuzz list | run TARGET | replay TARGET FILE... | time TARGET FILE... | seed DIRECTORY");
                    return 2;
            }
        }

        private static FuzzTarget Find(string name)
        {
            FuzzTarget target = FuzzTargets.Find(name);
            if (target == null)
            {
                Console.Error.WriteLine("Keel.Fuzz: no target '" + name + "' (Keel.Fuzz list)");
            }
            return target;
        }

        private static int Run(string name)
        {
            FuzzTarget target = Find(name);
            if (target == null)
            {
                return 2;
            }
            FuzzAction run = target.Create();
            if (SharedMemoryLoop.Offered && Environment.GetEnvironmentVariable("KEEL_FUZZ_STDIN") == null)
            {
                SharedMemoryLoop.Run(run);
                return 0;
            }
            MemoryStream buffer = new MemoryStream();
            SharpFuzz.Fuzzer.Run(stream =>
            {
                buffer.SetLength(0);
                stream.CopyTo(buffer);
                run(new ReadOnlySpan<byte>(buffer.GetBuffer(), 0, (int)buffer.Length));
            });
            return 0;
        }

        private static int Replay(string name, ReadOnlySpan<string> files)
        {
            FuzzTarget target = Find(name);
            if (target == null)
            {
                return 2;
            }
            int failed = 0;
            FuzzAction run = target.Create();
            foreach (string file in files)
            {
                try
                {
                    run(File.ReadAllBytes(file));
                }
                catch (Exception e)
                {
                    failed++;
                    Console.WriteLine(file + ": " + e);
                }
            }
            Console.WriteLine(name + ": " + files.Length + " inputs, " + failed + " failed");
            return failed == 0 ? 0 : 1;
        }

        /// <summary>
        /// The target's own speed, without AFL's fork server and map: the inputs run round and round (after one
        /// warm-up pass) for about five seconds; the CPU time per input is the figure to compare on a loaded host.
        /// </summary>
        private static int Time(string name, ReadOnlySpan<string> files)
        {
            FuzzTarget target = Find(name);
            if (target == null)
            {
                return 2;
            }
            byte[][] inputs = new byte[files.Length][];
            FuzzAction run = target.Create();
            for (int i = 0; i < files.Length; i++)
            {
                inputs[i] = File.ReadAllBytes(files[i]);
                run(inputs[i]);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            int[] collections = { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) };
            System.Diagnostics.Process self = System.Diagnostics.Process.GetCurrentProcess();
            TimeSpan cpu = self.TotalProcessorTime;
            System.Diagnostics.Stopwatch watch = System.Diagnostics.Stopwatch.StartNew();
            long runs = 0;
            while (watch.ElapsedMilliseconds < 5000)
            {
                run(inputs[runs % inputs.Length]);
                runs++;
            }
            double seconds = watch.Elapsed.TotalSeconds;
            self.Refresh();
            double cpuMicroseconds = (self.TotalProcessorTime - cpu).TotalMilliseconds * 1000 / runs;
            allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
            Console.WriteLine(name + ": " + runs + " runs in " + seconds.ToString("F1") + " s, " + (runs / seconds).ToString("F0")
                + " inputs/s, " + cpuMicroseconds.ToString("F1") + " µs of CPU per input (what the host's load leaves does not change it), "
                + allocated / runs + " bytes allocated per input, collections gen0/1/2 "
                + (GC.CollectionCount(0) - collections[0]) + "/" + (GC.CollectionCount(1) - collections[1]) + "/" + (GC.CollectionCount(2) - collections[2]));
            return 0;
        }

        private static int Seed(string directory)
        {
            int written = 0;
            foreach (SeedCorpus.Seed seed in SeedCorpus.All())
            {
                string dir = Path.Combine(directory, seed.Target);
                Directory.CreateDirectory(dir);
                File.WriteAllBytes(Path.Combine(dir, "seed-" + seed.Name), seed.Bytes);
                written++;
            }
            Console.WriteLine(written + " seeds written to " + directory);
            return 0;
        }
    }
}
