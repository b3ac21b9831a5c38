using Keel.Hal;
using Keel.Kernel.Text;

namespace Keel.Kernel.Pci
{
    /// <summary>Formats PCI functions for the <c>pci</c> shell command and the boot log.</summary>
    public static class PciPrinter
    {
        /// <summary>
        /// Prints one function:
        /// <code>
        /// 00:03.0 1af4:1000 class 02.00.00 network rev 00 irq 11 pin A
        ///     bar0 io    0x000000000000c000 size 0x20
        ///     bar4 mem64 0x0000000fe0000000 size 0x4000 pref
        ///     caps 11 09 09 09 09
        /// </code>
        /// </summary>
        public static void PrintDevice(PciDevice device, ITextOutput output)
        {
            device.WriteAddressAndId(output);
            output.Write(' ');
            output.Write(ClassName(device.ClassCode));
            output.Write(" rev ");
            TextWriting.WriteHex(output, device.RevisionId, 2);
            if (device.IsBridge)
            {
                output.Write(" bus ");
                TextWriting.WriteHex(output, (ulong)device.SecondaryBus, 2);
                output.Write('-');
                TextWriting.WriteHex(output, (ulong)device.SubordinateBus, 2);
            }
            if (device.InterruptPin != 0)
            {
                output.Write(" irq ");
                output.Write((long)device.InterruptLine);
                output.Write(" pin ");
                output.Write((char)('A' + device.InterruptPin - 1));
            }
            output.WriteLine();

            for (int i = 0; i < device.BarCount; i++)
            {
                PciBar bar;
                if (!device.TryGetBar(i, out bar))
                {
                    continue;
                }
                output.Write("    bar");
                output.Write((long)i);
                output.Write(bar.IsPortIo ? " io    0x" : bar.Is64Bit ? " mem64 0x" : " mem32 0x");
                TextWriting.WriteHex(output, bar.Address, bar.IsPortIo ? 4 : bar.Is64Bit ? 16 : 8);
                output.Write(" size 0x");
                WriteHexTrimmed(output, bar.Size);
                if (bar.Prefetchable)
                {
                    output.Write(" pref");
                }
                output.WriteLine();
            }

            int cap = device.FirstCapability();
            if (cap != 0)
            {
                output.Write("    caps");
                for (int n = 0; cap != 0 && n < PciConfig.MaxCapabilities; n++)
                {
                    output.Write(' ');
                    TextWriting.WriteHex(output, device.CapabilityId(cap), 2);
                    cap = device.NextCapability(cap);
                }
                PciMsixInfo msix;
                if (device.TryGetMsix(out msix))
                {
                    output.Write(" msix ");
                    output.Write((long)msix.TableSize);
                    output.Write(" vectors bar");
                    output.Write((long)msix.TableBar);
                    output.Write("+0x");
                    WriteHexTrimmed(output, msix.TableOffset);
                }
                output.WriteLine();
            }
        }

        /// <summary>Short name of a PCI base class ("network", "bridge", ...).</summary>
        public static string ClassName(byte classCode)
        {
            switch (classCode)
            {
                case 0x00: return "unclassified";
                case 0x01: return "storage";
                case 0x02: return "network";
                case 0x03: return "display";
                case 0x04: return "multimedia";
                case 0x05: return "memory";
                case 0x06: return "bridge";
                case 0x07: return "communication";
                case 0x08: return "system";
                case 0x09: return "input";
                case 0x0C: return "serial-bus";
                case 0xFF: return "vendor";
                default: return "other";
            }
        }

        /// <summary>Hex without leading zeros (at least one digit).</summary>
        private static void WriteHexTrimmed(ITextOutput output, ulong value)
        {
            int digits = 1;
            while (digits < 16 && (value >> (digits * 4)) != 0)
            {
                digits++;
            }
            TextWriting.WriteHex(output, value, digits);
        }
    }
}
