using Keel.Hal;
using Keel.Kernel.Pci;

namespace Keel.Kernel.Shell
{
    /// <summary><c>pci</c>: lists PCI functions with ids, class and BARs.</summary>
    public sealed class PciCommand : IShellCommand
    {
        public string Name => "pci";

        public string Help => "list PCI devices (bus:dev.fn vendor:device class BARs)";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            PciSubsystem.Devices.Print(output);
        }
    }
}
