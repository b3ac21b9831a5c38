using System;
using System.Collections.Generic;
using Keel.Tests.Net;

namespace Keel.Tests.Fuzz
{
    /// <summary>
    /// The seeds each target's corpus starts from, built from the RFC-layout frames of the unit tests
    /// (<see cref="GoldenFrames"/>): `Keel.Fuzz seed` writes them to tests/Keel.Fuzz/corpus.
    /// </summary>
    public static class SeedCorpus
    {
        public readonly struct Seed
        {
            public Seed(string target, string name, byte[] bytes)
            {
                Target = target;
                Name = name;
                Bytes = bytes;
            }

            public string Target { get; }
            public string Name { get; }
            public byte[] Bytes { get; }
        }

        private static readonly (string Name, byte[] Frame)[] Golden =
        {
            ("arp-request", GoldenFrames.ArpRequestFromHost),
            ("echo-request", GoldenFrames.EchoRequest),
            ("udp-9999", GoldenFrames.UdpToPort9999),
            ("udp-closed", GoldenFrames.UdpToClosedPort9),
            ("tcp-syn-options", GoldenFrames.TcpSynWithOptions),
        };

        public static IEnumerable<Seed> All()
        {
            List<Seed> seeds = new List<Seed>();
            List<byte> sequence = new List<byte>();
            foreach ((string name, byte[] frame) in Golden)
            {
                seeds.Add(new Seed("frame", name, frame));
                Record(sequence, 1, frame);
                if (frame[12] == 0x08 && frame[13] == 0x06)
                {
                    seeds.Add(new Seed("arp", name, frame.AsSpan(14).ToArray()));
                    continue;
                }
                seeds.Add(new Seed("ipv4", name, frame.AsSpan(14).ToArray()));
                string transport = frame[23] == 1 ? "icmp" : frame[23] == 17 ? "udp" : "tcp-segment";
                seeds.Add(new Seed(transport, name, frame.AsSpan(34).ToArray()));
            }
            seeds.Add(new Seed("frames", "golden-sequence", sequence.ToArray()));
            seeds.Add(new Seed("reassembly", "udp-three-fragments", Fragments(GoldenFrames.UdpToPort9999.AsSpan(34).ToArray(), 8)));
            seeds.Add(new Seed("reassembly", "icmp-two-fragments", Fragments(GoldenFrames.EchoRequest.AsSpan(34).ToArray(), 24, 4)));
            seeds.AddRange(ParserSeeds.All());
            seeds.AddRange(Ipv6Targets.Seeds());
            List<byte> dhcp = new List<byte>();
            Record(dhcp, ParserSeeds.DhcpReply(2));
            Record(dhcp, ParserSeeds.DhcpReply(5));
            seeds.Add(new Seed("dhcp-client", "offer-ack", dhcp.ToArray()));
            List<byte> dns = new List<byte>();
            Record(dns, ParserSeeds.DnsAnswer(true));
            seeds.Add(new Seed("dns-client", "cname-answer", dns.ToArray()));
            foreach (bool cname in new[] { false, true })
            {
                List<byte> aaaa = new List<byte>();
                Record(aaaa, ParserSeeds.DnsAnswer(cname, aaaa: true));
                seeds.Add(new Seed("dns-client-aaaa", cname ? "cname-aaaa-answer" : "aaaa-answer", aaaa.ToArray()));
            }
            // Honest frames of 60, 1514 and 5000 bytes (merged buffers); then num_buffers 0; then a used length past the buffer.
            seeds.Add(new Seed("virtio-rx", "honest-then-lies", new byte[]
            {
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 60,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x05, 0xEA,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0x13, 0x88,
                4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x20,
                2, 0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03, 0x20,
            }));
            seeds.Add(new Seed("iperf3-control", "tcp-test", Iperf3Session()));
            // Data (PSH|ACK, timestamps, 60 bytes), a duplicate ACK with one SACK block, then FIN|ACK.
            seeds.Add(new Seed("tcp-connection", "data-sack-fin", new byte[]
            {
                0x18, 0, 0, 0, 0, 0x01, 0xFF, 0x01, 10, 5,
                0x10, 0, 0, 0, 0, 0x01, 0xFF, 0x03, 0, 0x10, 0, 0x20, 0, 5,
                0x11, 0, 0, 0, 0, 0x01, 0xFF, 0x01, 0, 50,
            }));
            return seeds;
        }

        /// <summary>
        /// An iperf3 3.12 client's side of a TCP test: the 37-byte cookie on the control connection, the parameters
        /// (32-bit length, JSON), the cookie on a data stream, some data, TEST_END (4), the results (length, JSON),
        /// IPERF_DONE (16).
        /// </summary>
        private static byte[] Iperf3Session()
        {
            byte[] cookie = System.Text.Encoding.ASCII.GetBytes("keelfuzzkeelfuzzkeelfuzzkeelfuzz2345\0");
            List<byte> records = new List<byte>();
            Iperf3Record(records, 0, cookie);
            Iperf3Record(records, 0, LengthPrefixed(ParserSeeds.Iperf3Parameters));
            Iperf3Record(records, 1, cookie);
            Iperf3Record(records, 1 | (10 << 1), new byte[512]);
            Iperf3Record(records, 50 << 1, new byte[] { 4 });
            Iperf3Record(records, 0, LengthPrefixed(ParserSeeds.Iperf3Results));
            Iperf3Record(records, 10 << 1, new byte[] { 16 });
            return records.ToArray();
        }

        private static void Iperf3Record(List<byte> into, int control, byte[] bytes) => Record(into, control, bytes);

        private static byte[] LengthPrefixed(string json)
        {
            byte[] text = System.Text.Encoding.ASCII.GetBytes(json);
            byte[] b = new byte[4 + text.Length];
            b[2] = (byte)(text.Length >> 8);
            b[3] = (byte)text.Length;
            text.CopyTo(b, 4);
            return b;
        }

        /// <summary>One record of a client target: 16-bit length, bytes.</summary>
        internal static void Record(List<byte> into, ReadOnlySpan<byte> bytes)
        {
            into.Add((byte)(bytes.Length >> 8));
            into.Add((byte)bytes.Length);
            into.AddRange(bytes.ToArray());
        }

        /// <summary>One record of the frames target: control byte, 16-bit length, bytes.</summary>
        internal static void Record(List<byte> into, int control, ReadOnlySpan<byte> bytes)
        {
            into.Add((byte)control);
            into.Add((byte)(bytes.Length >> 8));
            into.Add((byte)bytes.Length);
            into.AddRange(bytes.ToArray());
        }

        /// <summary>A datagram cut into fragments of <paramref name="size"/> bytes (a multiple of 8), as reassembly records.</summary>
        private static byte[] Fragments(byte[] datagram, int size, int flags = 0)
        {
            List<byte> records = new List<byte>();
            for (int offset = 0; offset < datagram.Length; offset += size)
            {
                int take = Math.Min(size, datagram.Length - offset);
                bool more = offset + take < datagram.Length;
                records.Add((byte)(flags | (more ? 1 : 0)));
                records.Add((byte)((offset / 8) >> 8));
                records.Add((byte)(offset / 8));
                records.Add((byte)(take >> 8));
                records.Add((byte)take);
                records.AddRange(datagram.AsSpan(offset, take).ToArray());
            }
            return records.ToArray();
        }
    }
}
