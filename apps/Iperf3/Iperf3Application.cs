using System;
using Keel.Apps.Hosting;
using Keel.Hal;

namespace Keel.Apps.Iperf3
{
    /// <summary>The iperf3 server (port 5201, <see cref="Iperf3Server"/>) as a hosted application with an <c>iperf3</c> command.</summary>
    public sealed class Iperf3Application : INetworkApplication, IApplicationCommand
    {
        private readonly Iperf3ServerConfig _config;

        public Iperf3Application(Iperf3ServerConfig config)
        {
            _config = config;
        }

        /// <summary>The server (null before <see cref="Start"/>).</summary>
        public Iperf3Server Server { get; private set; }

        public string Name => "iperf3";

        public string Help => "iperf3 server (port 5201) counters";

        public Instant NextWake => Server.NextWake;

        public bool Start(IApplicationHost host)
        {
            if (host.Stack.Config.Entropy != null)
            {
                // The payload seed from the kernel's entropy pool (virtio-rng, RDRAND or the TSC PRNG).
                _config.PayloadSeed = host.Stack.Config.Entropy.NextUInt64();
            }
            if (_config.MaxWriteSize > host.Stack.Config.TcpSendBufferSize)
            {
                // No write needs to be larger than the socket's send buffer (small-memory kernels shrink it).
                _config.MaxWriteSize = host.Stack.Config.TcpSendBufferSize;
            }
            Server = new Iperf3Server(host.Stack, host.Clock, host.Log, _config);
            if (!Server.Start())
            {
                return false;
            }
            host.Statistics.Add("iperf3", Server);
            host.AddCommand(this);
            return true;
        }

        public void Poll()
        {
            Server.Poll();
        }

        public void Stop()
        {
            Server.Stop();
        }

        public void Execute(ReadOnlySpan<char> arguments, ITextOutput output)
        {
            Server.PrintStatistics(output);
        }
    }
}
