using System;
using Keel.Hal;
using Keel.Kernel.Platform;
using Keel.Kernel.Text;
using Keel.Net;

namespace Keel.Kernel.Config
{
    /// <summary>The kernel command line: applying each entry to the settings (see KernelCommandLine.cs).</summary>
    public sealed partial class KernelCommandLine
    {
        /// <summary>Applies one entry to the settings, recording problems.</summary>
        private void Apply(int entry)
        {
            ReadOnlySpan<byte> key = EntryKey(entry);
            ReadOnlySpan<byte> value = EntryValue(entry);
            if (key.Length == 0)
            {
                AddIssue(CommandLineIssueKind.MalformedEntry, entry);
                return;
            }
            _known[entry] = true;
            bool ok = true;
            bool flag;
            if (AsciiText.Matches(key, "ip"))
            {
                uint address;
                int prefix;
                if (AsciiText.Matches(value, "dhcp"))
                {
                    UseDhcp = true;
                }
                else
                {
                    ok = Ipv4Text.TryParseCidr(value, DefaultPrefixLength, out address, out prefix);
                    if (ok)
                    {
                        IpAddress = address;
                        PrefixLength = prefix;
                        UseDhcp = false;
                    }
                }
            }
            else if (AsciiText.Matches(key, "dns"))
            {
                uint address;
                IPv6Address address6;
                if (Ipv4Text.TryParseAddress(value, out address))
                {
                    DnsServer = address;
                    DnsServer6 = IPv6Address.Any;
                }
                else
                {
                    ok = Ipv6Text.TryParseAddress(value, out address6) && !address6.IsMulticast && !address6.IsAny;
                    if (ok)
                    {
                        DnsServer = 0;
                        DnsServer6 = address6;
                    }
                }
            }
            else if (AsciiText.Matches(key, "gw"))
            {
                uint address;
                ok = Ipv4Text.TryParseAddress(value, out address);
                if (ok)
                {
                    Gateway = address;
                    HasGateway = true;
                }
            }
            else if (AsciiText.Matches(key, "ip6"))
            {
                IPv6Address address;
                int prefix;
                ok = Ipv6Text.TryParseCidr(value, 64, out address, out prefix) && !address.IsMulticast && !address.IsAny;
                if (ok)
                {
                    Ipv6Address = address;
                    Ipv6PrefixLength = prefix;
                }
            }
            else if (AsciiText.Matches(key, "gw6"))
            {
                IPv6Address address;
                ok = Ipv6Text.TryParseAddress(value, out address) && !address.IsMulticast && !address.IsAny;
                if (ok)
                {
                    Ipv6Gateway = address;
                }
            }
            else if (AsciiText.Matches(key, "ipv6"))
            {
                ok = TryParseBool(entry, out flag);
                if (ok)
                {
                    Ipv6Enabled = flag;
                }
            }
            else if (AsciiText.Matches(key, "sockets"))
            {
                int sockets;
                ok = TryParseCount(entry, NetConfig.SocketLimit, out sockets);
                if (ok)
                {
                    Sockets = sockets;
                }
            }
            else if (AsciiText.Matches(key, "shell"))
            {
                ok = TryParseBool(entry, out flag);
                if (ok)
                {
                    ShellEnabled = flag;
                }
            }
            else if (AsciiText.Matches(key, "test"))
            {
                ok = value.Length > 0;
                if (ok)
                {
                    _testEntry = entry;
                    Test = AsciiText.Matches(value, "pagefault") ? KernelTest.PageFault
                        : AsciiText.Matches(value, "nullref") ? KernelTest.NullReference
                        : AsciiText.Matches(value, "bounds") ? KernelTest.Bounds
                        : AsciiText.Matches(value, "throw") ? KernelTest.Throw
                        : KernelTest.Other;
                }
            }
            else if (VirtioMmioCommandLine.IsKey(key))
            {
                ApplyMmioDevice(entry, value);
                return;
            }
            else
            {
                if (AsciiText.StartsWith(key, BenchPrefix))
                {
                    key = key.Slice(BenchPrefix.Length);
                }
                if (AsciiText.Matches(key, "napi"))
                {
                    ok = TryParseBool(entry, out flag);
                    if (ok)
                    {
                        NapiEnabled = flag;
                    }
                }
                else if (AsciiText.Matches(key, "prealloc"))
                {
                    ok = TryParseBool(entry, out flag);
                    if (ok)
                    {
                        Prealloc = flag;
                    }
                }
                else if (AsciiText.Matches(key, "recycle"))
                {
                    ok = TryParseBool(entry, out flag);
                    if (ok)
                    {
                        RecycleEnabled = flag;
                    }
                }
                else if (AsciiText.Matches(key, "txlazy"))
                {
                    ok = TryParseBool(entry, out flag);
                    if (ok)
                    {
                        TxLazyReclaim = flag;
                    }
                }
                else if (AsciiText.Matches(key, "bql"))
                {
                    ok = TryParseBool(entry, out flag);
                    if (ok)
                    {
                        ByteQueueLimits = flag;
                    }
                }
                else if (AsciiText.Matches(key, "rcvsize"))
                {
                    ok = TryParseBool(entry, out flag);
                    if (ok)
                    {
                        ReceiveRightSizing = flag;
                    }
                }
                else if (AsciiText.Matches(key, "rcvmargin"))
                {
                    int margin;
                    ok = TryParseCount(entry, MaxReceiveMargin, out margin);
                    if (ok)
                    {
                        ReceiveMarginPercent = margin;
                    }
                }
                else if (AsciiText.Matches(key, "offload"))
                {
                    ok = true;
                    if (AsciiText.Matches(value, "on"))
                    {
                        Offload = OffloadMode.On;
                    }
                    else if (AsciiText.Matches(value, "csum"))
                    {
                        Offload = OffloadMode.ChecksumOnly;
                    }
                    else if (AsciiText.Matches(value, "off"))
                    {
                        Offload = OffloadMode.Off;
                    }
                    else
                    {
                        ok = false;
                    }
                }
                else if (AsciiText.Matches(key, "tcp_cc"))
                {
                    ok = true;
                    if (AsciiText.Matches(value, "cubic"))
                    {
                        TcpNewReno = false;
                    }
                    else if (AsciiText.Matches(value, "newreno") || AsciiText.Matches(value, "reno"))
                    {
                        TcpNewReno = true;
                    }
                    else
                    {
                        ok = false;
                    }
                }
                else if (AsciiText.Matches(key, "budget"))
                {
                    int budget;
                    ok = TryParseCount(entry, MaxBudget, out budget);
                    if (ok)
                    {
                        Budget = budget;
                    }
                }
                else if (AsciiText.Matches(key, "haltpoll"))
                {
                    long micros = 0;
                    ok = EntryHasValue(entry) && NumberParser.TryParseInt64(EntryValue(entry), out micros) &&
                         micros >= 0 && micros <= MaxHaltPollMicroseconds;
                    if (ok)
                    {
                        HaltPollMicroseconds = (int)micros;
                    }
                }
                else if (AsciiText.Matches(key, "rxbufpages"))
                {
                    int pages;
                    ok = TryParseCount(entry, MaxRxBufferPages, out pages);
                    if (ok)
                    {
                        RxBufferPages = pages;
                    }
                }
                else if (AsciiText.Matches(key, "hook"))
                {
                    if (AsciiText.Matches(value, "drop"))
                    {
                        Hook = PacketHookMode.Drop;
                    }
                    else if (AsciiText.Matches(value, "echo-count"))
                    {
                        Hook = PacketHookMode.EchoCount;
                    }
                    else if (AsciiText.Matches(value, "none") || AsciiText.Matches(value, "off"))
                    {
                        Hook = PacketHookMode.None;
                    }
                    else
                    {
                        ok = false;
                    }
                }
                else if (!AsciiText.StartsWith(EntryKey(entry), BenchPrefix))
                {
                    _known[entry] = false;
                    AddIssue(CommandLineIssueKind.UnknownKey, entry);
                    return;
                }
            }
            if (!ok)
            {
                AddIssue(CommandLineIssueKind.MalformedValue, entry);
            }
        }

        /// <summary>Keeps one <c>virtio_mmio.device=</c> device in command-line order, or records why it was refused.</summary>
        private void ApplyMmioDevice(int entry, ReadOnlySpan<byte> value)
        {
            MmioDevice device;
            if (VirtioMmioCommandLine.TryParse(value, out device) != null)
            {
                AddIssue(CommandLineIssueKind.RefusedDevice, entry);
            }
            else if (_mmioDeviceCount == MaxMmioDevices)
            {
                AddIssue(CommandLineIssueKind.TooManyDevices, entry);
            }
            else
            {
                _mmioDevices[_mmioDeviceCount++] = device;
            }
        }

        /// <summary>A value of 1..<paramref name="max"/> (<c>budget=</c>, <c>rxbufpages=</c>, <c>sockets=</c>).</summary>
        private bool TryParseCount(int entry, int max, out int value)
        {
            long parsed = 0;
            bool ok = EntryHasValue(entry) && NumberParser.TryParseInt64(EntryValue(entry), out parsed)
                && parsed > 0 && parsed <= max;
            value = ok ? (int)parsed : 0;
            return ok;
        }

        /// <summary>Boolean value of an entry; a bare flag is true.</summary>
        private bool TryParseBool(int entry, out bool value)
        {
            value = true;
            if (!EntryHasValue(entry))
            {
                return true;
            }
            ReadOnlySpan<byte> text = EntryValue(entry);
            if (AsciiText.Matches(text, "on") || AsciiText.Matches(text, "yes") || AsciiText.Matches(text, "true") || AsciiText.Matches(text, "1"))
            {
                return true;
            }
            value = false;
            return AsciiText.Matches(text, "off") || AsciiText.Matches(text, "no") || AsciiText.Matches(text, "false") || AsciiText.Matches(text, "0");
        }
    }
}
