using System;
using System.Text;
using Keel.Kernel.Config;
using NUnit.Framework;

namespace Keel.Tests.Kernel
{
    public unsafe class KernelCommandLineTests
    {
        private static KernelCommandLine Parse(string text) => KernelCommandLine.Parse(Encoding.ASCII.GetBytes(text));

        private static string Str(ReadOnlySpan<byte> bytes) => Encoding.ASCII.GetString(bytes);

        private static string Report(KernelCommandLine c)
        {
            var output = new TextCapture();
            c.ReportIssues(output);
            return output.Text;
        }

        [Test]
        public void EmptyLineGivesDefaults()
        {
            KernelCommandLine c = Parse("");
            Assert.That(c.IpAddress, Is.EqualTo(0xC6120002u));
            Assert.That(c.PrefixLength, Is.EqualTo(24));
            Assert.That(c.Netmask, Is.EqualTo(0xFFFFFF00u));
            Assert.That(c.HasGateway, Is.False);
            Assert.That(c.ShellEnabled, Is.True);
            Assert.That(c.Test, Is.EqualTo(KernelTest.None));
            Assert.That(c.NapiEnabled, Is.True);
            Assert.That(c.Prealloc, Is.False);
            Assert.That(c.RecycleEnabled, Is.True);
            Assert.That(c.Hook, Is.EqualTo(PacketHookMode.None));
            Assert.That(c.EntryCount, Is.EqualTo(0));
            Assert.That(c.IssueCount, Is.EqualTo(0));
            var output = new TextCapture();
            c.PrintSettings(output);
            Assert.That(output.Text, Is.EqualTo("ip=dhcp gw=none shell=on napi=on prealloc=off recycle=on txlazy=on hook=none\n"));
            Assert.That(c.UseDhcp, Is.True, "no ip= means DHCP");
        }

        [TestCase("ip=dhcp", true)]
        [TestCase("ip=198.18.0.2/24", false)]
        [TestCase("ip=198.18.0.2/24 ip=dhcp", true)]
        [TestCase("ip=dhcp ip=10.0.0.5/8", false)]
        [TestCase("ip=1.2.3.4/33", true)]
        public void DhcpIsTheDefaultAndAStaticAddressTurnsItOff(string line, bool dhcp)
        {
            KernelCommandLine c = Parse(line);
            Assert.That(c.UseDhcp, Is.EqualTo(dhcp));
        }

        [Test]
        public void DnsServerIsParsed()
        {
            Assert.That(Parse("dns=198.18.0.1").DnsServer, Is.EqualTo(0xC6120001u));
            KernelCommandLine bad = Parse("dns=nope");
            Assert.That(bad.DnsServer, Is.EqualTo(0u));
            Assert.That(bad.IssueCount, Is.EqualTo(1));
        }

        [TestCase("", OffloadMode.On)]
        [TestCase("offload=on", OffloadMode.On)]
        [TestCase("offload=csum", OffloadMode.ChecksumOnly)]
        [TestCase("offload=off", OffloadMode.Off)]
        [TestCase("bench-offload=off", OffloadMode.Off)]
        public void OffloadModeIsParsed(string text, OffloadMode expected)
        {
            KernelCommandLine c = Parse(text);
            Assert.That(c.Offload, Is.EqualTo(expected));
            Assert.That(c.IssueCount, Is.EqualTo(0), Report(c));
        }

        [TestCase("", false, 0)]
        [TestCase("tcp_cc=cubic", false, 0)]
        [TestCase("tcp_cc=newreno", true, 0)]
        [TestCase("tcp_cc=reno", true, 0)]
        [TestCase("tcp_cc=bbr", false, 1)]
        public void TcpCongestionControlIsParsed(string text, bool newReno, int issues)
        {
            KernelCommandLine c = Parse(text);
            Assert.That(c.TcpNewReno, Is.EqualTo(newReno));
            Assert.That(c.IssueCount, Is.EqualTo(issues), Report(c));
        }

        [TestCase("", KernelCommandLine.DefaultHaltPollMicroseconds, 0)]
        [TestCase("haltpoll=0", 0, 0)]
        [TestCase("haltpoll=50", 50, 0)]
        [TestCase("haltpoll=10000", 10000, 0)]
        [TestCase("haltpoll=10001", KernelCommandLine.DefaultHaltPollMicroseconds, 1)]
        [TestCase("haltpoll=-1", KernelCommandLine.DefaultHaltPollMicroseconds, 1)]
        [TestCase("haltpoll", KernelCommandLine.DefaultHaltPollMicroseconds, 1)]
        public void HaltPollIsRangeChecked(string text, int expected, int issues)
        {
            KernelCommandLine c = Parse(text);
            Assert.That(c.HaltPollMicroseconds, Is.EqualTo(expected));
            Assert.That(c.IssueCount, Is.EqualTo(issues), Report(c));
        }

        [TestCase("budget=16", 16, 0)]
        [TestCase("budget=1024", 1024, 0)]
        [TestCase("budget=0", 0, 1)]
        [TestCase("budget=5000", 0, 1)]
        [TestCase("budget=x", 0, 1)]
        [TestCase("offload=maybe", 0, 1)]
        public void BudgetIsRangeChecked(string text, int expected, int issues)
        {
            KernelCommandLine c = Parse(text);
            Assert.That(c.Budget, Is.EqualTo(expected));
            Assert.That(c.IssueCount, Is.EqualTo(issues), Report(c));
        }

        [TestCase("", false, false, 200, 0, "")]
        [TestCase("bql=on", true, false, 200, 0, " bql=on")]
        [TestCase("bench-bql rcvsize=on", true, true, 200, 0, " bql=on rcvsize=on rcvmargin=200")]
        [TestCase("rcvsize=on rcvmargin=400", false, true, 400, 0, " rcvsize=on rcvmargin=400")]
        [TestCase("rcvsize=maybe rcvmargin=0 bql=2", false, false, 200, 3, "")]
        public void LatencySwitchesAreParsedAndShownWhenOn(string text, bool bql, bool rightSizing, int margin, int issues, string shown)
        {
            KernelCommandLine c = Parse(text);
            Assert.That(c.ByteQueueLimits, Is.EqualTo(bql));
            Assert.That(c.ReceiveRightSizing, Is.EqualTo(rightSizing));
            Assert.That(c.ReceiveMarginPercent, Is.EqualTo(margin));
            Assert.That(c.IssueCount, Is.EqualTo(issues), Report(c));
            var output = new TextCapture();
            c.PrintSettings(output);
            Assert.That(output.Text, Is.EqualTo("ip=dhcp gw=none shell=on napi=on prealloc=off recycle=on txlazy=on" + shown + " hook=none\n"));
        }

        [TestCase("", 0, 0)]
        [TestCase("sockets=10000", 10000, 0)]
        [TestCase("sockets=65536", 65536, 0)]
        [TestCase("sockets=0", 0, 1)]
        [TestCase("sockets=65537", 0, 1)]
        [TestCase("sockets=many", 0, 1)]
        public void SocketsIsRangeChecked(string text, int expected, int issues)
        {
            KernelCommandLine c = Parse(text);
            Assert.That(c.Sockets, Is.EqualTo(expected));
            Assert.That(c.IssueCount, Is.EqualTo(issues), Report(c));
        }

        [Test]
        public void KnownKeysAreApplied()
        {
            KernelCommandLine c = Parse("ip=10.1.2.3/16 gw=10.1.0.1 shell=off test=nullref napi=off prealloc=on recycle=off hook=echo-count");
            Assert.That(c.IpAddress, Is.EqualTo(0x0A010203u));
            Assert.That(c.PrefixLength, Is.EqualTo(16));
            Assert.That(c.Netmask, Is.EqualTo(0xFFFF0000u));
            Assert.That(c.HasGateway, Is.True);
            Assert.That(c.Gateway, Is.EqualTo(0x0A010001u));
            Assert.That(c.ShellEnabled, Is.False);
            Assert.That(c.Test, Is.EqualTo(KernelTest.NullReference));
            Assert.That(Str(c.TestName), Is.EqualTo("nullref"));
            Assert.That(c.NapiEnabled, Is.False);
            Assert.That(c.Prealloc, Is.True);
            Assert.That(c.RecycleEnabled, Is.False);
            Assert.That(c.Hook, Is.EqualTo(PacketHookMode.EchoCount));
            Assert.That(c.IssueCount, Is.EqualTo(0), Report(c));
            var output = new TextCapture();
            c.PrintSettings(output);
            Assert.That(output.Text, Is.EqualTo("ip=10.1.2.3/16 gw=10.1.0.1 shell=off test=nullref napi=off prealloc=on recycle=off txlazy=on hook=echo-count\n"));
        }

        [TestCase("pagefault", KernelTest.PageFault)]
        [TestCase("nullref", KernelTest.NullReference)]
        [TestCase("bounds", KernelTest.Bounds)]
        [TestCase("throw", KernelTest.Throw)]
        [TestCase("oom", KernelTest.Other)]
        public void TestSwitches(string name, KernelTest expected)
        {
            KernelCommandLine c = Parse("test=" + name);
            Assert.That(c.Test, Is.EqualTo(expected));
            Assert.That(Str(c.TestName), Is.EqualTo(name));
        }

        [Test]
        public void BenchPrefixAndFreeFormKeys()
        {
            KernelCommandLine c = Parse("bench-napi=off bench-hook=drop bench-duration=30 bench-mode=\"two words\" flag");
            Assert.That(c.NapiEnabled, Is.False);
            Assert.That(c.Hook, Is.EqualTo(PacketHookMode.Drop));
            Assert.That(c.TryGetInt64("bench-duration", out long duration), Is.True);
            Assert.That(duration, Is.EqualTo(30));
            Assert.That(c.TryGetValue("bench-mode", out ReadOnlySpan<byte> mode), Is.True);
            Assert.That(Str(mode), Is.EqualTo("two words"));
            Assert.That(c.Contains("flag"), Is.True);
            Assert.That(c.GetFlag("flag", false), Is.True);
            Assert.That(c.TryGetValue("missing", out _), Is.False);
            Assert.That(c.IssueCount, Is.EqualTo(1), "only 'flag' is unknown");
            Assert.That(Report(c), Is.EqualTo("cmdline: unknown key 'flag'\n"));
        }

        [Test]
        public void MalformedValuesAreReportedAndDefaultsKept()
        {
            KernelCommandLine c = Parse("ip=300.1.1.1 gw=1.2.3 shell=maybe napi=2 hook=bounce test rxmode=mergeable ip=1.2.3.4/33 =5 colour=blue");
            Assert.That(c.IpAddress, Is.EqualTo(KernelCommandLine.DefaultIpAddress));
            Assert.That(c.PrefixLength, Is.EqualTo(24));
            Assert.That(c.HasGateway, Is.False);
            Assert.That(c.ShellEnabled, Is.True);
            Assert.That(c.NapiEnabled, Is.True);
            Assert.That(c.Hook, Is.EqualTo(PacketHookMode.None));
            Assert.That(c.Test, Is.EqualTo(KernelTest.None));
            Assert.That(c.IssueCount, Is.EqualTo(10));
            string report = Report(c);
            Assert.That(report, Does.Contain("cmdline: bad value for ip: '300.1.1.1' (default kept)\n"));
            Assert.That(report, Does.Contain("cmdline: bad value for gw: '1.2.3'"));
            Assert.That(report, Does.Contain("cmdline: bad value for hook: 'bounce'"));
            Assert.That(report, Does.Contain("cmdline: bad value for test: ''"));
            Assert.That(report, Does.Contain("cmdline: bad value for ip: '1.2.3.4/33'"));
            Assert.That(report, Does.Contain("cmdline: entry without a key: '=5'"));
            Assert.That(report, Does.Contain("cmdline: unknown key 'colour'"));
            Assert.That(report, Does.Contain("cmdline: unknown key 'rxmode'"), "rxmode= was never read by the driver and is gone");
            Assert.That(c.TryGetValue("colour", out ReadOnlySpan<byte> colour), Is.True);
            Assert.That(Str(colour), Is.EqualTo("blue"));
        }

        [TestCase("1.2.3.4", true, 0x01020304u, 24)]
        [TestCase("255.255.255.255/32", true, 0xFFFFFFFFu, 32)]
        [TestCase("0.0.0.0/0", true, 0u, 0)]
        [TestCase("1.2.3.4/", false, 0u, 0)]
        [TestCase("1.2.3.4.5", false, 0u, 0)]
        [TestCase("1..3.4", false, 0u, 0)]
        [TestCase("1.2.3.0004", false, 0u, 0)]
        [TestCase("1.2.3.4/x", false, 0u, 0)]
        [TestCase("a.b.c.d", false, 0u, 0)]
        [TestCase("", false, 0u, 0)]
        public void Ipv4Parsing(string text, bool ok, uint address, int prefix)
        {
            bool parsed = Ipv4Text.TryParseCidr(Encoding.ASCII.GetBytes(text), 24, out uint a, out int p);
            Assert.That(parsed, Is.EqualTo(ok));
            if (ok)
            {
                Assert.That(a, Is.EqualTo(address));
                Assert.That(p, Is.EqualTo(prefix));
            }
        }

        [Test]
        public void LastOccurrenceWinsAndBlanksAndNulAreHandled()
        {
            KernelCommandLine c = Parse("  napi=off\tnapi=on \r\n recycle=no\0shell=off");
            Assert.That(c.NapiEnabled, Is.True);
            Assert.That(c.RecycleEnabled, Is.False);
            Assert.That(c.ShellEnabled, Is.True, "text after NUL is ignored");
            Assert.That(c.EntryCount, Is.EqualTo(3));
        }

        [Test]
        public void NulTerminatedPointer()
        {
            byte[] bytes = Encoding.ASCII.GetBytes("shell=off test=bounds\0garbage=1");
            fixed (byte* p = bytes)
            {
                KernelCommandLine c = KernelCommandLine.Parse(p, 4096);
                Assert.That(c.ShellEnabled, Is.False);
                Assert.That(c.Test, Is.EqualTo(KernelTest.Bounds));
                Assert.That(c.EntryCount, Is.EqualTo(2));
            }
            Assert.That(KernelCommandLine.Parse(null, 100).EntryCount, Is.EqualTo(0));
        }

        [Test]
        public void TooManyEntriesAndTooLongAreReported()
        {
            var many = new StringBuilder();
            for (int i = 0; i < KernelCommandLine.MaxEntries + 5; i++)
            {
                many.Append("bench-k").Append(i).Append("=1 ");
            }
            KernelCommandLine c = Parse(many.ToString());
            Assert.That(c.EntryCount, Is.EqualTo(KernelCommandLine.MaxEntries));
            Assert.That(Report(c), Is.EqualTo("cmdline: too many entries, the rest are ignored\n"));

            KernelCommandLine longLine = Parse("shell=off bench-x=" + new string('y', KernelCommandLine.MaxLength) + " napi=off");
            Assert.That(longLine.ShellEnabled, Is.False);
            Assert.That(longLine.NapiEnabled, Is.True, "entries after the cut are dropped");
            Assert.That(longLine.EntryCount, Is.EqualTo(1));
            Assert.That(Report(longLine), Is.EqualTo("cmdline: too long, truncated\n"));
        }

        [Test]
        public void ManyUnknownKeysAreCountedBeyondTheList()
        {
            var many = new StringBuilder();
            for (int i = 0; i < KernelCommandLine.MaxIssues + 3; i++)
            {
                many.Append('u').Append(i).Append(' ');
            }
            KernelCommandLine c = Parse(many.ToString());
            Assert.That(c.IssueCount, Is.EqualTo(KernelCommandLine.MaxIssues));
            Assert.That(c.TotalIssues, Is.EqualTo(KernelCommandLine.MaxIssues + 3));
            Assert.That(Report(c), Does.EndWith("cmdline: 3 more problems\n"));
        }
    }
}
