using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// <c>link</c>: link state, MTU (from the device's configuration with VIRTIO_NET_F_MTU), MAC, ring format,
    /// the features Keel would use that the device did not offer (and what it does instead), control-queue
    /// settings (promiscuous, all-multicast, MAC filter) and announcements.
    /// <c>link promisc on|off</c> and <c>link allmulti on|off</c> send the control-queue commands.
    /// </summary>
    public sealed class LinkCommand : IShellCommand
    {
        private readonly VirtioNetDevice _device;
        private readonly byte[] _mac = new byte[6];

        public LinkCommand(VirtioNetDevice device)
        {
            _device = device;
        }

        public string Name => "link";

        public string Help => "link [promisc|allmulti on|off]: link state, MTU, ring, receive filter";

        public void Execute(ShellArguments arguments, ITextOutput output)
        {
            if (arguments.Count == 2)
            {
                bool on = arguments.Is(1, "on");
                bool ok;
                if (arguments.Is(0, "promisc"))
                {
                    ok = _device.SetPromiscuous(on);
                }
                else if (arguments.Is(0, "allmulti"))
                {
                    ok = _device.SetAllMulticast(on);
                }
                else
                {
                    output.Write("usage: link [promisc|allmulti on|off]\n");
                    return;
                }
                output.Write(ok ? "ok\n" : "refused (no control queue or the device said no)\n");
            }
            output.Write("link: ");
            output.Write(_device.LinkUp ? "up" : "down");
            output.Write(", mtu ");
            output.Write(_device.Mtu);
            output.Write((_device.NegotiatedFeatures & VirtioNetFeatures.Mtu) != 0 ? " (from device)" : " (default)");
            output.Write(", mac ");
            _device.GetMacAddress(_mac);
            for (int i = 0; i < 6; i++)
            {
                if (i > 0)
                {
                    output.Write(':');
                }
                WriteHexByte(output, _mac[i]);
            }
            output.WriteLine();
            output.Write("ring: ");
            output.Write((_device.NegotiatedFeatures & VirtioFeatures.RingPacked) != 0 ? "packed" : "split");
            output.Write(", event_idx ");
            output.Write((_device.NegotiatedFeatures & VirtioFeatures.EventIndex) != 0 ? "on" : "off");
            output.Write(", rx ");
            output.Write(_device.RxQueue.Size);
            output.Write(", tx ");
            output.Write(_device.TxQueue.Size);
            output.WriteLine();
            WriteNotOffered(output);
            output.Write("control queue: ");
            if (!_device.HasControlQueue)
            {
                output.Write("no\n");
                return;
            }
            output.Write("yes, promisc ");
            output.Write(_device.Promiscuous ? "on" : "off");
            output.Write(", allmulti ");
            output.Write(_device.AllMulticast ? "on" : "off");
            output.Write(", mac filter ");
            output.Write(_device.UnicastFilterEntries);
            output.Write(" unicast ");
            output.Write(_device.MulticastFilterEntries);
            output.Write(" multicast, guest announce ");
            output.Write((_device.NegotiatedFeatures & VirtioNetFeatures.GuestAnnounce) != 0 ? "on" : "off");
            output.Write(", announces ");
            output.Write(_device.Announces);
            output.Write(", commands ");
            output.Write(_device.ControlCommands);
            output.Write(", errors ");
            output.Write(_device.ControlErrors);
            output.WriteLine();
        }

        /// <summary>
        /// "not offered: …", then one line per feature Keel would have used but the device did not offer, with
        /// what Keel does instead (features that only matter with one that is missing are left out).
        /// </summary>
        private void WriteNotOffered(ITextOutput output)
        {
            ulong missing = _device.NotOfferedFeatures;
            if ((missing & VirtioNetFeatures.ControlQueue) != 0)
            {
                missing &= ~(VirtioNetFeatures.ControlRx | VirtioNetFeatures.GuestAnnounce);
            }
            output.Write("not offered:");
            if (missing == 0)
            {
                output.Write(" none\n");
                return;
            }
            for (int bit = 0; bit < 64; bit++)
            {
                string name;
                string instead;
                if ((missing & (1UL << bit)) != 0 && Describe(bit, out name, out instead))
                {
                    output.Write(' ');
                    output.Write(name);
                }
            }
            output.WriteLine();
            for (int bit = 0; bit < 64; bit++)
            {
                string name;
                string instead;
                if ((missing & (1UL << bit)) != 0 && Describe(bit, out name, out instead))
                {
                    output.Write("  ");
                    output.Write(name);
                    output.Write(": ");
                    output.Write(instead);
                    output.WriteLine();
                }
            }
        }

        /// <summary>The virtio name of feature <paramref name="bit"/> and what Keel does without it.</summary>
        private bool Describe(int bit, out string name, out string instead)
        {
            switch (bit)
            {
                case 0:
                    name = "csum";
                    instead = "the stack computes transmit checksums; no TSO";
                    return true;
                case 1:
                    name = "guest_csum";
                    instead = "the stack verifies receive checksums; no large receive";
                    return true;
                case 3:
                    name = "mtu";
                    instead = "MTU 1500";
                    return true;
                case 5:
                    name = "mac";
                    instead = "a random locally administered MAC";
                    return true;
                case 7:
                    name = "guest_tso4";
                    instead = "no large receive: packets arrive MTU-sized";
                    return true;
                case 8:
                    name = "guest_tso6";
                    instead = "no large receive over IPv6: packets arrive MTU-sized";
                    return true;
                case 11:
                    name = "host_tso4";
                    instead = "the stack segments TCP to the MSS";
                    return true;
                case 12:
                    name = "host_tso6";
                    instead = "the stack segments TCP over IPv6 to the MSS";
                    return true;
                case 15:
                    name = "mrg_rxbuf";
                    instead = _device.Mode == ReceiveMode.Big
                        ? "a chain of whole pages per received packet (big buffers), 10-byte header"
                        : "one MTU-sized buffer per received packet (small buffers), 10-byte header";
                    return true;
                case 16:
                    name = "status";
                    instead = "link taken as up";
                    return true;
                case 17:
                    name = "ctrl_vq";
                    instead = "no receive-mode, MAC-filter or announce commands: the device's own filter stays";
                    return true;
                case 18:
                    name = "ctrl_rx";
                    instead = "the device's own receive filter stays";
                    return true;
                case 21:
                    name = "guest_announce";
                    instead = "no announcements after a migration";
                    return true;
                case 27:
                    name = "any_layout";
                    instead = "the header in a descriptor of its own";
                    return true;
                case 28:
                    name = "indirect_desc";
                    instead = "transmit chains in ring descriptors (no indirect tables)";
                    return true;
                case 29:
                    name = "event_idx";
                    instead = "ring flags suppress notifications and interrupts";
                    return true;
                case 34:
                    name = "ring_packed";
                    instead = "split rings";
                    return true;
                default:
                    name = null;
                    instead = null;
                    return false;
            }
        }

        private static void WriteHexByte(ITextOutput output, byte value)
        {
            const string digits = "0123456789abcdef";
            output.Write(digits[value >> 4]);
            output.Write(digits[value & 15]);
        }
    }
}
