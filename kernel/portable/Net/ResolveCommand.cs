using Keel.Hal;
using Keel.Kernel.Config;
using Keel.Kernel.Shell;
using Keel.Net;
using Keel.Net.Dns;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// <c>resolve NAME</c>: looks NAME's IPv4 (A) and then its IPv6 (AAAA) addresses up with the stub resolver, one
    /// lookup after the other so that a resolver with a single query slot serves both. The lookups do not block the
    /// shell: each answer ("resolve NAME: ADDRESS ttl N s", or "resolve NAME: failed, REASON") is printed when it
    /// arrives (at once when it is cached). An IPv4 or IPv6 address is its own answer, printed back in its standard
    /// form (RFC 5952 for IPv6) without asking anyone, as getaddrinfo does with a numeric host.
    /// </summary>
    public sealed class ResolveCommand : IShellCommand, IDnsHandler
    {
        private readonly DnsResolver _resolver;
        private readonly ITextOutput _console;
        private readonly NameText _name = new NameText();

        /// <param name="resolver">null when there is no resolver (the command says so)</param>
        /// <param name="console">where answers that arrive later are printed</param>
        public ResolveCommand(DnsResolver resolver, ITextOutput console)
        {
            _resolver = resolver;
            _console = console;
        }

        public string Name => "resolve";

        public string Help => "resolve NAME: look up NAME's IPv4 and IPv6 addresses (DNS A, AAAA and CNAME); an address is printed back";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            if (arguments.Count != 1)
            {
                output.Write("usage: resolve NAME\n");
                return;
            }
            IPAddress literal;
            if (AddressText.TryParse(arguments.Get(0), out literal))
            {
                output.Write("resolve ");
                System.ReadOnlySpan<char> word = arguments.Get(0);
                for (int i = 0; i < word.Length; i++)
                {
                    output.Write(word[i]);
                }
                output.Write(": ");
                literal.WriteTo(output);
                output.Write(", an address (no lookup)\n");
                return;
            }
            if ((object)_resolver == null)
            {
                output.Write("resolve: no DNS server (static ip= with ipv6=off and without dns=)\n");
                return;
            }
            DnsQuery query = _resolver.Resolve(arguments.Get(0), AddressFamily.InterNetwork);
            if (query == null)
            {
                output.Write("resolve: too many lookups in progress\n");
                return;
            }
            if (query.Status == DnsStatus.InProgress)
            {
                query.Handler = this;
                output.Write("resolve: asking ");
                _resolver.Server(0).WriteTo(output);
                output.WriteLine();
                return;
            }
            Finished(query, output);
        }

        public void OnDnsResult(DnsQuery query)
        {
            Finished(query, _console);
        }

        /// <summary>Prints a finished lookup; after the A lookup, starts the AAAA lookup of the same name.</summary>
        private void Finished(DnsQuery query, ITextOutput output)
        {
            Print(query, output);
            // Only a name that exists asks again (NXDOMAIN holds for every type, RFC 8020; a timeout would only repeat).
            bool next = query.Family == AddressFamily.InterNetwork &&
                        (query.Status == DnsStatus.Success || query.Status == DnsStatus.NoData);
            if (!next)
            {
                query.Release();
                return;
            }
            _name.Length = 0;
            query.WriteName(_name);
            query.Release();
            DnsQuery aaaa = _resolver.Resolve(new System.ReadOnlySpan<char>(_name.Text, 0, _name.Length), AddressFamily.InterNetworkV6);
            if (aaaa == null)
            {
                output.Write("resolve: too many lookups in progress\n");
                return;
            }
            if (aaaa.Status == DnsStatus.InProgress)
            {
                aaaa.Handler = this;
                return;
            }
            Print(aaaa, output);
            aaaa.Release();
        }

        private static void Print(DnsQuery query, ITextOutput output)
        {
            output.Write("resolve ");
            query.WriteName(output);
            output.Write(": ");
            if (query.Status != DnsStatus.Success)
            {
                output.Write("failed, ");
                output.Write(DnsQuery.StatusName(query.Status, query.Family));
                output.WriteLine();
                return;
            }
            query.Address.WriteTo(output);
            output.Write(" ttl ");
            output.Write((long)query.TimeToLive);
            output.Write(" s");
            if (query.CnameCount > 0)
            {
                output.Write(", ");
                output.Write((long)query.CnameCount);
                output.Write(" cname");
            }
            if (query.FromCache)
            {
                output.Write(", cached");
            }
            if (query.UsedTcp)
            {
                output.Write(", tcp");
            }
            output.WriteLine();
        }

        /// <summary>A name written out as text, for the second lookup (made once: the kernel does not free).</summary>
        private sealed class NameText : ITextOutput
        {
            public readonly char[] Text = new char[DnsMessage.MaxNameLength + 1];
            public int Length;

            public void Write(char character)
            {
                if (Length < Text.Length)
                {
                    Text[Length++] = character;
                }
            }

            public void Write(string text)
            {
                for (int i = 0; i < text.Length; i++)
                {
                    Write(text[i]);
                }
            }

            public void Write(long value)
            {
            }

            public void WriteHex(ulong value)
            {
            }

            public void WriteLine()
            {
            }
        }
    }
}
