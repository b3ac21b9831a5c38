using Keel.Hal;
using Keel.Kernel.Config;
using Keel.Kernel.Shell;
using Keel.Net;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// <c>ping6 ADDRESS [COUNT]</c>: sends COUNT (default 3, at most 10) ICMPv6 echo requests of 56 data bytes at
    /// once and does not block the shell: each reply is printed as it arrives ("ping6: reply from ADDRESS seq N
    /// time T us"). Replies are matched by the identifier of the last run; others are ignored.
    /// </summary>
    public sealed class Ping6Command : IShellCommand, IEchoReplyHandler
    {
        /// <summary>Data bytes per request, as the host's ping.</summary>
        public const int DataLength = 56;

        public const int MaxCount = 10;

        private readonly NetStack _stack;
        private readonly IClock _clock;
        private readonly ITextOutput _console;
        private readonly byte[] _text = new byte[64];
        private int _identifier = 0x4B00;
        private Instant _sent;

        /// <param name="stack">the stack to ping from</param>
        /// <param name="clock">for the round-trip times</param>
        /// <param name="console">where replies are printed</param>
        public Ping6Command(NetStack stack, IClock clock, ITextOutput console)
        {
            _stack = stack;
            _clock = clock;
            _console = console;
            stack.EchoReplyHandler = this;
        }

        public string Name => "ping6";

        public string Help => "ping6 ADDRESS [COUNT]: send ICMPv6 echo requests, print the replies as they come";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            long count = 3;
            if (arguments.Count < 1 || arguments.Count > 2 || (arguments.Count == 2 && !arguments.TryGetInt64(1, out count)) ||
                count < 1 || count > MaxCount)
            {
                output.Write("usage: ping6 ADDRESS [COUNT 1-10]\n");
                return;
            }
            System.ReadOnlySpan<char> word = arguments.Get(0);
            IPv6Address destination;
            if (word.Length > _text.Length || !Parse(word, out destination) || destination.IsAny)
            {
                output.Write("ping6: not an IPv6 address\n");
                return;
            }
            if (!_stack.Ipv6Enabled)
            {
                output.Write("ping6: IPv6 is off\n");
                return;
            }
            _identifier = (_identifier + 1) & 0xFFFF;
            _sent = Instant.Now(_clock);
            int sent = 0;
            for (int sequence = 1; sequence <= count; sequence++)
            {
                if (_stack.SendEchoRequest(destination, _identifier, sequence, DataLength))
                {
                    sent++;
                }
            }
            output.Write("ping6: ");
            output.Write((long)sent);
            output.Write(" of ");
            output.Write(count);
            output.Write(" requests sent to ");
            destination.WriteTo(output);
            output.WriteLine();
        }

        private bool Parse(System.ReadOnlySpan<char> word, out IPv6Address address)
        {
            for (int i = 0; i < word.Length; i++)
            {
                _text[i] = word[i] < 128 ? (byte)word[i] : (byte)'?';
            }
            return Ipv6Text.TryParseAddress(new System.ReadOnlySpan<byte>(_text, 0, word.Length), out address);
        }

        public void OnEchoReply(IPAddress from, int identifier, int sequence, int dataLength)
        {
            if (identifier != _identifier)
            {
                return;
            }
            _console.Write("ping6: reply from ");
            from.WriteTo(_console);
            _console.Write(" seq ");
            _console.Write((long)sequence);
            _console.Write(" bytes ");
            _console.Write((long)dataLength);
            _console.Write(" time ");
            _console.Write((Instant.Now(_clock) - _sent).Microseconds);
            _console.Write(" us");
            _console.WriteLine();
        }
    }
}
