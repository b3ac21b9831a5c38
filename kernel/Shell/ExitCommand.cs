using Keel.Hal;
using Keel.Runtime;

namespace Keel.Kernel.Shell
{
    /// <summary>
    /// <c>exit N</c>: stops QEMU through isa-debug-exit (QEMU returns (N&lt;&lt;1)|1); without that device,
    /// powers off through ACPI S5 (QEMU returns 0).
    /// </summary>
    public sealed class ExitCommand : IShellCommand
    {
        public string Name => "exit";

        public string Help => "exit N: leave QEMU with status (N<<1)|1 (isa-debug-exit), else ACPI power-off";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            long code = 0;
            if (arguments.Count >= 1 && !arguments.TryGetInt64(0, out code))
            {
                output.Write("usage: exit N (0..255)\n");
                return;
            }
            if (code < 0 || code > 255)
            {
                output.Write("usage: exit N (0..255)\n");
                return;
            }
            Kernel.Shutdown();
            output.Write("bye\n");
            Keel.Kernel.Acpi.AcpiSubsystem.Exit((byte)code);
        }
    }
}
