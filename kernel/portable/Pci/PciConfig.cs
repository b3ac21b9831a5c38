namespace Keel.Kernel.Pci
{
    /// <summary>Offsets and bits of the PCI configuration header (type 0 devices, type 1 PCI-to-PCI bridges).</summary>
    public static class PciConfig
    {
        /// <summary>Vendor ID (16 bits); 0xFFFF when no function answers.</summary>
        public const int VendorId = 0x00;

        /// <summary>Device ID (16 bits).</summary>
        public const int DeviceId = 0x02;

        /// <summary>Command register (16 bits).</summary>
        public const int Command = 0x04;

        /// <summary>Status register (16 bits; error bits are write-one-to-clear).</summary>
        public const int Status = 0x06;

        /// <summary>Revision ID (8 bits).</summary>
        public const int RevisionId = 0x08;

        /// <summary>Programming interface (8 bits).</summary>
        public const int ProgIf = 0x09;

        /// <summary>Subclass (8 bits).</summary>
        public const int Subclass = 0x0A;

        /// <summary>Base class (8 bits).</summary>
        public const int ClassCode = 0x0B;

        /// <summary>Header type (8 bits): layout in bits 0..6, multi-function in bit 7.</summary>
        public const int HeaderType = 0x0E;

        /// <summary>First base address register.</summary>
        public const int Bar0 = 0x10;

        /// <summary>Type 0: subsystem vendor ID (16 bits).</summary>
        public const int SubsystemVendorId = 0x2C;

        /// <summary>Type 0: subsystem ID (16 bits).</summary>
        public const int SubsystemId = 0x2E;

        /// <summary>Offset of the first capability (8 bits; low 2 bits reserved), valid when the status says so.</summary>
        public const int CapabilitiesPointer = 0x34;

        /// <summary>Interrupt line (8 bits): the legacy IRQ firmware routed INTx to (0xFF = none).</summary>
        public const int InterruptLine = 0x3C;

        /// <summary>Interrupt pin (8 bits): 0 = none, 1..4 = INTA#..INTD#.</summary>
        public const int InterruptPin = 0x3D;

        /// <summary>Type 1: primary bus number.</summary>
        public const int PrimaryBus = 0x18;

        /// <summary>Type 1: secondary bus number (the bus behind the bridge).</summary>
        public const int SecondaryBus = 0x19;

        /// <summary>Type 1: highest bus number behind the bridge.</summary>
        public const int SubordinateBus = 0x1A;

        /// <summary>Header type: ordinary device (6 BARs).</summary>
        public const int HeaderTypeDevice = 0;

        /// <summary>Header type: PCI-to-PCI bridge (2 BARs).</summary>
        public const int HeaderTypeBridge = 1;

        /// <summary>Header type: CardBus bridge (no BARs decoded here).</summary>
        public const int HeaderTypeCardBus = 2;

        /// <summary>Header type bits that give the layout.</summary>
        public const byte HeaderTypeMask = 0x7F;

        /// <summary>Header type bit: the device has functions 1..7.</summary>
        public const byte MultiFunctionBit = 0x80;

        /// <summary>Vendor ID read from an empty slot.</summary>
        public const ushort NoVendor = 0xFFFF;

        /// <summary>Command: respond to I/O space accesses.</summary>
        public const ushort CommandIoSpace = 0x0001;

        /// <summary>Command: respond to memory space accesses.</summary>
        public const ushort CommandMemorySpace = 0x0002;

        /// <summary>Command: the device may master the bus (DMA, MSI writes).</summary>
        public const ushort CommandBusMaster = 0x0004;

        /// <summary>Command: legacy INTx disabled.</summary>
        public const ushort CommandInterruptDisable = 0x0400;

        /// <summary>Status: the capability list at <see cref="CapabilitiesPointer"/> exists.</summary>
        public const ushort StatusCapabilitiesList = 0x0010;

        /// <summary>BAR bit 0: I/O space BAR.</summary>
        public const uint BarIoSpace = 0x1;

        /// <summary>Memory BAR bits 1..2: address type.</summary>
        public const uint BarTypeMask = 0x6;

        /// <summary>Memory BAR type: 64-bit (uses the next BAR for the high half).</summary>
        public const uint BarType64 = 0x4;

        /// <summary>Memory BAR bit 3: prefetchable.</summary>
        public const uint BarPrefetchable = 0x8;

        /// <summary>Address bits of an I/O BAR.</summary>
        public const uint BarIoAddressMask = 0xFFFFFFFC;

        /// <summary>Address bits of a memory BAR.</summary>
        public const uint BarMemoryAddressMask = 0xFFFFFFF0;

        /// <summary>Number of BARs of a type 0 header.</summary>
        public const int DeviceBarCount = 6;

        /// <summary>Number of BARs of a type 1 header.</summary>
        public const int BridgeBarCount = 2;

        /// <summary>Base class: bridge.</summary>
        public const byte ClassBridge = 0x06;

        /// <summary>Bridge subclass: host bridge.</summary>
        public const byte SubclassHostBridge = 0x00;

        /// <summary>Bridge subclass: PCI-to-PCI bridge.</summary>
        public const byte SubclassPciBridge = 0x04;

        /// <summary>Lowest offset a capability may have (after the standard header).</summary>
        public const int FirstCapabilityOffset = 0x40;

        /// <summary>Most capabilities walked before the list is declared looping (256 - 64) / 4.</summary>
        public const int MaxCapabilities = 48;

        /// <summary>Devices per bus.</summary>
        public const int DevicesPerBus = 32;

        /// <summary>Functions per device.</summary>
        public const int FunctionsPerDevice = 8;

        /// <summary>Buses per segment.</summary>
        public const int BusCount = 256;
    }
}
