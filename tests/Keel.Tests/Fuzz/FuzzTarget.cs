using System;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// One fuzz target: a name (tools/fuzz, the corpus folder) and the function that takes the bytes. A target
    /// whose set-up is expensive (megabytes of simulated memory) is made with a factory instead: the runner it
    /// makes keeps that set-up between inputs, checks it is clean again after each one and resets it.
    /// </summary>
    public sealed class FuzzTarget
    {
        private readonly Func<FuzzAction> _create;

        public FuzzTarget(string name, string description, FuzzAction run)
        {
            Name = name;
            Description = description;
            Run = run;
            _create = () => run;
        }

        public FuzzTarget(string name, string description, Func<FuzzAction> create)
        {
            Name = name;
            Description = description;
            _create = create;
            Run = input => create()(input);
        }

        public string Name { get; }

        public string Description { get; }

        /// <summary>Runs one input on a fresh set-up. An exception out of it (a broken invariant included) is a crash.</summary>
        public FuzzAction Run { get; }

        /// <summary>
        /// A runner for many inputs one after the other (the AFL++ loop, the corpus replay): each input is checked
        /// as by <see cref="Run"/>, the set-up is kept between them.
        /// </summary>
        public FuzzAction Create() => _create();

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
