using Keel.Hal;
using Keel.Kernel.Text;

namespace Keel.Kernel.Shell
{
    /// <summary>Built-in <c>help [command]</c>: lists every command with its help text, or shows one.</summary>
    public sealed class HelpCommand : IShellCommand
    {
        /// <summary>Width of the name column.</summary>
        private const int NameColumn = 10;

        /// <summary>The commands listed.</summary>
        private readonly ShellCommandRegistry _registry;

        /// <summary>Makes the help command for <paramref name="registry"/>.</summary>
        public HelpCommand(ShellCommandRegistry registry)
        {
            _registry = registry;
        }

        /// <inheritdoc />
        public string Name => "help";

        /// <inheritdoc />
        public string Help => "help [command]: list commands, or describe one";

        /// <inheritdoc />
        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            if (arguments.Count > 0)
            {
                IShellCommand command = _registry.Find(arguments.Get(0));
                if (command == null)
                {
                    output.Write("help: no command '");
                    TextWriting.WriteChars(output, arguments.Get(0));
                    output.Write("'");
                    output.WriteLine();
                    return;
                }
                WriteEntry(output, command);
                return;
            }
            for (int i = 0; i < _registry.Count; i++)
            {
                WriteEntry(output, _registry.Get(i));
            }
        }

        /// <summary>Writes "name      help".</summary>
        private static void WriteEntry(ITextOutput output, IShellCommand command)
        {
            output.Write("  ");
            TextWriting.WritePadded(output, command.Name, NameColumn);
            output.Write(' ');
            output.Write(command.Help);
            output.WriteLine();
        }
    }
}
