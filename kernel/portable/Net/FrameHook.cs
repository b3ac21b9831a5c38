using Keel.Buffers;
using Keel.Drivers.Net;
using Keel.Hal;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// The raw receive hook used by the driver tests and the receive-rate benchmark. It sees each frame
    /// before any packet is built. Drop mode only counts (the XDP_DROP set-up of the page-pool patch);
    /// echo mode also checks tools/framegen's payload (KFG1, sequence, size, byte pattern) and sends each
    /// good frame back with MAC, IP and UDP endpoints swapped, which leaves both checksums valid.
    /// </summary>
    public sealed unsafe class FrameHook : IRawReceiveHook
    {
        private const int Ipv4Header = 20;
        private const int UdpHeader = 8;
        private const int PayloadOffset = EthernetFrame.HeaderLength + Ipv4Header + UdpHeader;
        private const int MinimumGeneratorPayload = 16;
        private const ushort EtherTypeIpv4 = 0x0800;
        private const byte ProtocolUdp = 17;

        private readonly INetDevice _device;
        private readonly bool _echo;

        /// <summary>Pages for echoed frames longer than a packet's linear area (echo mode only).</summary>
        private readonly PagePool _echoPages;

        /// <param name="echoPages">null: drop mode (count only); otherwise echo mode, with pages for long frames.</param>
        public FrameHook(INetDevice device, PagePool echoPages)
        {
            _device = device;
            _echoPages = echoPages;
            _echo = (object)echoPages != null;
            MinimumSize = int.MaxValue;
        }

        /// <summary>Frames seen.</summary>
        public long Frames;

        /// <summary>Bytes seen.</summary>
        public long Bytes;

        /// <summary>Frames that were tools/framegen frames with a correct payload.</summary>
        public long Good;

        /// <summary>framegen frames whose payload did not check out.</summary>
        public long Bad;

        /// <summary>Frames that were not framegen frames (ARP, IPv6, …).</summary>
        public long Foreign;

        /// <summary>Frames spread over more than one receive buffer (checked only in their first buffer).</summary>
        public long MultiBuffer;

        /// <summary>Frames sent back.</summary>
        public long Echoed;

        /// <summary>Frames not sent back because the transmit queue or packet pool was full (back-pressure).</summary>
        public long EchoSkipped;

        /// <summary>Frames whose echo failed for another reason (no page for a long frame, device refused).</summary>
        public long EchoFailures;

        /// <summary>Smallest and largest frame seen.</summary>
        public int MinimumSize;
        public int MaximumSize;

        /// <summary>Highest framegen sequence number seen.</summary>
        public ulong LastSequence;

        public RawReceiveVerdict Inspect(byte* frame, int length, int bufferCount)
        {
            Frames++;
            Bytes += length;
            if (length < MinimumSize) MinimumSize = length;
            if (length > MaximumSize) MaximumSize = length;
            if (!_echo)
            {
                return RawReceiveVerdict.Drop;
            }
            if (bufferCount > 1)
            {
                MultiBuffer++;
            }
            if (length < PayloadOffset + MinimumGeneratorPayload
                || ((frame[12] << 8) | frame[13]) != EtherTypeIpv4
                || frame[EthernetFrame.HeaderLength + 9] != ProtocolUdp
                || frame[PayloadOffset] != (byte)'K' || frame[PayloadOffset + 1] != (byte)'F'
                || frame[PayloadOffset + 2] != (byte)'G' || frame[PayloadOffset + 3] != (byte)'1')
            {
                Foreign++;
                return RawReceiveVerdict.Drop;
            }
            byte* payload = frame + PayloadOffset;
            ulong sequence = 0;
            for (int i = 0; i < 8; i++)
            {
                sequence = (sequence << 8) | payload[4 + i];
            }
            int size = (payload[12] << 8) | payload[13];
            bool good = bufferCount > 1 ? size > length : size == length;
            int checkedLength = length - PayloadOffset;
            for (int i = MinimumGeneratorPayload; good && i < checkedLength; i++)
            {
                if (payload[i] != (byte)(i + (int)sequence))
                {
                    good = false;
                }
            }
            if (!good)
            {
                Bad++;
                return RawReceiveVerdict.Drop;
            }
            Good++;
            if (sequence > LastSequence)
            {
                LastSequence = sequence;
            }
            if (bufferCount == 1)
            {
                EchoBack(frame, length);
            }
            return RawReceiveVerdict.Drop;
        }

        private void EchoBack(byte* frame, int length)
        {
            if (!_device.CanTransmit)
            {
                EchoSkipped++;
                return;
            }
            Packet packet = _device.TransmitPackets.TryAllocate(0);
            if ((object)packet == null)
            {
                EchoSkipped++;
                return;
            }
            if (length > Packet.LinearCapacity && !AttachCopy(packet, frame, length))
            {
                if ((object)packet != null)
                {
                    packet.Free();
                }
                EchoFailures++;
                return;
            }
            if (length <= Packet.LinearCapacity)
            {
                byte* data = packet.Put(length);
                Copy(frame, data, length);
            }
            byte* d = packet.Data;
            // Swap MAC addresses, IPv4 addresses and UDP ports.
            SwapBytes(d, d + 6, 6);
            SwapBytes(d + EthernetFrame.HeaderLength + 12, d + EthernetFrame.HeaderLength + 16, 4);
            SwapBytes(d + EthernetFrame.HeaderLength + Ipv4Header, d + EthernetFrame.HeaderLength + Ipv4Header + 2, 2);
            if (_device.Transmit(packet))
            {
                Echoed++;
            }
            else
            {
                packet.Free();
                EchoFailures++;
            }
        }

        /// <summary>Puts a copy of a frame longer than the linear area into the packet (linear head + pool page).</summary>
        private bool AttachCopy(Packet packet, byte* frame, int length)
        {
            int page;
            if (!_echoPages.TryAllocate(out page))
            {
                return false;
            }
            byte* head = packet.Put(Packet.LinearCapacity);
            Copy(frame, head, Packet.LinearCapacity);
            int rest = length - Packet.LinearCapacity;
            Copy(frame + Packet.LinearCapacity, _echoPages.Address(page), rest);
            return packet.AppendFragment(_echoPages, page, 0, rest, DmaPage.Size);
        }

        private static void SwapBytes(byte* a, byte* b, int count)
        {
            for (int i = 0; i < count; i++)
            {
                byte t = a[i];
                a[i] = b[i];
                b[i] = t;
            }
        }

        private static void Copy(byte* source, byte* destination, int count)
        {
            for (int i = 0; i < count; i++)
            {
                destination[i] = source[i];
            }
        }

        /// <summary>Prints the counters (shell command <c>hook</c>).</summary>
        public void Print(ITextOutput output)
        {
            output.Write("hook: frames ");
            output.Write(Frames);
            output.Write(" bytes ");
            output.Write(Bytes);
            output.Write(" good ");
            output.Write(Good);
            output.Write(" bad ");
            output.Write(Bad);
            output.Write(" foreign ");
            output.Write(Foreign);
            output.Write(" multibuffer ");
            output.Write(MultiBuffer);
            output.Write(" echoed ");
            output.Write(Echoed);
            output.Write(" echo_skipped ");
            output.Write(EchoSkipped);
            output.Write(" echo_failures ");
            output.Write(EchoFailures);
            output.Write(" min ");
            output.Write(Frames == 0 ? 0 : MinimumSize);
            output.Write(" max ");
            output.Write(MaximumSize);
            output.Write(" last_seq ");
            output.Write((long)LastSequence);
            output.WriteLine();
        }
    }
}
