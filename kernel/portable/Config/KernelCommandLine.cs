using System;
using Keel.Hal;
using Keel.Kernel.Platform;
using Keel.Kernel.Text;
using Keel.Net;

namespace Keel.Kernel.Config
{
    /// <summary>
    /// The kernel command line (QEMU <c>-append</c>, PVH <c>start_info.cmdline_paddr</c>) parsed into settings.
    /// <para>
    /// Entries are separated by blanks; each is <c>key=value</c> or a bare <c>key</c> (a flag, value "on").
    /// Double quotes group blanks into a value (<c>key="a b"</c>; the quotes are dropped). A NUL ends the line.
    /// When a key appears twice the last one wins.
    /// </para>
    /// <para>
    /// Known keys: <c>ip=A.B.C.D[/N]</c> or <c>ip=dhcp</c> (no <c>ip=</c> at all also means DHCP; the static
    /// default below is then unused), <c>gw=A.B.C.D</c> (default none), <c>dns=A.B.C.D</c> or <c>dns=IPV6ADDR</c> (the DNS server, instead of DHCP's and RDNSS's),
    /// <c>ip6=ADDR[/LEN]</c> and <c>gw6=ADDR</c> (a static IPv6 address and default router besides SLAAC),
    /// <c>ipv6=on|off</c> (default on),
    /// <c>shell=on|off</c>, <c>test=pagefault|nullref|bounds|throw|NAME</c>, and the benchmark switches
    /// <c>napi=on|off</c>, <c>prealloc=on|off</c>, <c>recycle=on|off</c>, <c>txlazy=on|off</c>, <c>rxbufpages=N</c>,
    /// <c>haltpoll=N</c>, <c>bql=on|off</c>, <c>rcvsize=on|off</c>, <c>rcvmargin=PERCENT</c>,
    /// <c>hook=drop|echo-count|none</c>, each also accepted with a <c>bench-</c> prefix; and
    /// <c>virtio_mmio.device=&lt;size&gt;@&lt;base&gt;:&lt;irq&gt;[:&lt;id&gt;]</c>, any number of times, one per device
    /// (<see cref="VirtioMmioCommandLine"/>; a malformed one is reported and ignored). Other <c>bench-*</c>
    /// keys are free-form benchmark parameters: kept for <see cref="TryGetValue"/>, not reported. Any other key
    /// is kept and reported as unknown; a known key with a bad value is reported and its default kept.
    /// Booleans accept on/off, yes/no, true/false, 1/0.
    /// </para>
    /// The text is copied into a buffer made once by <see cref="Parse(ReadOnlySpan{byte})"/>; keys and values
    /// are offsets into it, so reading them later never allocates.
    /// </summary>
    public sealed partial class KernelCommandLine
    {
        /// <summary>Longest command line kept, in bytes (the rest is dropped and reported).</summary>
        public const int MaxLength = 2048;

        /// <summary>Most entries kept (the rest are dropped and reported).</summary>
        public const int MaxEntries = 64;

        /// <summary>Most issues recorded.</summary>
        public const int MaxIssues = 16;

        /// <summary>Default address: 198.18.0.2 (RFC 2544 benchmarking range).</summary>
        public const uint DefaultIpAddress = 0xC6120002;

        /// <summary>Default prefix length of <see cref="DefaultIpAddress"/>.</summary>
        public const int DefaultPrefixLength = 24;

        /// <summary>Prefix accepted in front of the benchmark switches and free-form benchmark keys.</summary>
        public const string BenchPrefix = "bench-";

        /// <summary>NUL: ends a C-string command line.</summary>
        private const byte Nul = 0;

        /// <summary>Double quote: groups blanks into one entry.</summary>
        private const byte Quote = (byte)'"';

        /// <summary>Copy of the command line, quotes removed; entries are offsets into it.</summary>
        private readonly byte[] _text = new byte[MaxLength];

        /// <summary>Bytes used in <see cref="_text"/>.</summary>
        private int _textLength;

        /// <summary>Start of each entry's key in <see cref="_text"/>.</summary>
        private readonly int[] _keyStart = new int[MaxEntries];

        /// <summary>Length of each entry's key.</summary>
        private readonly int[] _keyLength = new int[MaxEntries];

        /// <summary>Start of each entry's value in <see cref="_text"/>; -1 for a bare flag.</summary>
        private readonly int[] _valueStart = new int[MaxEntries];

        /// <summary>Length of each entry's value.</summary>
        private readonly int[] _valueLength = new int[MaxEntries];

        /// <summary>True for each entry whose key the kernel knows (or a free-form <c>bench-</c> key).</summary>
        private readonly bool[] _known = new bool[MaxEntries];

        /// <summary>Entries parsed.</summary>
        private int _entryCount;

        /// <summary>Problems found.</summary>
        private readonly CommandLineIssue[] _issues = new CommandLineIssue[MaxIssues];

        /// <summary>Problems recorded in <see cref="_issues"/>.</summary>
        private int _issueCount;

        /// <summary>Problems found beyond <see cref="MaxIssues"/> (counted, not kept).</summary>
        private int _droppedIssues;

        /// <summary>Most <c>virtio_mmio.device=</c> devices kept.</summary>
        public const int MaxMmioDevices = 16;

        /// <summary>Devices from <c>virtio_mmio.device=</c>, in command-line order.</summary>
        private readonly MmioDevice[] _mmioDevices = new MmioDevice[MaxMmioDevices];

        /// <summary>Devices kept in <see cref="_mmioDevices"/>.</summary>
        private int _mmioDeviceCount;

        /// <summary>Entry holding the <c>test=</c> name, or -1.</summary>
        private int _testEntry = -1;

        /// <summary>Makes a command line with every setting at its default and no entries.</summary>
        public KernelCommandLine()
        {
            IpAddress = DefaultIpAddress;
            PrefixLength = DefaultPrefixLength;
            ShellEnabled = true;
            NapiEnabled = true;
            RecycleEnabled = true;
            TxLazyReclaim = true;
            HaltPollMicroseconds = DefaultHaltPollMicroseconds;
            ReceiveMarginPercent = 200;
        }

        /// <summary>Interface address (first octet most significant). Default 198.18.0.2.</summary>
        public uint IpAddress { get; private set; }

        /// <summary>Prefix length of the interface's network. Default 24.</summary>
        public int PrefixLength { get; private set; }

        /// <summary>Netmask derived from <see cref="PrefixLength"/>.</summary>
        public uint Netmask => Ipv4Text.Netmask(PrefixLength);

        /// <summary>
        /// True when the address comes from DHCP: <c>ip=dhcp</c>, or no <c>ip=</c> at all. A static <c>ip=A.B.C.D/N</c> sets it false.
        /// </summary>
        public bool UseDhcp { get; private set; } = true;

        /// <summary>IPv4 DNS server given with <c>dns=</c> (0 = none; with DHCP the lease's servers are used).</summary>
        public uint DnsServer { get; private set; }

        /// <summary>IPv6 DNS server given with <c>dns=</c> (:: = none; then the servers of RDNSS are used).</summary>
        public IPv6Address DnsServer6 { get; private set; }

        /// <summary>True when <c>dns=</c> named a server (of either family): it replaces DHCP's and RDNSS's.</summary>
        public bool HasDnsServer => DnsServer != 0 || !DnsServer6.IsAny;

        /// <summary>Default gateway, valid when <see cref="HasGateway"/>.</summary>
        public uint Gateway { get; private set; }

        /// <summary>True when <c>gw=</c> gave a gateway.</summary>
        public bool HasGateway { get; private set; }

        /// <summary>False with <c>ipv6=off</c>: the stack runs IPv4 only. Default on.</summary>
        public bool Ipv6Enabled { get; private set; } = true;

        /// <summary>Static IPv6 address from <c>ip6=ADDR[/LEN]</c>; :: for none (link-local and SLAAC only).</summary>
        public IPv6Address Ipv6Address { get; private set; }

        /// <summary>Prefix length of <see cref="Ipv6Address"/> (default 64).</summary>
        public int Ipv6PrefixLength { get; private set; } = 64;

        /// <summary>Static IPv6 default router from <c>gw6=ADDR</c>; :: for none (routers come from advertisements).</summary>
        public IPv6Address Ipv6Gateway { get; private set; }

        /// <summary>False with <c>shell=off</c>: no interactive shell on the console.</summary>
        public bool ShellEnabled { get; private set; }

        /// <summary>Fault-injection test to run, <see cref="KernelTest.None"/> normally.</summary>
        public KernelTest Test { get; private set; }

        /// <summary>Name given with <c>test=</c> (empty when none).</summary>
        public ReadOnlySpan<byte> TestName => _testEntry < 0 ? ReadOnlySpan<byte>.Empty : EntryValue(_testEntry);

        /// <summary>False with <c>napi=off</c>: the driver handles packets in the interrupt path instead of polling.</summary>
        public bool NapiEnabled { get; private set; }

        /// <summary>True with <c>prealloc=on</c>: fill receive rings (and pools) completely at start-up.</summary>
        public bool Prealloc { get; private set; }

        /// <summary>False with <c>recycle=off</c>: page pools give pages back instead of recycling them.</summary>
        public bool RecycleEnabled { get; private set; }

        /// <summary>
        /// False with <c>txlazy=off</c>: every transmit batch asks for a completion interrupt instead of small
        /// batches being reclaimed by the next poll or a 1 ms timer.
        /// </summary>
        public bool TxLazyReclaim { get; private set; }

        /// <summary>
        /// True with <c>bql=on</c>: a learned byte limit on the transmit ring holds bulk senders back (as Linux BQL);
        /// off (default): the ring takes frames until it is full.
        /// </summary>
        public bool ByteQueueLimits { get; private set; }

        /// <summary>
        /// True with <c>rcvsize=on</c>: TCP receive buffers follow the drained rate × the minimum RTT and may shrink
        /// (<c>NetConfig.TcpReceiveRightSizing</c>); off (default): they only grow, as Linux's dynamic right-sizing.
        /// </summary>
        public bool ReceiveRightSizing { get; private set; }

        /// <summary>Largest accepted <c>rcvmargin=</c>.</summary>
        public const int MaxReceiveMargin = 10000;

        /// <summary>Margin of <c>rcvsize=on</c> over rate × minimum RTT, percent (<c>rcvmargin=</c>, default 200).</summary>
        public int ReceiveMarginPercent { get; private set; }

        /// <summary>Benchmark receive hook (<c>hook=</c>).</summary>
        public PacketHookMode Hook { get; private set; }

        /// <summary>virtio-net offloads (<c>offload=on|csum|off</c>, default on).</summary>
        public OffloadMode Offload { get; private set; }

        /// <summary>TCP congestion control (<c>tcp_cc=cubic|newreno</c>, default cubic): true for NewReno.</summary>
        public bool TcpNewReno { get; private set; }

        /// <summary>
        /// Sockets of the network stack (<c>sockets=N</c>, 1..<see cref="NetConfig.SocketLimit"/>); 0 = sized from
        /// memory (<see cref="NetConfig.SocketsForMemory"/>).
        /// </summary>
        public int Sockets { get; private set; }

        /// <summary>Largest accepted NAPI budget (<c>budget=</c>).</summary>
        public const int MaxBudget = 1024;

        /// <summary>NAPI poll budget (<c>budget=</c>, 1..1024); 0 = the driver's default.</summary>
        public int Budget { get; private set; }

        /// <summary>
        /// Default <see cref="HaltPollMicroseconds"/>: off. Linux's guest halt polling uses 200 µs, but on this project's
        /// TCG host an A/B of 200 against 0 was within the noise (one-connection HTTP better, ab worse), and a spinning
        /// virtual CPU takes host CPU from QEMU's I/O and the client; <c>haltpoll=200</c> turns it on.
        /// </summary>
        public const int DefaultHaltPollMicroseconds = 0;

        /// <summary>Largest accepted <c>haltpoll=</c> (10 ms).</summary>
        public const int MaxHaltPollMicroseconds = 10_000;

        /// <summary>
        /// After a pass with work, how long the idle CPU polls for more before it halts (<c>haltpoll=N</c> µs, 0 = halt at
        /// once), as Linux's cpuidle-haltpoll: a wake-up from halt costs the virtual CPU far more than a short poll when
        /// the next packet comes soon, as in a request/response exchange.
        /// </summary>
        public int HaltPollMicroseconds { get; private set; }

        /// <summary>Largest accepted <c>rxbufpages=</c>.</summary>
        public const int MaxRxBufferPages = 8;

        /// <summary>
        /// Most pages in one mergeable receive buffer (<c>rxbufpages=</c>, 1..8; 1 = page-sized buffers as in
        /// Linux); 0 = the driver's default.
        /// </summary>
        public int RxBufferPages { get; private set; }

        /// <summary>Well-formed <c>virtio_mmio.device=</c> entries (see <see cref="VirtioMmioCommandLine"/>).</summary>
        public int MmioDeviceCount => _mmioDeviceCount;

        /// <summary>The <paramref name="index"/>th well-formed <c>virtio_mmio.device=</c> device, in command-line order.</summary>
        public MmioDevice GetMmioDevice(int index) => _mmioDevices[index];

        /// <summary>The command line as kept (quotes removed, at most <see cref="MaxLength"/> bytes).</summary>
        public ReadOnlySpan<byte> Text => new ReadOnlySpan<byte>(_text, 0, _textLength);

        /// <summary>Entries parsed.</summary>
        public int EntryCount => _entryCount;

        /// <summary>Problems recorded (see <see cref="Issue"/>).</summary>
        public int IssueCount => _issueCount;

        /// <summary>Problems found, including those beyond <see cref="MaxIssues"/> that were not recorded.</summary>
        public int TotalIssues => _issueCount + _droppedIssues;

        /// <summary>Problem <paramref name="index"/>.</summary>
        public CommandLineIssue Issue(int index) => _issues[index];

        /// <summary>Key of entry <paramref name="index"/>.</summary>
        public ReadOnlySpan<byte> EntryKey(int index) => new ReadOnlySpan<byte>(_text, _keyStart[index], _keyLength[index]);

        /// <summary>Value of entry <paramref name="index"/> (empty for a bare flag).</summary>
        public ReadOnlySpan<byte> EntryValue(int index)
        {
            return _valueStart[index] < 0 ? ReadOnlySpan<byte>.Empty : new ReadOnlySpan<byte>(_text, _valueStart[index], _valueLength[index]);
        }

        /// <summary>True when entry <paramref name="index"/> was written as <c>key=value</c> (false for a bare flag).</summary>
        public bool EntryHasValue(int index) => _valueStart[index] >= 0;

        /// <summary>True when entry <paramref name="index"/> has a known key (or a free-form <c>bench-</c> key).</summary>
        public bool EntryIsKnown(int index) => _known[index];

        /// <summary>Parses a command line given as a byte span (stops at a NUL). Allocates the buffers once.</summary>
        public static KernelCommandLine Parse(ReadOnlySpan<byte> text)
        {
            KernelCommandLine result = new KernelCommandLine();
            result.ParseInto(text);
            return result;
        }

        /// <summary>Parses a NUL-terminated command line of at most <paramref name="maxLength"/> bytes (null = empty).</summary>
        public static unsafe KernelCommandLine Parse(byte* text, int maxLength)
        {
            int length = 0;
            if (text != null)
            {
                while (length < maxLength && text[length] != Nul)
                {
                    length++;
                }
            }
            return Parse(new ReadOnlySpan<byte>(text, length));
        }

        /// <summary>
        /// Value of the last entry with key <paramref name="key"/> (empty for a bare flag). False when the key is absent.
        /// Finds known and unknown keys alike.
        /// </summary>
        public bool TryGetValue(string key, out ReadOnlySpan<byte> value)
        {
            int entry = FindEntry(key);
            if (entry < 0)
            {
                value = ReadOnlySpan<byte>.Empty;
                return false;
            }
            value = EntryValue(entry);
            return true;
        }

        /// <summary>True when some entry has key <paramref name="key"/>.</summary>
        public bool Contains(string key) => FindEntry(key) >= 0;

        /// <summary>
        /// Boolean value of <paramref name="key"/>: <paramref name="defaultValue"/> when absent or not a boolean;
        /// true for a bare flag.
        /// </summary>
        public bool GetFlag(string key, bool defaultValue)
        {
            int entry = FindEntry(key);
            if (entry < 0)
            {
                return defaultValue;
            }
            bool value;
            return TryParseBool(entry, out value) ? value : defaultValue;
        }

        /// <summary>Integer value (decimal or 0x hex) of <paramref name="key"/>; false when absent or not a number.</summary>
        public bool TryGetInt64(string key, out long value)
        {
            value = 0;
            int entry = FindEntry(key);
            return entry >= 0 && EntryHasValue(entry) && NumberParser.TryParseInt64(EntryValue(entry), out value);
        }

        /// <summary>Prints one line per problem ("cmdline: unknown key 'x'"); nothing when there is none.</summary>
        public void ReportIssues(ITextOutput output)
        {
            for (int i = 0; i < _issueCount; i++)
            {
                CommandLineIssue issue = _issues[i];
                output.Write("cmdline: ");
                switch (issue.Kind)
                {
                    case CommandLineIssueKind.UnknownKey:
                        output.Write("unknown key '");
                        TextWriting.WriteAscii(output, EntryKey(issue.Entry));
                        output.Write("'");
                        break;
                    case CommandLineIssueKind.MalformedValue:
                        output.Write("bad value for ");
                        TextWriting.WriteAscii(output, EntryKey(issue.Entry));
                        output.Write(": '");
                        TextWriting.WriteAscii(output, EntryValue(issue.Entry));
                        output.Write("' (default kept)");
                        break;
                    case CommandLineIssueKind.MalformedEntry:
                        output.Write("entry without a key: '=");
                        TextWriting.WriteAscii(output, EntryValue(issue.Entry));
                        output.Write("'");
                        break;
                    case CommandLineIssueKind.RefusedDevice:
                        MmioDevice ignored;
                        output.Write("device ignored: ");
                        TextWriting.WriteAscii(output, EntryKey(issue.Entry));
                        output.Write("=");
                        TextWriting.WriteAscii(output, EntryValue(issue.Entry));
                        output.Write(": ");
                        output.Write(VirtioMmioCommandLine.TryParse(EntryValue(issue.Entry), out ignored));
                        break;
                    case CommandLineIssueKind.TooManyDevices:
                        output.Write("device ignored: more than ");
                        output.Write(MaxMmioDevices);
                        output.Write(" virtio_mmio.device entries");
                        break;
                    case CommandLineIssueKind.TooManyEntries:
                        output.Write("too many entries, the rest are ignored");
                        break;
                    case CommandLineIssueKind.Truncated:
                        output.Write("too long, truncated");
                        break;
                }
                output.WriteLine();
            }
            if (_droppedIssues > 0)
            {
                output.Write("cmdline: ");
                output.Write(_droppedIssues);
                output.Write(" more problems");
                output.WriteLine();
            }
        }

        /// <summary>Prints the effective settings on one line (boot log, shell).</summary>
        public void PrintSettings(ITextOutput output)
        {
            output.Write("ip=");
            if (UseDhcp)
            {
                output.Write("dhcp");
            }
            else
            {
                WriteIpv4(output, IpAddress);
                output.Write('/');
                output.Write(PrefixLength);
            }
            output.Write(" gw=");
            if (HasGateway)
            {
                WriteIpv4(output, Gateway);
            }
            else
            {
                output.Write("none");
            }
            if (!Ipv6Enabled)
            {
                output.Write(" ipv6=off");
            }
            else if (!Ipv6Address.IsAny)
            {
                output.Write(" ip6=");
                Ipv6Address.WriteTo(output);
                output.Write('/');
                output.Write(Ipv6PrefixLength);
            }
            if (!Ipv6Gateway.IsAny)
            {
                output.Write(" gw6=");
                Ipv6Gateway.WriteTo(output);
            }
            output.Write(ShellEnabled ? " shell=on" : " shell=off");
            if (Test != KernelTest.None)
            {
                output.Write(" test=");
                TextWriting.WriteAscii(output, TestName);
            }
            output.Write(NapiEnabled ? " napi=on" : " napi=off");
            output.Write(Prealloc ? " prealloc=on" : " prealloc=off");
            output.Write(RecycleEnabled ? " recycle=on" : " recycle=off");
            output.Write(TxLazyReclaim ? " txlazy=on" : " txlazy=off");
            if (ByteQueueLimits)
            {
                output.Write(" bql=on");
            }
            if (ReceiveRightSizing)
            {
                output.Write(" rcvsize=on rcvmargin=");
                output.Write(ReceiveMarginPercent);
            }
            output.Write(" hook=");
            output.Write(Hook == PacketHookMode.Drop ? "drop" : Hook == PacketHookMode.EchoCount ? "echo-count" : "none");
            output.WriteLine();
        }

        /// <summary>Writes an address as a.b.c.d.</summary>
        public static void WriteIpv4(ITextOutput output, uint address)
        {
            output.Write((long)(address >> 24));
            output.Write('.');
            output.Write((long)((address >> 16) & 0xFF));
            output.Write('.');
            output.Write((long)((address >> 8) & 0xFF));
            output.Write('.');
            output.Write((long)(address & 0xFF));
        }

        /// <summary>Splits <paramref name="text"/> into entries, then applies the known ones.</summary>
        private void ParseInto(ReadOnlySpan<byte> text)
        {
            int i = 0;
            bool tooMany = false;
            while (i < text.Length && text[i] != Nul)
            {
                if (IsBlank(text[i]))
                {
                    i++;
                    continue;
                }
                // One entry: copy it, without quotes, to _text.
                int start = _textLength;
                int equals = -1;
                bool quoted = false;
                bool truncated = false;
                while (i < text.Length && text[i] != Nul && (quoted || !IsBlank(text[i])))
                {
                    byte c = text[i++];
                    if (c == Quote)
                    {
                        quoted = !quoted;
                        continue;
                    }
                    if (_textLength == MaxLength)
                    {
                        truncated = true;
                        continue;
                    }
                    if (c == '=' && equals < 0)
                    {
                        equals = _textLength;
                    }
                    _text[_textLength++] = c;
                }
                if (truncated)
                {
                    AddIssue(CommandLineIssueKind.Truncated, -1);
                    _textLength = start;
                    break;
                }
                if (_entryCount == MaxEntries)
                {
                    if (!tooMany)
                    {
                        AddIssue(CommandLineIssueKind.TooManyEntries, -1);
                        tooMany = true;
                    }
                    _textLength = start;
                    continue;
                }
                int entry = _entryCount++;
                _keyStart[entry] = start;
                if (equals < 0)
                {
                    _keyLength[entry] = _textLength - start;
                    _valueStart[entry] = -1;
                    _valueLength[entry] = 0;
                }
                else
                {
                    _keyLength[entry] = equals - start;
                    _valueStart[entry] = equals + 1;
                    _valueLength[entry] = _textLength - equals - 1;
                }
            }

            for (int entry = 0; entry < _entryCount; entry++)
            {
                Apply(entry);
            }
        }

        /// <summary>Index of the last entry whose key is <paramref name="key"/>, or -1.</summary>
        private int FindEntry(string key)
        {
            for (int i = _entryCount - 1; i >= 0; i--)
            {
                if (AsciiText.Matches(EntryKey(i), key))
                {
                    return i;
                }
            }
            return -1;
        }

        /// <summary>Records a problem (or counts it when the list is full).</summary>
        private void AddIssue(CommandLineIssueKind kind, int entry)
        {
            if (_issueCount == MaxIssues)
            {
                _droppedIssues++;
                return;
            }
            _issues[_issueCount].Kind = kind;
            _issues[_issueCount].Entry = entry;
            _issueCount++;
        }

        /// <summary>True for the characters that separate entries.</summary>
        private static bool IsBlank(byte c)
        {
            return c == ' ' || c == '\t' || c == '\n' || c == '\r';
        }
    }
}
