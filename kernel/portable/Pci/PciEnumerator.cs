using Keel.Hal;

namespace Keel.Kernel.Pci
{
    /// <summary>
    /// Finds every PCI function (configuration mechanism 1 through <see cref="IPciConfigAccess"/>), sizes its BARs
    /// and keeps the <see cref="PciDevice"/> objects for the kernel's lifetime. Run once at start-up (it allocates).
    /// </summary>
    public sealed class PciEnumerator
    {
        /// <summary>Initial capacity of the device list (doubled when full).</summary>
        private const int InitialCapacity = 16;

        /// <summary>Configuration space access.</summary>
        private readonly IPciConfigAccess _access;

        /// <summary>Given to every device for <see cref="PciDevice.MapBar"/>; may be null.</summary>
        private readonly IPciBarMapper _mapper;

        /// <summary>Functions found, in scan order.</summary>
        private PciDevice[] _devices = new PciDevice[InitialCapacity];

        /// <summary>Functions in <see cref="_devices"/>.</summary>
        private int _count;

        /// <summary>Buses already scanned (guards against bridge loops).</summary>
        private readonly bool[] _scanned = new bool[PciConfig.BusCount];

        /// <summary>Makes an enumerator; <paramref name="mapper"/> (may be null) is handed to every device for MapBar.</summary>
        public PciEnumerator(IPciConfigAccess access, IPciBarMapper mapper)
        {
            _access = access;
            _mapper = mapper;
        }

        /// <summary>Functions found.</summary>
        public int Count => _count;

        /// <summary>Function <paramref name="index"/> in scan order (bus, device, function ascending per bus).</summary>
        public PciDevice Get(int index) => _devices[index];

        /// <summary>Buses scanned by the last <see cref="Enumerate"/>.</summary>
        public int BusesScanned { get; private set; }

        /// <summary>Scans the buses, replacing any previous result. Returns the number of functions found.</summary>
        public int Enumerate(PciScanMode mode)
        {
            _count = 0;
            BusesScanned = 0;
            for (int i = 0; i < _scanned.Length; i++)
            {
                _scanned[i] = false;
            }
            if (mode == PciScanMode.AllBuses)
            {
                for (int bus = 0; bus < PciConfig.BusCount; bus++)
                {
                    ScanBus(bus, false);
                }
                return _count;
            }

            // A multi-function host bridge at 00:00.0 means one host controller (root bus) per function.
            if (Exists(0, 0, 0) && (ReadHeaderType(0, 0, 0) & PciConfig.MultiFunctionBit) != 0)
            {
                for (int function = 0; function < PciConfig.FunctionsPerDevice; function++)
                {
                    if (Exists(0, 0, function))
                    {
                        ScanBus(function, true);
                    }
                }
            }
            else
            {
                ScanBus(0, true);
            }
            return _count;
        }

        /// <summary>The <paramref name="index"/>-th function (0 = first) with this vendor and device ID, or null.</summary>
        public PciDevice Find(ushort vendorId, ushort deviceId, int index)
        {
            for (int i = 0; i < _count; i++)
            {
                PciDevice device = _devices[i];
                if (device.VendorId == vendorId && device.DeviceId == deviceId && index-- == 0)
                {
                    return device;
                }
            }
            return null;
        }

        /// <summary>The <paramref name="index"/>-th function of this base class and subclass, or null.</summary>
        public PciDevice FindByClass(byte classCode, byte subclass, int index)
        {
            for (int i = 0; i < _count; i++)
            {
                PciDevice device = _devices[i];
                if (device.ClassCode == classCode && device.Subclass == subclass && index-- == 0)
                {
                    return device;
                }
            }
            return null;
        }

        /// <summary>The function at bus:device.function, or null.</summary>
        public PciDevice FindAt(int bus, int device, int function)
        {
            for (int i = 0; i < _count; i++)
            {
                PciDevice d = _devices[i];
                if (d.Bus == bus && d.Device == device && d.Function == function)
                {
                    return d;
                }
            }
            return null;
        }

        /// <summary>Prints the <c>pci</c> listing: one line per function, then its BARs, interrupt and capabilities.</summary>
        public void Print(ITextOutput output)
        {
            for (int i = 0; i < _count; i++)
            {
                PciPrinter.PrintDevice(_devices[i], output);
            }
        }

        /// <summary>Scans every device of <paramref name="bus"/>; follows bridges when <paramref name="followBridges"/>.</summary>
        private void ScanBus(int bus, bool followBridges)
        {
            if (bus < 0 || bus >= PciConfig.BusCount || _scanned[bus])
            {
                return;
            }
            _scanned[bus] = true;
            BusesScanned++;
            for (int device = 0; device < PciConfig.DevicesPerBus; device++)
            {
                if (!Exists(bus, device, 0))
                {
                    continue;
                }
                int functions = (ReadHeaderType(bus, device, 0) & PciConfig.MultiFunctionBit) != 0 ? PciConfig.FunctionsPerDevice : 1;
                for (int function = 0; function < functions; function++)
                {
                    if (function > 0 && !Exists(bus, device, function))
                    {
                        continue;
                    }
                    PciDevice found = new PciDevice(_access, bus, device, function);
                    found.BarMapper = _mapper;
                    found.SizeBars();
                    Add(found);
                    if (followBridges && found.IsBridge && found.SecondaryBus != 0)
                    {
                        ScanBus(found.SecondaryBus, true);
                    }
                }
            }
        }

        /// <summary>True when a function answers at bus:device.function (vendor neither 0xFFFF nor 0).</summary>
        private bool Exists(int bus, int device, int function)
        {
            ushort vendor = (ushort)_access.Read32(bus, device, function, PciConfig.VendorId);
            return vendor != PciConfig.NoVendor && vendor != 0;
        }

        /// <summary>Header type byte of a function.</summary>
        private byte ReadHeaderType(int bus, int device, int function)
        {
            return (byte)(_access.Read32(bus, device, function, PciConfig.HeaderType & ~3) >> 16);
        }

        /// <summary>Appends a device, growing the list (start-up only).</summary>
        private void Add(PciDevice device)
        {
            if (_count == _devices.Length)
            {
                PciDevice[] larger = new PciDevice[_devices.Length * 2];
                for (int i = 0; i < _count; i++)
                {
                    larger[i] = _devices[i];
                }
                _devices = larger;
            }
            _devices[_count++] = device;
        }
    }
}
