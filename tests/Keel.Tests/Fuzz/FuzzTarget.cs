using System;

namespace Keel.Tests.Fuzz
{
    /// <summary>One fuzz target: a name (tools/fuzz, the corpus folder) and the function that takes the bytes.</summary>
    public sealed class FuzzTarget
    {
        public FuzzTarget(string name, string description, FuzzAction run)
        {
            Name = name;
            Description = description;
            Run = run;
        }

        public string Name { get; }

        public string Description { get; }

        /// <summary>Runs one input. An exception out of it (a broken invariant included) is a crash.</summary>
        public FuzzAction Run { get; }

        public override string ToString() => Name;
    }

    public delegate void FuzzAction(ReadOnlySpan<byte> input);

    /// <summary>A broken invariant found after an input: thrown so AFL sees a crash.</summary>
    public sealed class FuzzInvariantException : Exception
    {
        public FuzzInvariantException(string message) : base(message)
        {
        }

        public static void Check(bool condition, string what)
        {
            if (!condition)
            {
                throw new FuzzInvariantException(what);
            }
        }
    }
}
