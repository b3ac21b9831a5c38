using System;
using System.Collections.Generic;
using System.Text;
using Keel.Tests.Kernel;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>Seeds of the single-parser targets, written from the RFC and specification layouts.</summary>
    internal static class ParserSeeds
    {
        public static IEnumerable<SeedCorpus.Seed> All()
        {
            yield return new SeedCorpus.Seed("dhcp-message", "offer", DhcpReply(2));
            yield return new SeedCorpus.Seed("dhcp-message", "ack", DhcpReply(5));
            yield return new SeedCorpus.Seed("dns-message", "a-record", DnsAnswer(false));
            yield return new SeedCorpus.Seed("dns-message", "cname-chain", DnsAnswer(true));
            yield return new SeedCorpus.Seed("dns-message", "aaaa-record", DnsAnswer(false, aaaa: true));
            yield return new SeedCorpus.Seed("dns-message", "cname-chain-aaaa", DnsAnswer(true, aaaa: true));
            // SYN: MSS 1460, SACK permitted, timestamps, NOP, window scale 7 (the golden SYN's 20 option bytes).
            yield return new SeedCorpus.Seed("tcp-options", "syn", Prefix(1, GoldenFrames.TcpSynWithOptions.AsSpan(54, 20)));
            // An ACK: NOP, NOP, timestamps; NOP, NOP, SACK with two blocks (RFC 2018 3).
            yield return new SeedCorpus.Seed("tcp-options", "ack-sack", new byte[]
            {
                0, 1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 9, 1, 1, 5, 18, 0, 0, 0x10, 0, 0, 0, 0x14, 0, 0, 0, 0x20, 0, 0, 0, 0x28, 0,
            });
            yield return new SeedCorpus.Seed("syn-cookies", "one", Encoding.ASCII.GetBytes("0123456789abcdefghijklmnopqrstuvwxyz0123456789"));
            yield return new SeedCorpus.Seed("json", "iperf3-params", Encoding.ASCII.GetBytes(Iperf3Parameters));
            yield return new SeedCorpus.Seed("json", "iperf3-results", Encoding.ASCII.GetBytes(Iperf3Results));
            yield return new SeedCorpus.Seed("http-request", "get", Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 198.18.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n"));
            yield return new SeedCorpus.Seed("http-request", "pipelined", Encoding.ASCII.GetBytes(
                "HEAD /stats HTTP/1.1\r\nHost: a\r\n\r\nGET /bytes/10 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
            yield return new SeedCorpus.Seed("http-request", "chunked", Encoding.ASCII.GetBytes(
                "GET /metrics HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: 1\r\n\r\n"));
            yield return new SeedCorpus.Seed("http-request", "absolute-1.0", Encoding.ASCII.GetBytes(
                "GET http://198.18.0.2/index.html?x=1 HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc"));
            yield return new SeedCorpus.Seed("multiboot2", "grub", Multiboot2Info());
            yield return new SeedCorpus.Seed("cmdline", "static", Encoding.ASCII.GetBytes("ip=198.18.0.2/24 gw=198.18.0.1 dns=198.18.0.1 budget=64 rxbufpages=1"));
            yield return new SeedCorpus.Seed("cmdline", "dhcp", Encoding.ASCII.GetBytes("ip=dhcp shell=off test=selftest virtio_mmio.device=512@0xfeb00e00:12"));
            yield return new SeedCorpus.Seed("acpi", "acpi2", AcpiTests.Image(2, false));
            yield return new SeedCorpus.Seed("acpi", "acpi1-qemu", AcpiTests.Image(0, true));
            // QEMU microvm's DSDT: two virtio-mmio devices under \_SB (window 0x200, level interrupt).
            yield return new SeedCorpus.Seed("dsdt-mmio", "microvm", AmlMmioDevicesTests.Scope("_SB_",
                AmlMmioDevicesTests.VirtioDevice("VR00", 0xFEB00000, 16, 0), AmlMmioDevicesTests.VirtioDevice("VR01", 0xFEB00200, 17, 1)));
            // The virtio-mmio window: version 2 and version 1 devices telling the truth, and a version 2 one that
            // lies once about its magic value's first read and then about a queue size.
            yield return new SeedCorpus.Seed("virtio-mmio", "modern", new byte[] { 1 });
            yield return new SeedCorpus.Seed("virtio-mmio", "legacy", new byte[] { 0 });
            yield return new SeedCorpus.Seed("virtio-mmio", "lies", new byte[] { 1, 0, 0, 0, 1, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0x7F, 0xFF });
        }

        // iperf3 3.12's parameters and results messages (its JSON as it sends it).
        internal const string Iperf3Parameters =
            "{\"tcp\":true,\"omit\":0,\"time\":10,\"num\":0,\"blockcount\":0,\"parallel\":1,\"len\":131072,\"pacing_timer\":1000," +
            "\"client_version\":\"3.12\"}";

        internal const string Iperf3Results =
            "{\"cpu_util_total\":1.5,\"cpu_util_user\":0.2,\"cpu_util_system\":1.3,\"sender_has_retransmits\":1," +
            "\"congestion_used\":\"cubic\",\"streams\":[{\"id\":1,\"bytes\":1048576,\"retransmits\":0,\"jitter\":0," +
            "\"errors\":0,\"omitted_errors\":0,\"packets\":0,\"omitted_packets\":0,\"start_time\":0,\"end_time\":1.0001}]}";

        private static byte[] Prefix(byte first, ReadOnlySpan<byte> rest)
        {
            byte[] b = new byte[1 + rest.Length];
            b[0] = first;
            rest.CopyTo(b.AsSpan(1));
            return b;
        }

        /// <summary>
        /// A BOOTREPLY (RFC 2131 2): xid 0x3903F326, yiaddr 198.18.0.50, chaddr 02:00:00:00:00:02, magic cookie,
        /// options (RFC 2132): message type, server id, mask, router, DNS, lease time, end.
        /// </summary>
        internal static byte[] DhcpReply(int type)
        {
            List<byte> m = new List<byte> { 2, 1, 6, 0, 0x39, 0x03, 0xF3, 0x26 };
            m.AddRange(new byte[8]);                      // secs, flags, ciaddr
            m.AddRange(new byte[] { 198, 18, 0, 50 });    // yiaddr
            m.AddRange(new byte[] { 198, 18, 0, 1 });     // siaddr
            m.AddRange(new byte[4]);                      // giaddr
            m.AddRange(new byte[] { 2, 0, 0, 0, 0, 2 });  // chaddr
            m.AddRange(new byte[10 + 64 + 128]);          // chaddr padding, sname, file
            m.AddRange(new byte[] { 99, 130, 83, 99 });
            m.AddRange(new byte[] { 53, 1, (byte)type, 54, 4, 198, 18, 0, 1, 1, 4, 255, 255, 255, 0, 3, 4, 198, 18, 0, 1 });
            m.AddRange(new byte[] { 6, 8, 198, 18, 0, 1, 198, 18, 0, 53, 51, 4, 0, 0, 0x0E, 0x10, 26, 2, 5, 0xDC, 255 });
            return m.ToArray();
        }

        /// <summary>
        /// A response (RFC 1035 4.1) to "www.example.com" A: either the A record (198.18.0.80) or a CNAME
        /// (alias.example.com) followed by the A record, names compressed with pointers (RFC 1035 4.1.4). With
        /// <paramref name="aaaa"/> the question and the answer are AAAA (type 28, RFC 3596 2.1-2.2) and the address
        /// 2001:db8::80 (RFC 3849's documentation prefix), 16 bytes of record data.
        /// </summary>
        internal static byte[] DnsAnswer(bool cname, bool aaaa = false)
        {
            byte type = (byte)(aaaa ? 28 : 1);
            byte[] address = aaaa
                ? new byte[] { 0x20, 0x01, 0x0D, 0xB8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80 }
                : new byte[] { 198, 18, 0, 80 };
            List<byte> m = new List<byte> { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, (byte)(cname ? 2 : 1), 0, 0, 0, 0 };
            m.AddRange(new byte[] { 3, (byte)'w', (byte)'w', (byte)'w', 7, (byte)'e', (byte)'x', (byte)'a', (byte)'m', (byte)'p', (byte)'l', (byte)'e', 3, (byte)'c', (byte)'o', (byte)'m', 0, 0, type, 0, 1 });
            if (cname)
            {
                // www.example.com CNAME alias.example.com (alias + pointer to "example.com" at 16).
                m.AddRange(new byte[] { 0xC0, 12, 0, 5, 0, 1, 0, 0, 0x0E, 0x10, 0, 8, 5, (byte)'a', (byte)'l', (byte)'i', (byte)'a', (byte)'s', 0xC0, 16 });
                // alias.example.com A/AAAA (pointer to the CNAME's data at 45).
                m.AddRange(new byte[] { 0xC0, 45, 0, type, 0, 1, 0, 0, 0x0E, 0x10, 0, (byte)address.Length });
            }
            else
            {
                m.AddRange(new byte[] { 0xC0, 12, 0, type, 0, 1, 0, 0, 0x0E, 0x10, 0, (byte)address.Length });
            }
            m.AddRange(address);
            return m.ToArray();
        }

        /// <summary>
        /// A multiboot2 information structure (Multiboot2 3.6): total size and reserved, a command line tag, a memory
        /// map tag (two 24-byte entries), an ACPI new-RSDP tag, the end tag.
        /// </summary>
        internal static byte[] Multiboot2Info()
        {
            List<byte> m = new List<byte>();
            void U32(uint v) => m.AddRange(BitConverter.GetBytes(v));
            void Align()
            {
                while (m.Count % 8 != 0)
                {
                    m.Add(0);
                }
            }
            U32(0);
            U32(0);
            byte[] line = Encoding.ASCII.GetBytes("ip=198.18.0.2/24 gw=198.18.0.1\0");
            U32(1);
            U32((uint)(8 + line.Length));
            m.AddRange(line);
            Align();
            U32(6);
            U32(16 + 2 * 24);
            U32(24);
            U32(0);
            m.AddRange(BitConverter.GetBytes(0UL));
            m.AddRange(BitConverter.GetBytes(0x9FC00UL));
            U32(1);
            U32(0);
            m.AddRange(BitConverter.GetBytes(0x100000UL));
            m.AddRange(BitConverter.GetBytes(0x7EE0000UL));
            U32(1);
            U32(0);
            U32(15);
            U32(8 + 36);
            m.AddRange(Encoding.ASCII.GetBytes("RSD PTR "));
            m.AddRange(new byte[28]);
            Align();
            U32(0);
            U32(8);
            byte[] info = m.ToArray();
            BitConverter.GetBytes((uint)info.Length).CopyTo(info, 0);
            return info;
        }
    }
}
