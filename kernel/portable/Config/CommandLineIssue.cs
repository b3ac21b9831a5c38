namespace Keel.Kernel.Config
{
    /// <summary>One problem found while parsing the kernel command line.</summary>
    public struct CommandLineIssue
    {
        /// <summary>What is wrong.</summary>
        public CommandLineIssueKind Kind;

        /// <summary>Index of the entry concerned (see <see cref="KernelCommandLine.EntryKey"/>), or -1.</summary>
        public int Entry;
    }
}
