using Keel.Apps.Hosting;
using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Net
{
    /// <summary>An application's command in the shell: the words after the name go to it as one span.</summary>
    public sealed class ApplicationShellCommand : IShellCommand
    {
        private readonly IApplicationCommand _command;

        public ApplicationShellCommand(IApplicationCommand command)
        {
            _command = command;
        }

        public string Name => _command.Name;

        public string Help => _command.Help;

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            _command.Execute(arguments.Rest(0), output);
        }
    }
}
