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
            return seeds;
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
