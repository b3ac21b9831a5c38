using Keel.Hal;

namespace Keel.Kernel.Net
{
    /// <summary>Shutdown hook: stops the NIC and returns its buffers before QEMU exits.</summary>
    public sealed class NetworkShutdown : IWorkItem
    {
        public void Run()
        {
            NetworkSubsystem.Shutdown(Kernel.Console);
        }
    }
}
