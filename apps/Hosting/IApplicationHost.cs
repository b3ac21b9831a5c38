using Keel.Hal;
using Keel.Net;

namespace Keel.Apps.Hosting
{
    /// <summary>What a host gives an application in <see cref="INetworkApplication.Start"/>.</summary>
    public interface IApplicationHost
    {
        /// <summary>The network stack (sockets: <c>Stack.CreateSocket</c>).</summary>
        NetStack Stack { get; }

        /// <summary>The monotonic clock the host polls by.</summary>
        IClock Clock { get; }

        /// <summary>Where start-up messages and per-test log lines go.</summary>
        ITextOutput Log { get; }

        /// <summary>Every counter source of the system (driver, stack, memory, applications); an application may add its own.</summary>
        StatisticsRegistry Statistics { get; }

        /// <summary>
        /// Wall-clock time (seconds since 1970-01-01 UTC) at <see cref="Clock"/> time 0, for dates such as HTTP's
        /// Date header; 0 when the host has no wall clock.
        /// </summary>
        long UnixSecondsAtClockZero { get; }

        /// <summary>Adds a shell command (the kernel's serial shell). False when the name is taken or the shell is full.</summary>
        bool AddCommand(IApplicationCommand command);
    }
}
