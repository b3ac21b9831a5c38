using System;
using Keel.Apps.Hosting;
using Keel.Hal;

namespace Keel.Apps.Echo
{
    /// <summary>The TCP echo server (port 7, <see cref="EchoServer"/>) as a hosted application with an <c>echo</c> command.</summary>
    public sealed class EchoApplication : INetworkApplication, IApplicationCommand
    {
        /// <summary>Connections served at once by default.</summary>
        public const int DefaultConnections = 8;

        private readonly int _maxConnections;

        public EchoApplication(int maxConnections)
        {
            _maxConnections = maxConnections;
        }

        /// <summary>The server (null before <see cref="Start"/>).</summary>
        public EchoServer Server { get; private set; }

        public string Name => "echo";

        public string Help => "TCP echo server (port 7) counters";

        public long NextWakeNanoseconds => long.MaxValue;

        public bool Start(IApplicationHost host)
        {
            Server = new EchoServer(host.Stack, _maxConnections);
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
