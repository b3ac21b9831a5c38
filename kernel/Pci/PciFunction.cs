using Keel.Hal;
using Keel.Kernel.Memory;

namespace Keel.Kernel.Pci
{
    /// <summary>
    /// One PCI function as drivers see it (<see cref="IPciFunction"/>): configuration space through
    /// mechanism 1, BARs decoded at enumeration, BARs mapped to register regions on request.
    /// </summary>
    public sealed class PciFunction : IPciFunction
    {
        private const int CommandOffset = 0x04;
        private const ushort CommandIoSpace = 0x1;
        private const ushort CommandMemorySpace = 0x2;
        private const ushort CommandBusMaster = 0x4;
        private const int StatusOffset = 0x06;
        private const ushort StatusCapabilityList = 0x10;
        private const int CapabilityPointerOffset = 0x34;
        private const int MaxBars = 6;

        private readonly PciBar[] _bars = new PciBar[MaxBars];
        private readonly bool[] _barPresent = new bool[MaxBars];
        private readonly IRegisterRegion[] _mapped = new IRegisterRegion[MaxBars];

        public PciFunction(int bus, int device, int function)
        {
            Bus = bus;
            Device = device;
            Function = function;
            uint ids = ConfigRead32(0);
            VendorId = (ushort)ids;
            DeviceId = (ushort)(ids >> 16);
        }

        public int Bus { get; }
        public int Device { get; }
        public int Function { get; }
        public ushort VendorId { get; }
        public ushort DeviceId { get; }

        /// <summary>Records a decoded BAR (done by enumeration).</summary>
        public void SetBar(int index, PciBar bar)
        {
            if ((uint)index < MaxBars)
            {
                _bars[index] = bar;
                _barPresent[index] = true;
            }
        }

        public uint ConfigRead32(int offset) => PciConfigPorts.Read32(Bus, Device, Function, offset);

        public ushort ConfigRead16(int offset) => (ushort)(ConfigRead32(offset & ~3) >> ((offset & 2) * 8));

        public byte ConfigRead8(int offset) => (byte)(ConfigRead32(offset & ~3) >> ((offset & 3) * 8));

        public void ConfigWrite32(int offset, uint value) => PciConfigPorts.Write32(Bus, Device, Function, offset, value);

        public void ConfigWrite16(int offset, ushort value)
        {
            int shift = (offset & 2) * 8;
            uint old = ConfigRead32(offset & ~3);
            uint updated = (old & ~(0xFFFFu << shift)) | ((uint)value << shift);
            ConfigWrite32(offset & ~3, updated);
        }

        public void ConfigWrite8(int offset, byte value)
        {
            int shift = (offset & 3) * 8;
            uint old = ConfigRead32(offset & ~3);
            uint updated = (old & ~(0xFFu << shift)) | ((uint)value << shift);
            ConfigWrite32(offset & ~3, updated);
        }

        public bool TryGetBar(int index, out PciBar bar)
        {
            if ((uint)index < MaxBars && _barPresent[index] && _bars[index].Size != 0)
            {
                bar = _bars[index];
                return true;
            }
            bar = default;
            return false;
        }

        public unsafe IRegisterRegion MapBar(int index)
        {
            PciBar bar;
            if (!TryGetBar(index, out bar))
            {
                return null;
            }
            if ((object)_mapped[index] != null)
            {
                return _mapped[index];
            }
            ushort command = ConfigRead16(CommandOffset);
            if (bar.IsPortIo)
            {
                ConfigWrite16(CommandOffset, (ushort)(command | CommandIoSpace));
                _mapped[index] = new PortRegion((ushort)bar.Address, (int)bar.Size);
            }
            else
            {
                ConfigWrite16(CommandOffset, (ushort)(command | CommandMemorySpace));
                byte* address = AddressSpace.MapDevice(bar.Address, bar.Size, &KernelMemory.AllocatePageTablePage);
                _mapped[index] = new MmioRegion(address, (int)bar.Size);
            }
            return _mapped[index];
        }

        public void EnableBusMastering()
        {
            ConfigWrite16(CommandOffset, (ushort)(ConfigRead16(CommandOffset) | CommandBusMaster));
        }

        public int FindCapability(byte capabilityId, int after)
        {
            if ((ConfigRead16(StatusOffset) & StatusCapabilityList) == 0)
            {
                return 0;
            }
            int pointer = after == 0 ? ConfigRead8(CapabilityPointerOffset) & 0xFC : ConfigRead8(after + 1) & 0xFC;
            int guard = 0;
            while (pointer != 0 && guard++ < 48)
            {
                if (ConfigRead8(pointer) == capabilityId)
                {
                    return pointer;
                }
                pointer = ConfigRead8(pointer + 1) & 0xFC;
            }
            return 0;
        }
    }
}
