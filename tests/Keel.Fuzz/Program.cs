using System;
using System.IO;
using Keel.Tests.Fuzz;

namespace Keel.Fuzz
{
    /// <summary>
    /// The AFL++ driver of the fuzz targets (tests/Keel.Tests/Fuzz; docs/fuzzing.md):
    ///   Keel.Fuzz list                  the targets, one a line
    ///   Keel.Fuzz run TARGET            under afl-fuzz: SharpFuzz's in-process loop, one input per execution
    ///   Keel.Fuzz replay TARGET FILE... runs inputs once each, prints what fails (exit 1 when one does)
    ///   Keel.Fuzz seed DIRECTORY        writes the built seeds to DIRECTORY/TARGET/NAME
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
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
                case "seed" when args.Length == 2:
                    return Seed(args[1]);
                default:
                    Console.Error.WriteLine("usage: Keel.Fuzz list | run TARGET | replay TARGET FILE... | seed DIRECTORY");
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
            MemoryStream buffer = new MemoryStream();
            SharpFuzz.Fuzzer.Run(stream =>
            {
                buffer.SetLength(0);
                stream.CopyTo(buffer);
                target.Run(new ReadOnlySpan<byte>(buffer.GetBuffer(), 0, (int)buffer.Length));
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
            foreach (string file in files)
            {
                try
                {
                    target.Run(File.ReadAllBytes(file));
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
