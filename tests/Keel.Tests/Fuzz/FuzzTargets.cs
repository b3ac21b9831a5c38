using System;

namespace Keel.Tests.Fuzz
{
    /// <summary>Every fuzz target, by name (tools/fuzz, tests/Keel.Fuzz/corpus/NAME, the corpus replay test).</summary>
    public static class FuzzTargets
    {
        public static readonly FuzzTarget[] All =
        {
            new FuzzTarget("frame", "one Ethernet frame through NetStack into sockets", StackTargets.Frame),
            new FuzzTarget("frames", "a sequence of frames through NetStack into sockets", StackTargets.Frames),
            new FuzzTarget("arp", "ARP packets", StackTargets.Arp),
            new FuzzTarget("ipv4", "IPv4 datagrams", StackTargets.Ipv4),
            new FuzzTarget("reassembly", "IPv4 fragments to reassemble", StackTargets.Reassembly),
            new FuzzTarget("icmp", "ICMP messages", StackTargets.Icmp),
            new FuzzTarget("udp", "UDP datagrams", StackTargets.Udp),
            new FuzzTarget("tcp-segment", "one TCP segment to a listener", StackTargets.TcpSegment),
            new FuzzTarget("ipv6", "IPv6 packets: header, extension-header chain", Ipv6Targets.Ipv6),
            new FuzzTarget("icmpv6", "one ICMPv6 message (echo, Neighbor Discovery, MLD)", Ipv6Targets.Icmpv6),
            new FuzzTarget("nd", "sequences of Neighbor Discovery and MLD messages", Ipv6Targets.NeighborDiscovery),
            new FuzzTarget("ipv6-reassembly", "IPv6 fragments to reassemble", Ipv6Targets.Reassembly),
            new FuzzTarget("tcp-connection", "a TCP connection fed segments by a scripted peer", TcpConnectionTarget.Run),
            new FuzzTarget("virtio-rx", "the virtio-net driver's receive path fed by a device that lies", VirtioReceiveTarget.Create),
            new FuzzTarget("tcp-options", "TCP options, SACK blocks", ParserTargets.TcpOptions),
            new FuzzTarget("syn-cookies", "SYN cookies and timestamp cookies", ParserTargets.SynCookies),
            new FuzzTarget("dhcp-message", "DHCP replies and their options", ParserTargets.DhcpMessage),
            new FuzzTarget("dhcp-client", "the DHCP client fed replies", ClientTargets.DhcpClient),
            new FuzzTarget("dns-message", "DNS messages: names, compression pointers, records", ParserTargets.DnsMessage),
            new FuzzTarget("dns-client", "the DNS resolver fed replies", ClientTargets.DnsClient),
            new FuzzTarget("dns-client-aaaa", "the DNS resolver asking for AAAA records fed replies", ClientTargets.DnsClientAaaa),
            new FuzzTarget("iperf3-control", "the iperf3 server fed control and stream bytes", Iperf3ControlTarget.Run),
            new FuzzTarget("http-request", "HTTP request heads and chunked request bodies", HttpRequestTarget.Run),
            new FuzzTarget("json", "iperf3 JSON and its test parameters", ParserTargets.Json),
            new FuzzTarget("multiboot2", "multiboot2 information tags", ParserTargets.Multiboot2),
            new FuzzTarget("cmdline", "the kernel command line", ParserTargets.CommandLine),
            new FuzzTarget("acpi", "ACPI tables (RSDP, RSDT/XSDT, FADT, MADT) and the AML \\_S5 package", ParserTargets.Acpi),
            new FuzzTarget("dsdt-mmio", "the DSDT's virtio-mmio devices (LNRO0005, _CRS windows and interrupts)", PlatformTargets.DsdtMmio),
            new FuzzTarget("virtio-mmio", "the virtio-net driver over a virtio-mmio window whose device lies", PlatformTargets.CreateVirtioMmio),
        };

        /// <summary>The target called <paramref name="name"/>; null when there is none.</summary>
        public static FuzzTarget Find(string name) => Array.Find(All, t => t.Name == name);
    }
}
