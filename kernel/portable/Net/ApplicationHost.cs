using Keel.Apps.Hosting;
using Keel.Hal;
using Keel.Kernel.Shell;
using Keel.Net;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// Runs the network applications (<see cref="INetworkApplication"/>) on a stack: starts each one, polls the
    /// stack and then every running application, tells the main loop when the next of them has timed work, and
    /// turns application commands into shell commands. Fixed capacity; an application that does not fit or
    /// does not start is reported, never dropped in silence.
    /// </summary>
    public sealed class ApplicationHost : IApplicationHost
    {
        /// <summary>Applications a host holds unless told otherwise.</summary>
        public const int DefaultCapacity = 8;

        private readonly INetworkApplication[] _applications;
        private readonly ShellCommandRegistry _commands;
        private int _count;

        /// <param name="commands">Where application commands go; null for none (they are refused).</param>
        public ApplicationHost(NetStack stack, IClock clock, ITextOutput log, ShellCommandRegistry commands, int capacity = DefaultCapacity)
        {
            Stack = stack;
            Clock = clock;
            Log = log;
            _commands = commands;
            _applications = new INetworkApplication[capacity < 1 ? 1 : capacity];
            Statistics.Add("net", stack);
        }

        public NetStack Stack { get; }

        public IClock Clock { get; }

        public ITextOutput Log { get; }

        public StatisticsRegistry Statistics { get; } = new StatisticsRegistry();

        /// <summary>Set by the host's owner when it has a wall clock (the kernel: the RTC at boot); 0 for none.</summary>
        public long UnixSecondsAtClockZero { get; set; }

        /// <summary>Applications running.</summary>
        public int Count => _count;

        /// <summary>Running application <paramref name="index"/> (0 ≤ index &lt; Count), in start order.</summary>
        public INetworkApplication Get(int index) => _applications[index];

        /// <summary>Applications that were refused (host full) or whose Start failed.</summary>
        public int Failed { get; private set; }

        /// <summary>Starts <paramref name="application"/> and polls it from now on. False (logged) when the host is full or Start fails.</summary>
        public bool Add(INetworkApplication application)
        {
            if (_count == _applications.Length)
            {
                Failed++;
                Report(application.Name, ": not started, application host full\n");
                return false;
            }
            if (!application.Start(this))
            {
                Failed++;
                Report(application.Name, ": failed to start\n");
                return false;
            }
            _applications[_count++] = application;
            return true;
        }

        /// <summary>Adds every application of <paramref name="applications"/> in order; returns how many run.</summary>
        public int AddAll(INetworkApplication[] applications)
        {
            int started = 0;
            for (int i = 0; i < applications.Length; i++)
            {
                if (Add(applications[i]))
                {
                    started++;
                }
            }
            return started;
        }

        public bool AddCommand(IApplicationCommand command)
        {
            if ((object)_commands == null || !_commands.Register(new ApplicationShellCommand(command)))
            {
                Report(command.Name, ": shell command not added (name taken or shell full)\n");
                return false;
            }
            return true;
        }

        /// <summary>Runs the stack's timers and output, then every application once.</summary>
        public void Poll()
        {
            Stack.Poll();
            for (int i = 0; i < _count; i++)
            {
                _applications[i].Poll();
            }
        }

        /// <summary>Earliest time at which the stack or an application has timed work; Instant.MaxValue for none.</summary>
        public Instant NextWake
        {
            get
            {
                Instant next = Stack.NextTimer;
                for (int i = 0; i < _count; i++)
                {
                    next = Instant.Min(next, _applications[i].NextWake);
                }
                return next;
            }
        }

        /// <summary>Stops every application, last started first.</summary>
        public void StopAll()
        {
            for (int i = _count - 1; i >= 0; i--)
            {
                _applications[i].Stop();
            }
            _count = 0;
        }

        private void Report(string name, string what)
        {
            if ((object)Log != null)
            {
                Log.Write("apps: ");
                Log.Write(name);
                Log.Write(what);
            }
        }
    }
}
