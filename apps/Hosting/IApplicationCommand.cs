using System;
using Keel.Hal;

namespace Keel.Apps.Hosting
{
    /// <summary>A shell command an application adds through <see cref="IApplicationHost.AddCommand"/>.</summary>
    public interface IApplicationCommand
    {
        /// <summary>Word that runs the command (a string literal, lower case, no blanks).</summary>
        string Name { get; }

        /// <summary>One-line description for <c>help</c>.</summary>
        string Help { get; }

        /// <summary>
        /// Runs the command from the main loop. <paramref name="arguments"/> is the rest of the line after the
        /// name (empty when none; only valid during the call). Print to <paramref name="output"/>.
        /// </summary>
        void Execute(ReadOnlySpan<char> arguments, ITextOutput output);
    }
}
