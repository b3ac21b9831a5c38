using Keel.Hal;
namespace Keel.Apps.Hosting
{
    /// <summary>
    /// An application on the network stack (a server, a client, a tool). The host — the kernel, a test, or
    /// tools/hoststack — starts it once and then polls it from its main loop; nothing runs in between, so an
    /// application never blocks: every socket call returns at once (see docs/apps.md).
    /// </summary>
    public interface INetworkApplication
    {
        /// <summary>Short lower-case name for logs (a string literal).</summary>
        string Name { get; }

        /// <summary>
        /// Makes everything the application needs (sockets, buffers, shell commands through
        /// <see cref="IApplicationHost.AddCommand"/>). Runs once, at start-up. False when it cannot run: the
        /// host says so and carries on without it.
        /// </summary>
        bool Start(IApplicationHost host);

        /// <summary>Does the work that can be done now and returns at once. Called after every main-loop pass.</summary>
        void Poll();

        /// <summary>
        /// Earliest host clock time at which <see cref="Poll"/> has work even without new input:
        /// <see cref="Instant.None"/> for at once, <see cref="Instant.MaxValue"/> when only received data or a
        /// socket event gives it work.
        /// </summary>
        Instant NextWake { get; }

        /// <summary>Closes every socket the application holds (host shutdown).</summary>
        void Stop();
    }
}
