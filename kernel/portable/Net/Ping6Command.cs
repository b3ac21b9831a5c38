using Keel.Apps.Hosting;
using Keel.Hal;
using Keel.Kernel.Config;
using Keel.Kernel.Shell;
using Keel.Net;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// <c>ping6 [-c COUNT] [-i SECONDS] ADDRESS [COUNT]</c>: sends COUNT (default 3, at most
    /// <see cref="MaxCount"/>) ICMPv6 echo requests of 56 data bytes, one every SECONDS (default 1, as ping; 0.01 to
    /// 60, decimals allowed), without blocking the shell: the command returns after the first request and the rest
    /// go from <see cref="Poll"/> (the kernel polls it as an application). Each reply is printed as it arrives
    /// ("ping6: reply from ADDRESS seq N bytes 56 time T us"), and one interval (at least a second) after the last
    /// request a summary ("ping6: ADDRESS: N sent, M received"). Replies are matched by the identifier of the current
    /// run; a new run ends the one before.
    /// </summary>
    public sealed class Ping6Command : IShellCommand, IEchoReplyHandler, INetworkApplication
    {
        /// <summary>Data bytes per request, as the host's ping.</summary>
        public const int DataLength = 56;

        public const int MaxCount = 1000;

        /// <summary>The interval when none is given, as ping's.</summary>
        public static readonly Duration DefaultInterval = Duration.FromSeconds(1);

        private const long MinIntervalMilliseconds = 10;
        private const long MaxIntervalMilliseconds = 60000;

        private readonly NetStack _stack;
        private readonly IClock _clock;
        private readonly ITextOutput _console;
        private readonly Instant[] _sentAt = new Instant[MaxCount + 1]; // by sequence number, for the round-trip times
        private int _identifier = 0x4B00;

        // The current run.
        private IPv6Address _destination;
        private int _count;
        private int _nextSequence;  // 0: no run
        private int _sent;
        private int _received;
        private Duration _interval;
        private Instant _started;   // when request 1 went
        private Instant _due;       // the next request, or the summary after the last

        /// <param name="stack">the stack to ping from</param>
        /// <param name="clock">for the intervals and round-trip times</param>
        /// <param name="console">where replies and the summary are printed</param>
        public Ping6Command(NetStack stack, IClock clock, ITextOutput console)
        {
            _stack = stack;
            _clock = clock;
            _console = console;
            stack.EchoReplyHandler = this;
        }

        public string Name => "ping6";

        public string Help => "ping6 [-c COUNT] [-i SECONDS] ADDRESS [COUNT]: ICMPv6 echo requests, 1 s apart, replies printed as they come";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            long count = 3;
            Duration interval = DefaultInterval;
            bool haveAddress = false;
            IPv6Address destination = IPv6Address.Any;
            bool ok = arguments.Count >= 1;
            for (int i = 0; i < arguments.Count && ok; i++)
            {
                if (arguments.Is(i, "-c"))
                {
                    ok = i + 1 < arguments.Count && arguments.TryGetInt64(++i, out count);
                }
                else if (arguments.Is(i, "-i"))
                {
                    ok = i + 1 < arguments.Count && TryParseSeconds(arguments.Get(++i), out interval);
                }
                else if (!haveAddress)
                {
                    IPAddress parsed;
                    if (!AddressText.TryParse(arguments.Get(i), out parsed) || !parsed.IsIPv6 || parsed.IsAny)
                    {
                        output.Write("ping6: not an IPv6 address\n");
                        return;
                    }
                    destination = parsed.V6;
                    haveAddress = true;
                }
                else
                {
                    ok = arguments.TryGetInt64(i, out count);
                }
            }
            if (!ok || !haveAddress || count < 1 || count > MaxCount || interval.Milliseconds < MinIntervalMilliseconds ||
                interval.Milliseconds > MaxIntervalMilliseconds)
            {
                output.Write("usage: ping6 [-c COUNT 1-1000] [-i SECONDS 0.01-60] ADDRESS [COUNT]\n");
                return;
            }
            if (!_stack.Ipv6Enabled)
            {
                output.Write("ping6: IPv6 is off\n");
                return;
            }
            if (_nextSequence != 0)
            {
                Summary(); // a new run ends the one before
            }
            _identifier = (_identifier + 1) & 0xFFFF;
            _destination = destination;
            _count = (int)count;
            _interval = interval;
            _sent = 0;
            _received = 0;
            _nextSequence = 1;
            output.Write("ping6: ");
            destination.WriteTo(output);
            output.Write(", ");
            output.Write(count);
            output.Write(count == 1 ? " request" : " requests");
            output.Write(", ");
            output.Write(interval.Milliseconds);
            output.Write(" ms apart\n");
            _started = Instant.Now(_clock);
            SendNext(_started);
        }

        /// <summary>Parses "1", "0.2", "2.5" (seconds, up to three decimals).</summary>
        private static bool TryParseSeconds(System.ReadOnlySpan<char> text, out Duration interval)
        {
            interval = Duration.Zero;
            long milliseconds = 0;
            int decimals = -1;
            for (int i = 0; i < text.Length; i++)
            {
                char c = text[i];
                if (c == '.' && decimals < 0)
                {
                    decimals = 0;
                    continue;
                }
                if (c < '0' || c > '9' || decimals >= 3 || milliseconds > 1000000)
                {
                    return false;
                }
                milliseconds = milliseconds * 10 + (c - '0');
                if (decimals >= 0)
                {
                    decimals++;
                }
            }
            if (text.Length == 0 || decimals == 0)
            {
                return false;
            }
            for (int d = decimals < 0 ? 0 : decimals; d < 3; d++)
            {
                milliseconds *= 10;
            }
            interval = Duration.FromMilliseconds(milliseconds);
            return true;
        }

        private void SendNext(Instant now)
        {
            int sequence = _nextSequence++;
            _sentAt[sequence] = now;
            if (_stack.SendEchoRequest(_destination, _identifier, sequence, DataLength))
            {
                _sent++;
            }
            else
            {
                _console.Write("ping6: request seq ");
                _console.Write((long)sequence);
                _console.Write(" not sent\n");
            }
            // The next request one interval after the previous one was due (no drift); the summary one interval (at
            // least a second) after the last.
            Instant previous = _started + _interval * (sequence - 1);
            _due = sequence < _count ? previous + _interval : previous + Duration.Max(_interval, DefaultInterval);
            if (_due < now)
            {
                _due = now;
            }
        }

        private void Summary()
        {
            _console.Write("ping6: ");
            _destination.WriteTo(_console);
            _console.Write(": ");
            _console.Write((long)_sent);
            _console.Write(" sent, ");
            _console.Write((long)_received);
            _console.Write(" received\n");
            _nextSequence = 0;
        }

        public void OnEchoReply(IPAddress from, int identifier, int sequence, int dataLength)
        {
            if (identifier != _identifier || _nextSequence == 0 || sequence < 1 || sequence >= _nextSequence)
            {
                return;
            }
            _received++;
            _console.Write("ping6: reply from ");
            from.WriteTo(_console);
            _console.Write(" seq ");
            _console.Write((long)sequence);
            _console.Write(" bytes ");
            _console.Write((long)dataLength);
            _console.Write(" time ");
            _console.Write((Instant.Now(_clock) - _sentAt[sequence]).Microseconds);
            _console.Write(" us");
            _console.WriteLine();
        }

        // ---- polled by the application host: the later requests and the summary

        bool INetworkApplication.Start(IApplicationHost host) => true;

        /// <summary>Sends the next request, or prints the summary, when its time has come.</summary>
        public void Poll()
        {
            if (_nextSequence == 0)
            {
                return;
            }
            Instant now = Instant.Now(_clock);
            if (now < _due)
            {
                return;
            }
            if (_nextSequence <= _count)
            {
                SendNext(now);
            }
            else
            {
                Summary();
            }
        }

        public Instant NextWake => _nextSequence == 0 ? Instant.MaxValue : _due;

        public void Stop()
        {
            _nextSequence = 0;
        }
    }
}
