using System;
using Keel.Apps.Hosting;
using Keel.Hal;

namespace Keel.Apps.Echo
{
    /// <summary>The TCP echo server (port 7, <see cref="EchoServer"/>) as a hosted application with an <c>echo</c> command.</summary>
    public sealed class EchoApplication : INetworkApplication, IApplicationCommand
    {
        /// <summary>Connections served at once by default: 0, one slot per socket of the stack (the socket pool
        /// is the limit; beyond it a client gets a RST).</summary>
        public const int DefaultConnections = 0;

        private readonly int _maxConnections;

        /// <param name="maxConnections">Slots; 0: one per socket of the stack.</param>
        public EchoApplication(int maxConnections)
        {
            _maxConnections = maxConnections;
        }

        /// <summary>The server (null before <see cref="Start"/>).</summary>
        public EchoServer Server { get; private set; }

        public string Name => "echo";

        public string Help => "TCP echo server (port 7) counters";

        public Instant NextWake => Instant.MaxValue;

        public bool Start(IApplicationHost host)
        {
            int slots = _maxConnections > 0 ? _maxConnections : host.Stack.Config.MaxSockets;
            Server = new EchoServer(host.Stack, slots, host.Clock);
            if (!Server.Start())
            {
                return false;
            }
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
            Server.PrintStatus(output);
        }
    }
}
