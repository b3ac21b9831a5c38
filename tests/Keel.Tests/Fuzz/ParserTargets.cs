using System;
using Keel.Apps.Iperf3;
using Keel.Apps.Json;
using Keel.Kernel.Acpi;
using Keel.Kernel.Boot;
using Keel.Kernel.Config;
using Keel.Net.Dhcp;
using Keel.Net.Dns;
using Keel.Net.Tcp;
using Keel.Tests.Kernel;

namespace Keel.Tests.Fuzz
{
    /// <summary>Targets that call one parser on the bytes, with the invariants of its result.</summary>
    public static unsafe class ParserTargets
    {
        /// <summary>A DHCP reply (RFC 2131, options RFC 2132) to the transaction and MAC it names itself.</summary>
        public static void DhcpMessage(ReadOnlySpan<byte> input)
        {
            byte[] copy = input.ToArray();
            fixed (byte* p = copy)
            {
                uint xid = copy.Length >= 8 ? (uint)((copy[4] << 24) | (copy[5] << 16) | (copy[6] << 8) | copy[7]) : 0;
                ulong mac = 0;
                for (int i = 0; i < 6 && 28 + i < copy.Length; i++)
                {
                    mac = (mac << 8) | copy[28 + i];
                }
                DhcpReply reply;
                Keel.Net.Dhcp.DhcpMessage.Parse(p, copy.Length, xid, mac, out reply);
            }
        }

        /// <summary>
        /// A DNS message (RFC 1035 4.1) walked as the resolver walks it: the question names, then every record.
        /// Names are decoded into a 255-byte buffer with guard bytes after it that must stay untouched.
        /// </summary>
        public static void DnsMessage(ReadOnlySpan<byte> input)
        {
            byte[] copy = input.ToArray();
            byte* name = stackalloc byte[255 + 16];
            for (int i = 255; i < 271; i++)
            {
                name[i] = 0xA5;
            }
            fixed (byte* m = copy)
            {
                int length = copy.Length;
                if (length < 12)
                {
                    return;
                }
                int questions = (m[4] << 8) | m[5];
                int records = ((m[6] << 8) | m[7]) + ((m[8] << 8) | m[9]) + ((m[10] << 8) | m[11]);
                int offset = 12;
                for (int q = 0; q < questions && offset < length; q++)
                {
                    int next;
                    int n = Keel.Net.Dns.DnsMessage.ReadName(m, length, offset, name, out next);
                    FuzzInvariantException.Check(n <= 255, "decoded name longer than 255");
                    if (n == 0)
                    {
                        return;
                    }
                    FuzzInvariantException.Check(next > offset && next <= length, "name end outside the message");
                    offset = next + 4;
                }
                for (int r = 0; r < records && offset < length; r++)
                {
                    int ownerLength, type, @class, dataOffset, dataLength;
                    uint ttl;
                    if (!Keel.Net.Dns.DnsMessage.ReadRecord(m, length, offset, name, out ownerLength, out type, out @class, out ttl, out dataOffset, out dataLength))
                    {
                        break;
                    }
                    FuzzInvariantException.Check(ownerLength <= 255 && dataOffset > offset && dataOffset + dataLength <= length, "record outside the message");
                    FuzzInvariantException.Check(ttl <= 0x7FFFFFFF, "TTL with the top bit set kept");
                    if (type == Keel.Net.Dns.DnsMessage.TypeCname)
                    {
                        int next;
                        int n = Keel.Net.Dns.DnsMessage.ReadName(m, length, dataOffset, name, out next);
                        FuzzInvariantException.Check(n <= 255, "decoded CNAME longer than 255");
                    }
                    offset = dataOffset + dataLength;
                }
            }
            for (int i = 255; i < 271; i++)
            {
                FuzzInvariantException.Check(name[i] == 0xA5, "a decoded name was written past 255 bytes");
            }
        }

        /// <summary>TCP options (RFC 9293 3.1, RFC 7323, RFC 2018): first byte bit 0 = SYN, then at most 40 option bytes.</summary>
        public static void TcpOptions(ReadOnlySpan<byte> input)
        {
            if (input.Length == 0)
            {
                return;
            }
            bool syn = (input[0] & 1) != 0;
            byte[] options = input.Slice(1, Math.Min(input.Length - 1, 40)).ToArray();
            TcpSegment segment = default;
            segment.WindowScale = -1;
            fixed (byte* p = options)
            {
                Keel.Net.Tcp.TcpOptions.Parse(p, options.Length, ref segment, syn);
            }
            FuzzInvariantException.Check(segment.SackCount >= 0 && segment.SackCount <= TcpSegment.MaxSackBlocks, "SACK block count out of range");
            FuzzInvariantException.Check(segment.WindowScale >= -1 && segment.WindowScale <= 14, "window scale beyond 14 (RFC 7323 2.3)");
            FuzzInvariantException.Check(segment.Mss >= 0 && segment.Mss <= 65535, "MSS out of range");
            FuzzInvariantException.Check(syn || (segment.Mss == 0 && segment.WindowScale == -1 && !segment.SackPermitted), "SYN-only option taken outside a SYN");
        }

        /// <summary>
        /// SYN cookies: a cookie made for a connection checks back to its MSS index; any other value checks as
        /// invalid or as a valid index; timestamps carry window scale and SACK-permitted back.
        /// </summary>
        public static void SynCookies(ReadOnlySpan<byte> input)
        {
            FuzzReader r = new FuzzReader(input);
            Keel.Net.Tcp.SynCookies cookies = new Keel.Net.Tcp.SynCookies(r.U32() | ((ulong)r.U32() << 32), 7, 11, 13);
            Keel.Net.IPAddress saddr = new Keel.Net.IPv4Address(r.U32()), daddr = new Keel.Net.IPv4Address(r.U32());
            int sport = r.U16(), dport = r.U16();
            uint isn = r.U32();
            int mssIndex;
            Keel.Net.Tcp.SynCookies.EncodableMss(r.U16(), false, out mssIndex);
            uint minute = r.U32();
            uint cookie = cookies.Make(saddr, daddr, sport, dport, isn, mssIndex, minute);
            FuzzInvariantException.Check(cookies.Check(saddr, daddr, sport, dport, isn, cookie, minute) == mssIndex, "a fresh cookie does not check");
            int other = cookies.Check(saddr, daddr, sport, dport, isn, r.U32(), minute + (uint)(r.U8() & 3));
            FuzzInvariantException.Check(other < 0 || Keel.Net.Tcp.SynCookies.MssTable(other, false) > 0, "a checked cookie gives no MSS");
            int scale = r.U8() % 16;
            bool sack = (r.U8() & 1) != 0;
            uint ts = Keel.Net.Tcp.SynCookies.EncodeTimestamp(r.U32(), scale > 14 ? -1 : scale, sack);
            int scaleBack;
            bool sackBack;
            if (Keel.Net.Tcp.SynCookies.DecodeTimestamp(ts, out scaleBack, out sackBack))
            {
                FuzzInvariantException.Check(sackBack == sack && scaleBack == (scale > 14 ? -1 : scale), "timestamp cookie does not round-trip");
            }
            Keel.Net.Tcp.SynCookies.DecodeTimestamp(r.U32(), out scaleBack, out sackBack);
            FuzzInvariantException.Check(scaleBack >= -1 && scaleBack <= 14, "decoded window scale out of range");
        }

        /// <summary>JSON (RFC 8259) through the iperf3 server's reader, then as iperf3 test parameters.</summary>
        public static void Json(ReadOnlySpan<byte> input)
        {
            byte[] text = input.ToArray();
            JsonReader reader = new JsonReader();
            reader.Reset(text, 0, text.Length);
            int tokens = 0;
            while (reader.Read())
            {
                tokens++;
                FuzzInvariantException.Check(tokens <= text.Length + 1, "the reader returns more tokens than there are bytes");
                FuzzInvariantException.Check(reader.CurrentDepth >= 0, "negative depth");
                long l;
                double d;
                reader.TryGetInt64(out l);
                reader.TryGetDouble(out d);
            }
            reader.Reset(text, 0, text.Length);
            new Iperf3Parameters().Parse(reader);
        }

        /// <summary>
        /// A multiboot2 information structure (Multiboot2 3.6): every pointer the walk returns lies inside it; the
        /// command line it finds goes through the command-line parser.
        /// </summary>
        public static void Multiboot2(ReadOnlySpan<byte> input)
        {
            byte[] copy = new byte[(input.Length + 7) & ~7];
            input.CopyTo(copy);
            fixed (byte* info = copy)
            {
                Multiboot2Tags tags;
                if (!Multiboot2Info.Parse(info, (uint)input.Length, out tags))
                {
                    return;
                }
                byte* end = info + input.Length;
                FuzzInvariantException.Check(tags.CommandLine == null || (tags.CommandLine >= info && tags.CommandLine + tags.CommandLineLength <= end), "command line outside the structure");
                FuzzInvariantException.Check(tags.MemoryMap == null || (tags.MemoryMap >= info && tags.MemoryMap + (long)tags.MemoryMapCount * tags.MemoryMapEntrySize <= end), "memory map outside the structure");
                FuzzInvariantException.Check(tags.Rsdp == null || (tags.Rsdp >= info && tags.Rsdp + tags.RsdpLength <= end), "RSDP outside the structure");
                if (tags.CommandLine != null)
                {
                    KernelCommandLine.Parse(tags.CommandLine, tags.CommandLineLength);
                }
            }
        }

        /// <summary>The kernel command line: parsed, applied, its issues and settings printed.</summary>
        public static void CommandLine(ReadOnlySpan<byte> input)
        {
            KernelCommandLine line = KernelCommandLine.Parse(input);
            TextCapture output = new TextCapture();
            line.ReportIssues(output);
            line.PrintSettings(output);
        }

        /// <summary>Base of the physical memory the ACPI target's bytes are (where a BIOS keeps its tables).</summary>
        public const ulong AcpiBase = 0xE0000;

        /// <summary>
        /// Physical memory from 0xE0000 holding ACPI tables (ACPI 6.5 5.2): the RSDP is searched for and the tables
        /// behind it parsed (root table, FADT, DSDT's \_S5 package in AML, MADT); reads outside the bytes fail.
        /// </summary>
        public static void Acpi(ReadOnlySpan<byte> input)
        {
            if (input.Length == 0)
            {
                return;
            }
            using SimulatedPhysicalMemory memory = new SimulatedPhysicalMemory(AcpiBase, (ulong)input.Length);
            input.CopyTo(new Span<byte>(memory.At(AcpiBase), input.Length));
            BoundedMemory bounded = new BoundedMemory(memory);
            AcpiTables tables = new AcpiTables(bounded);
            ulong rsdp = tables.FindRsdp(AcpiBase, AcpiBase + (ulong)input.Length);
            tables.Parse(rsdp != 0 ? rsdp : AcpiBase);
            FuzzInvariantException.Check(tables.BadTables >= 0 && tables.TableCount >= 0, "negative table counts");
            byte a, b;
            AmlSleepPackage.TryFind(bounded, AcpiBase, (uint)input.Length, out a, out b);
        }
    }

    /// <summary>A physical-memory reader whose every read must be inside the memory (a read CanRead refused is a crash).</summary>
    internal sealed class BoundedMemory : IPhysicalMemoryReader
    {
        private readonly SimulatedPhysicalMemory _memory;

        public BoundedMemory(SimulatedPhysicalMemory memory) => _memory = memory;

        public bool CanRead(ulong address, uint length) => _memory.CanRead(address, length);

        public byte Read8(ulong address)
        {
            FuzzInvariantException.Check(_memory.CanRead(address, 1), "read of physical memory outside what CanRead allows");
            return _memory.Read8(address);
        }
    }
}
