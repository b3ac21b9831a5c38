using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioRng;
using Keel.Hal;
using Keel.Kernel.Memory;
using Keel.Kernel.Platform;
using Keel.Runtime;

namespace Keel.Kernel.Entropy
{
    /// <summary>
    /// Sets up the kernel entropy pool before the network: a virtio-rng device when there is one (it says so at
    /// boot either way), RDRAND when the CPU has it, else the TSC-seeded generator. <see cref="Pool"/> is what
    /// the stack and applications draw from; the <c>rng</c> command shows the source and the counters.
    /// </summary>
    public static unsafe class EntropySubsystem
    {
        /// <summary>The pool (never null after <see cref="Initialize"/>).</summary>
        public static EntropyPool Pool;

        /// <summary>The virtio entropy device, or null.</summary>
        public static VirtioRngDevice Device;

        public static void Initialize(ITextOutput output)
        {
            Pool = new EntropyPool(Native.ReadTimestampCounter(), CpuRandom.TryCreate());
            bool found;
            IVirtioTransport transport = VirtioTransports.Find(VirtioRngDevice.DeviceType, out found);
            if (!found)
            {
                output.Write("rng: no virtio-rng device, using ");
                output.Write(EntropyPool.SourceName(Pool.Source));
                output.WriteLine();
            }
            else
            {
                PhysicalPageSource pages = new PhysicalPageSource(KernelMemory.Pages);
                VirtioRngDevice device = (object)transport != null
                    ? new VirtioRngDevice(transport, pages, Kernel.Work, output, Pool)
                    : null;
                if ((object)device != null && device.Start())
                {
                    Device = device;
                    Pool.AttachDevice(device);
                    output.Write("rng: virtio-rng");
                    output.Write(device.Core.Has(VirtioFeatures.RingPacked) ? " (packed ring)" : " (split ring)");
                    output.Write(", fallback ");
                    output.Write(EntropyPool.SourceName(Pool.Source));
                    output.WriteLine();
                }
                else
                {
                    output.Write("rng: virtio-rng failed to start, using ");
                    output.Write(EntropyPool.SourceName(Pool.Source));
                    output.WriteLine();
                }
            }
            Kernel.Commands.Register(new RngCommand());
        }
    }
}
