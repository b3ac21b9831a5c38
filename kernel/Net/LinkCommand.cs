using Keel.Drivers.Virtio;
using Keel.Drivers.VirtioNet;
using Keel.Hal;
using Keel.Kernel.Shell;

namespace Keel.Kernel.Net
{
    /// <summary>
    /// <c>link</c>: link state, MTU (from the device's configuration with VIRTIO_NET_F_MTU), MAC, ring format,
    /// control-queue settings (promiscuous, all-multicast, MAC filter) and announcements.
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

        private static void WriteHexByte(ITextOutput output, byte value)
        {
            const string digits = "0123456789abcdef";
            output.Write(digits[value >> 4]);
            output.Write(digits[value & 15]);
        }
    }
}
