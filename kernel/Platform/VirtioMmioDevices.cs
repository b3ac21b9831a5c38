using Keel.Drivers.Virtio;
using Keel.Hal;
using Keel.Kernel.Acpi;
using Keel.Kernel.Boot;
using Keel.Kernel.Config;
using Keel.Kernel.Console;
using Keel.Kernel.Memory;
using Keel.Kernel.Pci;

namespace Keel.Kernel.Platform
{
    /// <summary>
    /// The virtio-mmio transports the platform describes, for machines without PCI (QEMU microvm, Firecracker):
    /// <c>virtio_mmio.device=</c> entries on the kernel command line, then the DSDT's LNRO0005 devices (a window
    /// already named is not taken twice). Each window is checked (not RAM, magic and version right) and mapped
    /// uncached; its interrupt becomes an I/O APIC line: ACPI says the trigger mode and polarity, a
    /// command-line number below 16 is an ISA IRQ (edge, active high, after the MADT's overrides), a higher
    /// one a level-triggered, active-high GSI. Prints one line per device at boot.
    /// </summary>
    public static unsafe class VirtioMmioDevices
    {
        /// <summary>Most windows considered (command line and DSDT together).</summary>
        public const int MaxDevices = 32;

        /// <summary>Largest window mapped: virtio-mmio registers and configuration fit in a page.</summary>
        private const ulong MaxWindow = 4096;

        private static VirtioMmioTransport[] s_transports;
        private static bool[] s_claimed;
        private static int s_count;

        /// <summary>Transports found (devices behind them; empty slots are not kept).</summary>
        public static int Count => s_count;

        /// <summary>Transport <paramref name="index"/>.</summary>
        public static VirtioMmioTransport Get(int index) => s_transports[index];

        public static void Initialize(KernelCommandLine commandLine, SerialConsole output)
        {
            s_transports = new VirtioMmioTransport[MaxDevices];
            s_claimed = new bool[MaxDevices];
            MmioDevice[] described = new MmioDevice[MaxDevices];
            int count = 0;
            for (int i = 0; i < commandLine.MmioDeviceCount && count < MaxDevices; i++)
            {
                count = AddUnique(described, count, commandLine.GetMmioDevice(i));
            }
            if ((object)AcpiSubsystem.Tables != null)
            {
                MmioDevice[] fromAcpi = new MmioDevice[MaxDevices];
                int found = AcpiSubsystem.Tables.FindMmioDevices(fromAcpi);
                for (int i = 0; i < found && count < MaxDevices; i++)
                {
                    count = AddUnique(described, count, fromAcpi[i]);
                }
            }
            int empty = 0;
            for (int i = 0; i < count; i++)
            {
                Probe(described[i], output, ref empty);
            }
            if (count > 0)
            {
                output.Write("virtio-mmio: ");
                output.Write(s_count);
                output.Write(s_count == 1 ? " device" : " devices");
                if (empty > 0)
                {
                    output.Write(", ");
                    output.Write(empty);
                    output.Write(" empty slots");
                }
                output.WriteLine();
            }
        }

        /// <summary>
        /// The first transport with a device of <paramref name="deviceType"/> not taken yet, marked taken; null
        /// when there is none.
        /// </summary>
        public static VirtioMmioTransport Claim(int deviceType)
        {
            for (int i = 0; i < s_count; i++)
            {
                if (!s_claimed[i] && s_transports[i].DeviceType == deviceType)
                {
                    s_claimed[i] = true;
                    return s_transports[i];
                }
            }
            return null;
        }

        private static int AddUnique(MmioDevice[] devices, int count, MmioDevice device)
        {
            for (int i = 0; i < count; i++)
            {
                if (devices[i].Base == device.Base)
                {
                    return count;
                }
            }
            devices[count] = device;
            return count + 1;
        }

        private static void Probe(MmioDevice device, SerialConsole output, ref int empty)
        {
            if (OverlapsRam(device.Base, device.Size))
            {
                Refuse(device, output, "window overlaps RAM");
                return;
            }
            InterruptLine line;
            if (!TryResolveLine(device, out line))
            {
                Refuse(device, output, "interrupt has no I/O APIC input");
                return;
            }
            ulong length = device.Size < MaxWindow ? device.Size : MaxWindow;
            byte* registers = AddressSpace.MapDevice(device.Base, length, &KernelMemory.AllocatePageTablePage);
            MmioRegion region = new MmioRegion(registers, (int)length);
            int type = VirtioMmioTransport.ProbeDeviceType(region);
            if (type < 0)
            {
                Refuse(device, output, "no virtio-mmio registers (magic or version)");
                return;
            }
            if (type == 0)
            {
                empty++;
                return;
            }
            VirtioMmioTransport transport = VirtioMmioTransport.TryCreate(region, line, Kernel.Interrupts);
            if ((object)transport == null || s_count == MaxDevices)
            {
                return;
            }
            s_transports[s_count++] = transport;
            output.Write("virtio-mmio: ");
            output.WriteHex(device.Base);
            output.Write(device.Source == MmioDeviceSource.Acpi ? " (acpi)" : " (cmdline)");
            output.Write(" v");
            output.Write(transport.Version);
            output.Write(transport.IsLegacy ? " legacy" : " modern");
            output.Write(", device ");
            output.Write(transport.DeviceType);
            output.Write(", gsi ");
            output.Write(line.Gsi);
            output.Write(line.LevelTriggered ? " level" : " edge");
            output.Write(line.ActiveLow ? " low" : " high");
            output.WriteLine();
        }

        private static void Refuse(MmioDevice device, SerialConsole output, string reason)
        {
            output.Write("virtio-mmio: ");
            output.WriteHex(device.Base);
            output.Write(" ignored: ");
            output.Write(reason);
            output.WriteLine();
        }

        /// <summary>The I/O APIC line for a described interrupt (see the class summary for the rules).</summary>
        private static bool TryResolveLine(MmioDevice device, out InterruptLine line)
        {
            if (device.HasTriggerMode)
            {
                line = new InterruptLine(device.Irq, device.LevelTriggered, device.ActiveLow);
            }
            else if (device.Irq < 16)
            {
                bool activeLow;
                bool level;
                int gsi = AcpiSubsystem.IsaIrqToGsi(device.Irq, out activeLow, out level);
                line = new InterruptLine(gsi, level, activeLow);
            }
            else
            {
                line = new InterruptLine(device.Irq, true, false);
            }
            return Keel.Kernel.Interrupts.IoApic.Serves(line.Gsi);
        }

        /// <summary>True when [<paramref name="address"/>, +<paramref name="size"/>) meets RAM in the boot memory map.</summary>
        private static bool OverlapsRam(ulong address, ulong size)
        {
            PvhMemoryMapEntry* entries = BootInfo.MemoryMap;
            for (int i = 0; i < BootInfo.MemoryMapCount; i++)
            {
                if (entries[i].Type == MemoryRegionType.Ram && address < entries[i].Address + entries[i].Size
                    && entries[i].Address < address + size)
                {
                    return true;
                }
            }
            return false;
        }
    }
}
