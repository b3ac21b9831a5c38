using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Net
{
    /// <summary><c>hook</c>: counters of the raw receive hook.</summary>
    public sealed class HookCommand : IShellCommand
    {
        private readonly FrameHook _hook;

        public HookCommand(FrameHook hook)
        {
            _hook = hook;
        }

        public string Name => "hook";

        public string Help => "raw receive hook counters (hook= mode only)";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            _hook.Print(output);
        }
    }
}
