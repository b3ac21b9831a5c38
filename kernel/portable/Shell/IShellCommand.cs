using Keel.Hal;

namespace Keel.Kernel.Shell
{
    /// <summary>
    /// A shell command any layer can register with <see cref="ShellCommandRegistry.Register"/>
    /// (the kernel adds pci, mem, uptime, exit, stats, net). Commands run from the kernel main loop.
    /// </summary>
    public interface IShellCommand
    {
        /// <summary>Word that runs the command (a string literal, lower case, no blanks).</summary>
        string Name { get; }

        /// <summary>One-line description for <c>help</c>, usage first (e.g. "exit [code]: stop the machine").</summary>
        string Help { get; }

        /// <summary>
        /// Runs the command. <paramref name="arguments"/> holds the words after the name; it is reused for the next
        /// line, so do not keep it. Print results and errors to <paramref name="output"/>.
        /// </summary>
        void Execute(ShellArguments arguments, ITextOutput output);
    }
}
