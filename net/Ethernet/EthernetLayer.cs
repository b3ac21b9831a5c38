using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Net.Internal;

namespace Keel.Net.Ethernet
{
    /// <summary>
    /// Ethernet II on the device: receive demultiplexing by EtherType (to <see cref="Arp.ArpLayer"/>,
    /// <see cref="Ip.Ipv4Layer"/> and, when it runs, <see cref="Ipv6.Ipv6Layer"/>, which also says which multicast
    /// groups are ours), header output with padding to the minimum frame, and the transmit backlog
    /// that holds frames the device refused (ring full) until it takes them.
    /// </summary>
    internal sealed unsafe class EthernetLayer
    {
        internal const int EtherTypeIPv4 = 0x0800;
        internal const int EtherTypeArp = 0x0806;
        internal const int EtherTypeIPv6 = 0x86DD;
        internal const int MinimumFrame = 60;
        internal const ulong BroadcastMac = 0xFFFFFFFFFFFFUL;

        /// <summary>Frames held for a device that refused them; more are dropped (counted as tx_dropped).</summary>
        internal const int TransmitBacklogLimit = 256;

        internal readonly NetStack Stack;
        internal readonly long[] Counters;
        private readonly INetDevice _device;
        private readonly ulong _mac;
        private PacketQueue _backlog;

        public EthernetLayer(NetStack stack, INetDevice device, ulong mac)
        {
            Stack = stack;
            Counters = stack.Counters;
            _device = device;
            _mac = mac;
        }

        /// <summary>Frames waiting for the device.</summary>
        internal int BacklogCount => _backlog.Count;

        /// <summary>True when frames the device refused are waiting (senders should hold back).</summary>
        internal bool TransmitCongested => !_backlog.IsEmpty;

        /// <summary>True when a new frame would be taken by the device now (nothing backlogged, ring not stopped).</summary>
        internal bool CanTransmit => _backlog.IsEmpty && _device.CanTransmit;

        /// <summary>One received frame: checks the destination and hands it to ARP, IPv4 or IPv6 (the layer frees it).</summary>
        internal void Input(Packet frame)
        {
            Counters[NetStatistics.EthRxFrames]++;
            Counters[NetStatistics.EthRxBytes] += frame.Length;
            if (!frame.EnsureLinear(EthernetFrame.HeaderLength))
            {
                Counters[NetStatistics.EthRxTruncated]++;
                frame.Free();
                return;
            }
            byte* header = frame.Data;
            ulong destination = NetBytes.ReadMac(header);
            int type = NetBytes.Read16(header + 12);
            bool ipv6 = type == EtherTypeIPv6 && Stack.Ipv6 != null;
            if (destination != _mac && destination != BroadcastMac && !(ipv6 && Stack.Ipv6.AcceptsMulticastMac(destination)))
            {
                Counters[NetStatistics.EthRxNotForUs]++;
                frame.Free();
                return;
            }
            frame.Pull(EthernetFrame.HeaderLength);
            if (type == EtherTypeIPv4)
            {
                Stack.Ipv4.Input(frame);
            }
            else if (type == EtherTypeArp)
            {
                Stack.Arp.Input(frame);
            }
            else if (ipv6)
            {
                Stack.Ipv6.Input(frame, destination != _mac);
            }
            else
            {
                Counters[NetStatistics.EthRxUnknownType]++;
                frame.Free();
            }
        }

        /// <summary>A packet from the device's transmit pool with room for every header in front; null (counted) when empty.</summary>
        internal Packet AllocateTransmit()
        {
            Packet packet = _device.TransmitPackets.TryAllocate(Packet.DefaultHeadroom);
            if (packet == null)
            {
                Counters[NetStatistics.TxPacketAllocFailures]++;
            }
            return packet;
        }

        /// <summary>Puts the Ethernet header in front and sends the frame, or backlogs it. Takes ownership.</summary>
        internal void Output(Packet packet, ulong destinationMac, int etherType)
        {
            byte* e = packet.Push(EthernetFrame.HeaderLength);
            if (e == null)
            {
                Counters[NetStatistics.TxDropped]++;
                packet.Free();
                return;
            }
            NetBytes.WriteMac(e, destinationMac);
            NetBytes.WriteMac(e + 6, _mac);
            NetBytes.Write16(e + 12, etherType);
            if (packet.Length < MinimumFrame && packet.FragmentCount == 0)
            {
                int pad = MinimumFrame - packet.Length;
                byte* tail = packet.Put(pad);
                if (tail != null)
                {
                    new System.Span<byte>(tail, pad).Clear();
                }
            }
            Counters[NetStatistics.EthTxFrames]++;
            Counters[NetStatistics.EthTxBytes] += packet.Length;
            if (!_backlog.IsEmpty)
            {
                FlushBacklog();
            }
            if (_backlog.IsEmpty && _device.Transmit(packet))
            {
                return;
            }
            if (_backlog.Count >= TransmitBacklogLimit)
            {
                Counters[NetStatistics.TxDropped]++;
                packet.Free();
                return;
            }
            Counters[NetStatistics.TxBusyQueued]++;
            _backlog.Enqueue(packet);
        }

        /// <summary>Hands backlogged frames to the device, oldest first, until it refuses one.</summary>
        internal void FlushBacklog()
        {
            while (!_backlog.IsEmpty)
            {
                Packet packet = _backlog.Dequeue();
                if (!_device.Transmit(packet))
                {
                    _backlog.PushFront(packet);
                    return;
                }
            }
        }

        /// <summary>Frees every backlogged frame (shutdown).</summary>
        internal void Clear()
        {
            _backlog.FreeAll();
        }

        /// <summary>Writes a MAC address as six colon-separated hex pairs.</summary>
        internal static void WriteMac(Keel.Hal.ITextOutput output, ulong mac)
        {
            for (int i = 0; i < 6; i++)
            {
                if (i != 0)
                {
                    output.Write(':');
                }
                int b = (int)(mac >> (40 - 8 * i)) & 0xFF;
                output.Write(HexDigit(b >> 4));
                output.Write(HexDigit(b & 0xF));
            }
        }

        private static char HexDigit(int value) => (char)(value < 10 ? '0' + value : 'a' + value - 10);
    }
}
