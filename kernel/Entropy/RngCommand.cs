using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Entropy
{
    /// <summary><c>rng</c>: the entropy source in use, the pool's counters and the virtio-rng device's.</summary>
    public sealed class RngCommand : IShellCommand
    {
        public string Name => "rng";

        public string Help => "entropy source in use and counters (virtio-rng, rdrand, tsc-prng)";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            EntropyPool pool = EntropySubsystem.Pool;
            output.Write("source: ");
            output.Write(EntropyPool.SourceName(pool.Source));
            output.WriteLine();
            Line(output, "pool_draws", pool.Draws);
            Line(output, "pool_device_bytes", pool.DeviceBytes);
            Line(output, "pool_device_requests", pool.DeviceRequests);
            Line(output, "pool_rdrand_draws", pool.HardwareDraws);
            IStatisticsSource device = EntropySubsystem.Device;
            if ((object)device == null)
            {
                output.Write("virtio-rng: none\n");
                return;
            }
            for (int i = 0; i < device.StatisticsCount; i++)
            {
                Line(output, device.StatisticName(i), device.StatisticValue(i));
            }
        }

        private static void Line(ITextOutput output, string name, long value)
        {
            output.Write("     ");
            output.Write(name);
            output.Write(": ");
            output.Write(value);
            output.WriteLine();
        }
    }
}
