using Keel.Buffers;
using Keel.Hal;
using Keel.Net.Ethernet;
using Keel.Net.Internal;

namespace Keel.Net.Arp
{
    /// <summary>
    /// ARP (RFC 826) for IPv4 over Ethernet: answers requests for our address, learns senders, resolves next
    /// hops for <see cref="Ip.Ipv4Layer"/> through the cache (<see cref="ArpTable"/>, which queues packets while a
    /// resolution is under way), and announces our address with a gratuitous request.
    /// </summary>
    internal sealed unsafe class ArpLayer
    {
        internal const int OpRequest = 1;
        internal const int OpReply = 2;
        internal const int PacketLength = 28;
        internal const int HardwareEthernet = 1;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;
        private readonly ArpTable _table;
        private readonly ulong _mac;
        private uint _address;

        /// <summary>Address an ARP probe is out for (RFC 5227); 0 for none. Set by the DHCP client.</summary>
        internal uint ProbeTarget;

        /// <summary>Set when an ARP packet showed <see cref="ProbeTarget"/> in use by another host.</summary>
        internal bool ProbeConflict;

        public ArpLayer(NetStack stack, NetConfig config, ulong mac)
        {
            Stack = stack;
            Counters = stack.Counters;
            _mac = mac;
            _address = config.Address.Value;
            _table = new ArpTable(stack, config.ArpCacheSize, config.ArpTimeout, config.ArpPendingPackets);
        }

        /// <summary>Our address changed (DHCP); 0 = unconfigured (requests then go out as RFC 5227 probes).</summary>
        internal void Configure(uint address) => _address = address;

        /// <summary>Packets waiting for a resolution.</summary>
        internal int PendingCount => _table.PendingCount;

        /// <summary>One received ARP packet (data at the ARP header); frees it.</summary>
        internal void Input(Packet packet)
        {
            Counters[NetStatistics.ArpRx]++;
            if (!packet.EnsureLinear(PacketLength))
            {
                Counters[NetStatistics.ArpBad]++;
                packet.Free();
                return;
            }
            byte* a = packet.Data;
            if (NetBytes.Read16(a) != HardwareEthernet || NetBytes.Read16(a + 2) != EthernetLayer.EtherTypeIPv4 || a[4] != 6 || a[5] != 4)
            {
                Counters[NetStatistics.ArpBad]++;
                packet.Free();
                return;
            }
            int op = NetBytes.Read16(a + 6);
            ulong senderMac = NetBytes.ReadMac(a + 8);
            uint senderIp = NetBytes.Read32(a + 14);
            uint targetIp = NetBytes.Read32(a + 24);
            packet.Free();
            if (op != OpRequest && op != OpReply)
            {
                Counters[NetStatistics.ArpBad]++;
                return;
            }
            if (senderMac == _mac)
            {
                return; // our own frame looped back
            }
            if (ProbeTarget != 0 && (senderIp == ProbeTarget || (senderIp == 0 && targetIp == ProbeTarget)))
            {
                ProbeConflict = true; // RFC 5227 2.1.1: the address being probed is in use
            }
            if (senderIp == _address && _address != 0)
            {
                Counters[NetStatistics.ArpConflicts]++;
                return;
            }
            if (senderMac == EthernetLayer.BroadcastMac || (senderMac & 0x010000000000UL) != 0)
            {
                Counters[NetStatistics.ArpBad]++;
                return;
            }
            bool forUs = targetIp == _address;
            _table.Update(senderIp, senderMac, forUs, Stack.Now);
            if (op == OpRequest && forUs)
            {
                Send(OpReply, senderMac, senderIp);
            }
        }

        /// <summary>Sends a request (<paramref name="targetMac"/> is the frame's destination) or a reply.</summary>
        internal void Send(int op, ulong targetMac, uint targetIp)
        {
            Packet packet = Stack.Ethernet.AllocateTransmit();
            if (packet == null)
            {
                return;
            }
            byte* a = packet.Put(PacketLength);
            NetBytes.Write16(a, HardwareEthernet);
            NetBytes.Write16(a + 2, EthernetLayer.EtherTypeIPv4);
            a[4] = 6;
            a[5] = 4;
            NetBytes.Write16(a + 6, op);
            NetBytes.WriteMac(a + 8, _mac);
            NetBytes.Write32(a + 14, _address);
            NetBytes.WriteMac(a + 18, op == OpRequest ? 0 : targetMac);
            NetBytes.Write32(a + 24, targetIp);
            if (op == OpRequest)
            {
                Counters[NetStatistics.ArpRequestsSent]++;
            }
            else
            {
                Counters[NetStatistics.ArpRepliesSent]++;
            }
            Stack.Ethernet.Output(packet, targetMac, EthernetLayer.EtherTypeArp);
        }

        /// <summary>Sends an IPv4 packet (IP header in place) to <paramref name="nextHop"/>, resolving it first if needed.</summary>
        internal void Transmit(Packet packet, uint nextHop)
        {
            ulong mac;
            if (_table.TryResolve(nextHop, Stack.Now, out mac))
            {
                Stack.Ethernet.Output(packet, mac, EthernetLayer.EtherTypeIPv4);
            }
            else
            {
                _table.QueueAndResolve(packet, nextHop, Stack.Now);
            }
        }

        /// <summary>Expires entries, retries requests, drops packets whose resolution failed.</summary>
        internal void Poll(Instant now)
        {
            _table.Poll(now);
        }

        /// <summary>Forgets every entry and frees the waiting packets.</summary>
        internal void Clear()
        {
            _table.Clear();
        }

        /// <summary>Prints the cache (shell <c>net</c>).</summary>
        internal void Print(ITextOutput output, Instant now)
        {
            _table.Print(output, now);
        }
    }
}
