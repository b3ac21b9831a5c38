using Keel.Hal;
using Keel.Kernel.Shell;
using Keel.Net.Dns;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// <c>resolve NAME</c>: looks NAME up with the stub resolver. The lookup does not block the shell: the answer
    /// ("resolve NAME: A.B.C.D ttl N s") is printed when it arrives (at once when it is cached).
    /// </summary>
    public sealed class ResolveCommand : IShellCommand, IDnsHandler
    {
        private readonly DnsResolver _resolver;
        private readonly ITextOutput _console;

        /// <param name="resolver">null when there is no resolver (the command says so)</param>
        public ResolveCommand(DnsResolver resolver, ITextOutput console)
        {
            _resolver = resolver;
            _console = console;
        }

        public string Name => "resolve";

        public string Help => "resolve NAME: look up NAME's IPv4 address (DNS, A and CNAME)";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            if (arguments.Count != 1)
            {
                output.Write("usage: resolve NAME\n");
                return;
            }
            if ((object)_resolver == null)
            {
                output.Write("resolve: no DNS server (static ip= without dns=)\n");
                return;
            }
            DnsQuery query = _resolver.Resolve(arguments.Get(0));
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
            Print(query, output);
            query.Release();
        }

        public void OnDnsResult(DnsQuery query)
        {
            Print(query, _console);
            query.Release();
        }

        private static void Print(DnsQuery query, ITextOutput output)
        {
            output.Write("resolve ");
            query.WriteName(output);
            output.Write(": ");
            if (query.Status != DnsStatus.Success)
            {
                output.Write("failed, ");
                output.Write(DnsQuery.StatusName(query.Status));
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
    }
}
