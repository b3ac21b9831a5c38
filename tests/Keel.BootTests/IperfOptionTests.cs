using System;
using System.Collections.Generic;
using System.Text.Json;
using NUnit.Framework;

namespace Keel.BootTests
{
    /// <summary>
    /// ICMP errors, PMTU and per-socket MSS against one booted kernel, checked on the wire with tcpdump on the tap: <c>iperf3 -M 1000</c>
    /// (the per-socket MSS, TCP_MAXSEG) both ways, and UDP datagrams of 8000 bytes fragmented by Keel's IPv4 output
    /// (<c>-u -R -l 8000</c>) and reassembled by it (<c>-u -l 8000</c>). The kernel runs with <c>offload=csum</c>: no
    /// TSO and no large receive, so every TCP segment on the tap is one wire segment (with TSO tcpdump would see the
    /// 64 KiB super-packets handed to the tap, not the segments).
    /// </summary>
    [TestFixture]
    [Parallelizable(ParallelScope.None)]
    public class IperfOptionTests
    {
        private const int Mss = 1000;
        private const int TransferBytes = 2 * 1024 * 1024;   // -n 2M
        private const int Datagram = 8000;                    // -l 8000
        private const int IPv4Header = 20;
        private const int UdpHeader = 8;
        private const int Mtu = 1500;
        private const int CookieLength = 37;                  // iperf3's cookie, first bytes of every data connection

        /// <summary>
        /// Loss allowed on the UDP runs, percent. The tap has no drop rule and 20 Mbit/s is a small fraction of what
        /// either end carries, so nothing is lost by design; a datagram can only go when a socket buffer or the tap
        /// queue overflows while iperf3 or QEMU is descheduled on this shared 2-core machine, and a datagram is lost
        /// whole when one of its 6 fragments is. 1 % (about 9 of the ~940 datagrams of a 3 s run) is far below what a
        /// broken fragmenter or reassembler gives (every datagram lost: 100 %).
        /// </summary>
        private const double UdpLossBoundPercent = 1.0;

        private static readonly uint s_guest = PacketCapture.Address(NetworkNamespace.GuestAddress);
        private static readonly uint s_host = PacketCapture.Address(NetworkNamespace.HostAddress);

        private NetworkNamespace _netns;
        private QemuGuest _guest;

        [OneTimeSetUp]
        public void Boot()
        {
            _netns = new NetworkNamespace();
            _guest = TapGuest.Boot(_netns, "256M", 900, "offload=csum");
        }

        [OneTimeTearDown]
        public void Stop()
        {
            _guest?.Dispose();
            _netns?.Dispose();
        }

        [Test, Order(1)]
        public void Mss1000HostToGuest() => CheckMss(false);

        [Test, Order(2)]
        public void Mss1000GuestToHost() => CheckMss(true);

        /// <summary>
        /// <c>-M 1000 -n 2M</c>. On the wire, for the data connection: the host's SYN and Keel's SYN-ACK both announce
        /// MSS 1000, while Keel's SYN-ACK of the control connection announces the link's 1460 (the option is per
        /// socket); every data segment of the sender carries at most 1000 bytes of payload plus options (RFC 6691: the
        /// MSS counts neither IP nor TCP header nor options), and most are full (within 40 bytes of it). iperf3 sets
        /// TCP_MAXSEG on both ends, so the host also caps its own segments: what shows Keel's option is its SYN-ACK
        /// announcing 1000 (host to guest) and its own segments staying within it (guest to host).
        /// Bytes: the receiving TCP acknowledged exactly the bytes the sender reports sent (iperf3's sum_sent; plus
        /// the 37-byte cookie when the host sends, plus the FIN when it was acknowledged), at least 2 MiB.
        /// </summary>
        private void CheckMss(bool reverse)
        {
            string[] options = reverse
                ? new[] { "-M", Mss.ToString(), "-n", "2M", "-R" }
                : new[] { "-M", Mss.ToString(), "-n", "2M" };
            List<CapturedPacket> packets;
            JsonElement end;
            using (PacketCapture capture = new PacketCapture(_netns, "tcp port 5201"))
            {
                end = RunIperf(options);
                packets = capture.Stop();
            }
            long sent = (long)end.GetProperty("sum_sent").GetProperty("bytes").GetDouble();
            long received = (long)end.GetProperty("sum_received").GetProperty("bytes").GetDouble();
            uint sender = reverse ? s_guest : s_host;

            // The data connection (by the host's port) is the one that carried the most payload.
            Dictionary<int, long> payloadByPort = new Dictionary<int, long>();
            foreach (CapturedPacket p in packets)
            {
                if (p.Source == sender && p.TcpPayload > 0)
                {
                    int port = HostPort(p);
                    payloadByPort[port] = payloadByPort.GetValueOrDefault(port) + p.TcpPayload;
                }
            }
            int dataPort = -1;
            foreach (KeyValuePair<int, long> entry in payloadByPort)
            {
                if (dataPort < 0 || entry.Value > payloadByPort[dataPort])
                {
                    dataPort = entry.Key;
                }
            }
            Assert.That(dataPort, Is.GreaterThan(0), "no data segments captured");

            int synMss = -1, synAckMss = -1, controlSynAckMss = -1, segments = 0, largest = 0, full = 0;
            uint isn = 0;
            long acked = 0; // sequence space acknowledged by the receiver after the sender's SYN
            foreach (CapturedPacket p in packets)
            {
                bool data = HostPort(p) == dataPort;
                if (p.Syn && !p.Ack && p.Source == s_host && data)
                {
                    synMss = p.MssOption;
                }
                else if (p.Syn && p.Ack && p.Source == s_guest)
                {
                    synAckMss = data ? p.MssOption : synAckMss;
                    controlSynAckMss = data ? controlSynAckMss : p.MssOption;
                }
                if (!data)
                {
                    continue;
                }
                if (p.Syn && p.Source == sender)
                {
                    isn = p.Sequence;
                }
                else if (!p.Syn && p.Ack && (p.TcpFlags & 0x04) == 0 && p.Source != sender)
                {
                    acked = Math.Max(acked, (long)(uint)(p.AckNumber - isn - 1));
                }
                else if (p.Source == sender && p.TcpPayload > 0)
                {
                    segments++;
                    int used = p.TcpPayload + p.TcpHeaderLength - 20;
                    Assert.That(used, Is.LessThanOrEqualTo(Mss), "segment of " + p.TcpPayload + " bytes + " + (p.TcpHeaderLength - 20) + " option bytes");
                    largest = Math.Max(largest, p.TcpPayload);
                    full += used > Mss - 40 ? 1 : 0;
                }
            }
            long delivered = acked - (reverse ? 0 : CookieLength);
            TestContext.Out.WriteLine((reverse ? "guest to host" : "host to guest") + ": iperf3 sent " + sent + ", received " + received +
                "; acknowledged on the wire " + delivered + " (+1 = FIN); SYN mss " + synMss + ", SYN-ACK mss " + synAckMss +
                " (control connection " + controlSynAckMss + "); " + segments + " data segments, largest payload " + largest + ", " + full + " full");
            Assert.That(sent, Is.GreaterThanOrEqualTo(TransferBytes), "-n 2M");
            Assert.That(delivered, Is.InRange(sent, sent + 1), "the receiving TCP acknowledged every byte sent (and maybe the FIN)");
            // The client counts until it has -n bytes (-R); Keel's server stops counting at TEST_END, which the client
            // sends once its last write returns: the bytes still in the host's socket buffer are not in its count.
            if (reverse)
            {
                Assert.That(received, Is.GreaterThanOrEqualTo(TransferBytes), "the client's count");
            }
            else
            {
                Assert.That(received, Is.InRange(1L, sent), "Keel's count");
            }
            Assert.That(synMss, Is.EqualTo(Mss), "the host's SYN announces -M");
            Assert.That(synAckMss, Is.EqualTo(Mss), "Keel's SYN-ACK of the data connection announces -M");
            Assert.That(controlSynAckMss, Is.EqualTo(Mtu - IPv4Header - 20), "the control connection keeps the link's MSS");
            Assert.That(segments, Is.GreaterThanOrEqualTo(TransferBytes / Mss), "at least 2 MiB / MSS data segments");
            Assert.That(full, Is.GreaterThanOrEqualTo(segments / 2), "most segments are full-sized");
        }

        private static int HostPort(CapturedPacket p) => p.Source == s_host ? p.SourcePort : p.DestinationPort;

        /// <summary>
        /// <c>-u -R -l 8000</c>: Keel sends 8000-byte datagrams, fragmented by its IPv4 output; the host reassembles
        /// every one Keel reports sent (its IP ReasmOKs counter grows by at least that many, ReasmFails does not grow),
        /// and iperf3's loss stays within <see cref="UdpLossBoundPercent"/>. On the wire: each datagram (8008 bytes with
        /// the UDP header) is 6 fragments of 1480 bytes (185 units of 8) but the last, MF on all but the last, none above
        /// the MTU. <c>-w 2M</c> gives the host's socket room: a reassembled datagram holds its 6 fragments' buffers
        /// (about 14 KB of truesize), so the default 208 KiB holds ~15 datagrams, 50 ms at 20 Mbit/s, and Keel
        /// catching up its pacing after being descheduled overflows it (counted as Udp RcvbufErrors, printed).
        /// </summary>
        [Test, Order(3)]
        public void Udp8000FromGuestIsFragmentedAndReassembledByTheHost()
        {
            Dictionary<string, long> before = HostCounters();
            List<CapturedPacket> packets;
            JsonElement end;
            using (PacketCapture capture = new PacketCapture(_netns, "udp"))
            {
                end = RunIperf("-u", "-R", "-l", Datagram.ToString(), "-b", "20M", "-t", "3", "-w", "2M");
                packets = capture.Stop();
            }
            Dictionary<string, long> after = HostCounters();
            JsonElement sum = end.GetProperty("sum");
            long keelSent = end.GetProperty("sum_sent").GetProperty("packets").GetInt64();
            long datagrams = sum.GetProperty("packets").GetInt64();
            long lost = sum.GetProperty("lost_packets").GetInt64();
            double loss = sum.GetProperty("lost_percent").GetDouble();
            long reassembled = after["Ip.ReasmOKs"] - before["Ip.ReasmOKs"];
            long failed = after["Ip.ReasmFails"] - before["Ip.ReasmFails"];
            long overflows = after["Udp.RcvbufErrors"] - before["Udp.RcvbufErrors"];
            TestContext.Out.WriteLine("iperf3 -u -R -l 8000: Keel sent " + keelSent + " datagrams; client " + datagrams + ", " + lost +
                " lost (" + loss + " %); host ReasmOKs +" + reassembled + ", ReasmFails +" + failed + ", Udp RcvbufErrors +" + overflows);
            Assert.That(keelSent, Is.GreaterThan(100), "datagrams (20 Mbit/s for 3 s is ~940)");
            Assert.That(reassembled, Is.GreaterThanOrEqualTo(keelSent), "the host reassembled every datagram Keel sent");
            Assert.That(failed, Is.EqualTo(0), "host reassembly failures");
            Assert.That(loss, Is.LessThanOrEqualTo(UdpLossBoundPercent));

            // Fragments by IP id: every datagram from Keel is 6 fragments covering 8008 bytes exactly.
            Dictionary<int, List<CapturedPacket>> byId = new Dictionary<int, List<CapturedPacket>>();
            foreach (CapturedPacket p in packets)
            {
                if (p.Source != s_guest)
                {
                    continue;
                }
                Assert.That(p.IpTotalLength, Is.LessThanOrEqualTo(Mtu), "IP packet above the MTU");
                Assert.That(p.FrameLength, Is.LessThanOrEqualTo(Mtu + 14), "frame above the MTU");
                if (p.IsFragment)
                {
                    if (!byId.TryGetValue(p.IpId, out List<CapturedPacket> list))
                    {
                        byId[p.IpId] = list = new List<CapturedPacket>();
                    }
                    list.Add(p);
                }
            }
            int complete = 0;
            int maxFragmentData = (Mtu - IPv4Header) & ~7;
            foreach (KeyValuePair<int, List<CapturedPacket>> entry in byId)
            {
                List<CapturedPacket> fragments = entry.Value;
                Assert.That(fragments.Count, Is.EqualTo((Datagram + UdpHeader + maxFragmentData - 1) / maxFragmentData), "fragments of IP id " + entry.Key);
                int covered = 0;
                foreach (CapturedPacket f in fragments)
                {
                    int data = f.IpTotalLength - IPv4Header;
                    bool last = f.FragmentOffset + data == Datagram + UdpHeader;
                    Assert.That(f.MoreFragments, Is.EqualTo(!last), "MF on every fragment but the last (id " + entry.Key + ")");
                    Assert.That(f.FragmentOffset % maxFragmentData, Is.EqualTo(0), "offset " + f.FragmentOffset);
                    Assert.That(last || data == maxFragmentData, Is.True, "a fragment before the last is full");
                    covered += data;
                }
                Assert.That(covered, Is.EqualTo(Datagram + UdpHeader), "bytes of IP id " + entry.Key);
                complete++;
            }
            TestContext.Out.WriteLine("on the wire: " + complete + " datagrams from the guest in fragments");
            Assert.That(complete, Is.GreaterThanOrEqualTo(keelSent), "every datagram Keel sent went out in fragments");
        }

        /// <summary>
        /// <c>-u -l 8000</c>: the host fragments, Keel reassembles (its ip_reassembled counter grows by at least the
        /// datagrams iperf3's server counted, nothing dropped by reassembly), loss within the same bound.
        /// </summary>
        [Test, Order(4)]
        public void Udp8000ToGuestIsReassembledByKeel()
        {
            long reassembledBefore = GuestCounter("ip_reassembled");
            long droppedBefore = GuestCounter("ip_reasm_dropped");
            JsonElement sum = RunIperf("-u", "-l", Datagram.ToString(), "-b", "20M", "-t", "3").GetProperty("sum");
            long datagrams = sum.GetProperty("packets").GetInt64();
            long lost = sum.GetProperty("lost_packets").GetInt64();
            long reassembled = GuestCounter("ip_reassembled") - reassembledBefore;
            long dropped = GuestCounter("ip_reasm_dropped") - droppedBefore;
            TestContext.Out.WriteLine("iperf3 -u -l 8000: " + datagrams + " datagrams, " + lost + " lost (" +
                sum.GetProperty("lost_percent").GetDouble() + " %); guest ip_reassembled +" + reassembled + ", ip_reasm_dropped +" + dropped);
            Assert.That(datagrams, Is.GreaterThan(100));
            Assert.That(sum.GetProperty("lost_percent").GetDouble(), Is.LessThanOrEqualTo(UdpLossBoundPercent));
            Assert.That(reassembled, Is.GreaterThanOrEqualTo(datagrams - lost), "Keel reassembled every datagram it received");
            Assert.That(dropped, Is.EqualTo(0), "Keel reassembly drops");
        }

        private JsonElement RunIperf(params string[] options)
        {
            (int status, string output) = TapGuest.Iperf3Json(_netns, 120, options);
            Assert.That(status, Is.EqualTo(0), "iperf3 " + string.Join(" ", options) + " failed:\n" + output + "\nguest:\n" + _guest.Output);
            // iperf3 may print a warning before the JSON (e.g. that -l 8000 exceeds the MSS and will be fragmented).
            int start = output.IndexOf('{');
            Assert.That(start, Is.GreaterThanOrEqualTo(0), output);
            return JsonDocument.Parse(output.Substring(start)).RootElement.GetProperty("end").Clone();
        }

        /// <summary>The namespace's IP and UDP counters (/proc/net/snmp: a header line and a value line per protocol), as "Ip.ReasmOKs".</summary>
        private Dictionary<string, long> HostCounters()
        {
            (int status, string text) = _netns.Exec(10, "cat", "/proc/net/snmp");
            Assert.That(status, Is.EqualTo(0), text);
            Dictionary<string, long> counters = new Dictionary<string, long>();
            Dictionary<string, string[]> names = new Dictionary<string, string[]>();
            foreach (string line in text.Split('\n'))
            {
                int colon = line.IndexOf(": ");
                if (colon <= 0)
                {
                    continue;
                }
                string protocol = line.Substring(0, colon);
                string[] fields = line.Substring(colon + 2).Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (!names.TryGetValue(protocol, out string[] header))
                {
                    names[protocol] = fields;
                    continue;
                }
                for (int i = 0; i < header.Length && i < fields.Length; i++)
                {
                    counters[protocol + "." + header[i]] = long.Parse(fields[i]);
                }
            }
            return counters;
        }

        /// <summary>One of the stack's counters from the guest's <c>net</c> ("name value"; absent when 0).</summary>
        private long GuestCounter(string name)
        {
            string net = _guest.Command("net");
            Assert.That(net, Does.Contain("counters (non-zero)"), net);
            System.Text.RegularExpressions.Match m = System.Text.RegularExpressions.Regex.Match(net, @"\b" + name + @" (\d+)");
            return m.Success ? long.Parse(m.Groups[1].Value) : 0;
        }
    }
}
