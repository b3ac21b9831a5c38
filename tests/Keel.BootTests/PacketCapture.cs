using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading.Tasks;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>One IPv4 packet seen on the tap: its IP header fields and, for TCP, the header fields and payload length.</summary>
    internal struct CapturedPacket
    {
        public int FrameLength;      // on the wire (pcap orig_len), Ethernet header included
        public uint Source;          // host byte order
        public uint Destination;
        public int Protocol;
        public int IpTotalLength;
        public int IpId;
        public bool MoreFragments;
        public int FragmentOffset;   // bytes
        public int SourcePort;       // TCP, first fragment only
        public int DestinationPort;
        public int TcpFlags;
        public uint Sequence;
        public uint AckNumber;
        public int TcpHeaderLength;  // 20 + options
        public int TcpPayload;
        public int MssOption;        // SYN's MSS option, -1 when absent

        public bool IsFragment => MoreFragments || FragmentOffset != 0;
        public bool Syn => (TcpFlags & 0x02) != 0;
        public bool Ack => (TcpFlags & 0x10) != 0;
    }

    /// <summary>
    /// tcpdump on the namespace's tap (<c>-s 100</c>: headers only, lengths from the IP header), written as pcap to a
    /// pipe and parsed here (Ethernet, IPv4 RFC 791, TCP RFC 9293 with the MSS option).
    /// </summary>
    internal sealed class PacketCapture : IDisposable
    {
        private readonly Process _process;
        private readonly MemoryStream _pcap = new MemoryStream();
        private readonly Task _copy;
        private readonly Task<string> _stderr;

        /// <summary>Starts tcpdump with the BPF <paramref name="filter"/> and waits until it listens.</summary>
        public PacketCapture(NetworkNamespace netns, string filter)
        {
            _process = netns.Start("tcpdump", "-i", NetworkNamespace.Tap, "-n", "-s", "100", "--immediate-mode", "-U", "-w", "-", filter);
            Stream output = _process.StandardOutput.BaseStream;
            _copy = Task.Run(() =>
            {
                byte[] buffer = new byte[65536];
                int n;
                while ((n = output.Read(buffer, 0, buffer.Length)) > 0)
                {
                    lock (_pcap)
                    {
                        _pcap.Write(buffer, 0, n);
                    }
                }
            });
            Task<string> first = _process.StandardError.ReadLineAsync();
            if (!first.Wait(20000) || first.Result == null || !first.Result.Contains("listening on"))
            {
                Dispose();
                Assert.Fail("tcpdump did not start: " + (first.IsCompleted ? first.Result : "(no output)"));
            }
            _stderr = _process.StandardError.ReadToEndAsync();
        }

        /// <summary>Stops tcpdump (SIGINT: it flushes and reports drops) and returns the IPv4 packets it saw.</summary>
        public List<CapturedPacket> Stop()
        {
            // The last packets may still be on their way through tcpdump (a shared, busy machine): wait until the
            // capture stops growing for a second (SIGINT drops what tcpdump has not written yet).
            long length = -1;
            for (int i = 0; i < 30 && Length() != length; i++)
            {
                length = Length();
                System.Threading.Thread.Sleep(1000);
            }
            NetworkNamespace.RunProcess(5, "kill", "-INT", _process.Id.ToString());
            Assert.That(_process.WaitForExit(20000), Is.True, "tcpdump did not stop");
            _copy.Wait(10000);
            string report = _stderr.Wait(10000) ? _stderr.Result : "";
            TestContext.Out.WriteLine("tcpdump: " + report.Replace('\n', ' '));
            Assert.That(report, Does.Match("(^|\\n)0 packets dropped by kernel"), "tcpdump missed packets: " + report);
            lock (_pcap)
            {
                return Parse(_pcap.ToArray());
            }
        }

        private long Length()
        {
            lock (_pcap)
            {
                return _pcap.Length;
            }
        }

        private static List<CapturedPacket> Parse(byte[] pcap)
        {
            List<CapturedPacket> packets = new List<CapturedPacket>();
            Assert.That(pcap.Length, Is.GreaterThanOrEqualTo(24), "no pcap header");
            Assert.That(BitConverter.ToUInt32(pcap, 0), Is.EqualTo(0xa1b2c3d4u), "pcap magic (microsecond, little-endian)");
            Assert.That(BitConverter.ToUInt32(pcap, 20), Is.EqualTo(1u), "link type Ethernet");
            int at = 24;
            while (at + 16 <= pcap.Length)
            {
                int captured = BitConverter.ToInt32(pcap, at + 8);
                int original = BitConverter.ToInt32(pcap, at + 12);
                int frame = at + 16;
                at = frame + captured;
                if (at > pcap.Length || captured < 34 || Read16(pcap, frame + 12) != 0x0800)
                {
                    continue; // truncated tail, or not IPv4
                }
                int ip = frame + 14;
                int ipHeader = (pcap[ip] & 0x0F) * 4;
                int fragment = Read16(pcap, ip + 6);
                CapturedPacket p = new CapturedPacket
                {
                    FrameLength = original,
                    Protocol = pcap[ip + 9],
                    IpTotalLength = Read16(pcap, ip + 2),
                    IpId = Read16(pcap, ip + 4),
                    MoreFragments = (fragment & 0x2000) != 0,
                    FragmentOffset = (fragment & 0x1FFF) * 8,
                    Source = (uint)Read16(pcap, ip + 12) << 16 | (uint)Read16(pcap, ip + 14),
                    Destination = (uint)Read16(pcap, ip + 16) << 16 | (uint)Read16(pcap, ip + 18),
                    MssOption = -1,
                };
                int tcp = ip + ipHeader;
                if (p.Protocol == 6 && p.FragmentOffset == 0 && tcp + 20 <= at)
                {
                    p.SourcePort = Read16(pcap, tcp);
                    p.DestinationPort = Read16(pcap, tcp + 2);
                    p.TcpHeaderLength = (pcap[tcp + 12] >> 4) * 4;
                    p.TcpFlags = pcap[tcp + 13];
                    p.Sequence = (uint)Read16(pcap, tcp + 4) << 16 | (uint)Read16(pcap, tcp + 6);
                    p.AckNumber = (uint)Read16(pcap, tcp + 8) << 16 | (uint)Read16(pcap, tcp + 10);
                    p.TcpPayload = p.IpTotalLength - ipHeader - p.TcpHeaderLength;
                    int end = Math.Min(tcp + p.TcpHeaderLength, at);
                    for (int o = tcp + 20; o < end;)
                    {
                        int kind = pcap[o];
                        if (kind == 0)
                        {
                            break;
                        }
                        if (kind == 1)
                        {
                            o++;
                            continue;
                        }
                        if (o + 1 >= end || pcap[o + 1] < 2)
                        {
                            break;
                        }
                        if (kind == 2 && pcap[o + 1] == 4 && o + 4 <= end)
                        {
                            p.MssOption = Read16(pcap, o + 2);
                        }
                        o += pcap[o + 1];
                    }
                }
                packets.Add(p);
            }
            return packets;
        }

        /// <summary>198.18.0.2 as compared with <see cref="CapturedPacket.Source"/>.</summary>
        public static uint Address(string dotted)
        {
            string[] parts = dotted.Split('.');
            return uint.Parse(parts[0]) << 24 | uint.Parse(parts[1]) << 16 | uint.Parse(parts[2]) << 8 | uint.Parse(parts[3]);
        }

        private static int Read16(byte[] b, int at) => b[at] << 8 | b[at + 1];

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(true);
                _process.WaitForExit(5000);
            }
            _process.Dispose();
        }
    }
}
