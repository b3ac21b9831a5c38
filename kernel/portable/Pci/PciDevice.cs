using Keel.Hal;
using Keel.Kernel.Text;

namespace Keel.Kernel.Pci
{
    /// <summary>
    /// One PCI function found at enumeration: identity, class, header fields and BARs read once (BARs sized then),
    /// plus configuration-space access, capability walking, MSI-X location and command-register helpers.
    /// Implements the drivers' <see cref="IPciFunction"/>. Made once at start-up by <see cref="PciEnumerator"/>.
    /// <para>
    /// 8- and 16-bit writes are read-modify-write of the dword. In the dword at 0x04 the status half is written as
    /// zero unless the caller writes the status itself (its error bits are write-one-to-clear).
    /// </para>
    /// </summary>
    public sealed class PciDevice : IPciFunction
    {
        /// <summary>Config dword holding the command and status registers.</summary>
        private const int CommandStatusDword = 0x04;

        /// <summary>Configuration space access.</summary>
        private readonly IPciConfigAccess _access;

        /// <summary>Decoded BARs (zero entries for absent BARs and for the upper halves of 64-bit BARs).</summary>
        private readonly PciBar[] _bars = new PciBar[PciConfig.DeviceBarCount];

        /// <summary>Creates the function at bus:device.function and reads its header (BARs are sized by <see cref="SizeBars"/>).</summary>
        public PciDevice(IPciConfigAccess access, int bus, int device, int function)
        {
            _access = access;
            Bus = bus;
            Device = device;
            Function = function;
            uint id = access.Read32(bus, device, function, PciConfig.VendorId);
            VendorId = (ushort)id;
            DeviceId = (ushort)(id >> 16);
            uint classDword = access.Read32(bus, device, function, PciConfig.RevisionId);
            RevisionId = (byte)classDword;
            ProgIf = (byte)(classDword >> 8);
            Subclass = (byte)(classDword >> 16);
            ClassCode = (byte)(classDword >> 24);
            byte headerType = ConfigRead8(PciConfig.HeaderType);
            HeaderType = headerType & PciConfig.HeaderTypeMask;
            IsMultiFunction = (headerType & PciConfig.MultiFunctionBit) != 0;
            if (HeaderType == PciConfig.HeaderTypeDevice)
            {
                SubsystemVendorId = ConfigRead16(PciConfig.SubsystemVendorId);
                SubsystemId = ConfigRead16(PciConfig.SubsystemId);
            }
            else if (HeaderType == PciConfig.HeaderTypeBridge)
            {
                SecondaryBus = ConfigRead8(PciConfig.SecondaryBus);
                SubordinateBus = ConfigRead8(PciConfig.SubordinateBus);
            }
            InterruptLine = ConfigRead8(PciConfig.InterruptLine);
            InterruptPin = ConfigRead8(PciConfig.InterruptPin);
        }

        /// <summary>Bus number.</summary>
        public int Bus { get; }

        /// <summary>Device (slot) number, 0..31.</summary>
        public int Device { get; }

        /// <summary>Function number, 0..7.</summary>
        public int Function { get; }

        /// <inheritdoc />
        public ushort VendorId { get; }

        /// <inheritdoc />
        public ushort DeviceId { get; }

        /// <summary>Revision ID.</summary>
        public byte RevisionId { get; }

        /// <summary>Programming interface.</summary>
        public byte ProgIf { get; }

        /// <summary>Subclass.</summary>
        public byte Subclass { get; }

        /// <summary>Base class (0x02 network, 0x06 bridge, ...).</summary>
        public byte ClassCode { get; }

        /// <summary>Header layout: <see cref="PciConfig.HeaderTypeDevice"/>, <see cref="PciConfig.HeaderTypeBridge"/> or CardBus.</summary>
        public int HeaderType { get; }

        /// <summary>True when function 0 says the device has more functions (read on every function).</summary>
        public bool IsMultiFunction { get; }

        /// <summary>True for a PCI-to-PCI bridge (header type 1).</summary>
        public bool IsBridge => HeaderType == PciConfig.HeaderTypeBridge;

        /// <summary>Type 0: subsystem vendor ID.</summary>
        public ushort SubsystemVendorId { get; }

        /// <summary>Type 0: subsystem ID (virtio legacy: the device type).</summary>
        public ushort SubsystemId { get; }

        /// <summary>Bridges: the bus behind the bridge.</summary>
        public int SecondaryBus { get; }

        /// <summary>Bridges: the highest bus behind the bridge.</summary>
        public int SubordinateBus { get; }

        /// <summary>Legacy IRQ the firmware routed INTx to (0xFF or 0 = none).</summary>
        public byte InterruptLine { get; }

        /// <summary>INTx pin: 0 none, 1 INTA# .. 4 INTD#.</summary>
        public byte InterruptPin { get; }

        /// <summary>Number of BAR slots of this header type (6, 2 for bridges, 0 for CardBus).</summary>
        public int BarCount => HeaderType == PciConfig.HeaderTypeDevice ? PciConfig.DeviceBarCount
            : HeaderType == PciConfig.HeaderTypeBridge ? PciConfig.BridgeBarCount : 0;

        /// <summary>Kernel service used by <see cref="MapBar"/>; set by the enumerator.</summary>
        public IPciBarMapper BarMapper { get; set; }

        /// <summary>Times <see cref="MapBar"/> was asked for a BAR and refused (absent BAR, no mapper, mapping failed).</summary>
        public int MapFailures { get; private set; }

        /// <inheritdoc />
        public byte ConfigRead8(int offset)
        {
            return (byte)(_access.Read32(Bus, Device, Function, offset & ~3) >> ((offset & 3) * 8));
        }

        /// <inheritdoc />
        public ushort ConfigRead16(int offset)
        {
            return (ushort)(_access.Read32(Bus, Device, Function, offset & ~3) >> ((offset & 2) * 8));
        }

        /// <inheritdoc />
        public uint ConfigRead32(int offset)
        {
            return _access.Read32(Bus, Device, Function, offset & ~3);
        }

        /// <inheritdoc />
        public void ConfigWrite8(int offset, byte value)
        {
            int shift = (offset & 3) * 8;
            uint dword = ReadForMerge(offset & ~3);
            dword = (dword & ~(0xFFu << shift)) | ((uint)value << shift);
            _access.Write32(Bus, Device, Function, offset & ~3, dword);
        }

        /// <inheritdoc />
        public void ConfigWrite16(int offset, ushort value)
        {
            int shift = (offset & 2) * 8;
            uint dword = ReadForMerge(offset & ~3);
            dword = (dword & ~(0xFFFFu << shift)) | ((uint)value << shift);
            _access.Write32(Bus, Device, Function, offset & ~3, dword);
        }

        /// <inheritdoc />
        public void ConfigWrite32(int offset, uint value)
        {
            _access.Write32(Bus, Device, Function, offset & ~3, value);
        }

        /// <summary>Command register.</summary>
        public ushort CommandRegister => ConfigRead16(PciConfig.Command);

        /// <summary>Status register.</summary>
        public ushort StatusRegister => ConfigRead16(PciConfig.Status);

        /// <inheritdoc />
        public void EnableBusMastering()
        {
            SetCommandBits(PciConfig.CommandBusMaster, true);
        }

        /// <summary>Lets the device respond to memory-space accesses (memory BARs).</summary>
        public void EnableMemorySpace()
        {
            SetCommandBits(PciConfig.CommandMemorySpace, true);
        }

        /// <summary>Lets the device respond to I/O-space accesses (I/O BARs).</summary>
        public void EnableIoSpace()
        {
            SetCommandBits(PciConfig.CommandIoSpace, true);
        }

        /// <summary>Disables (true) or re-enables (false) legacy INTx (do it when using MSI-X).</summary>
        public void DisableLegacyInterrupt(bool disable)
        {
            SetCommandBits(PciConfig.CommandInterruptDisable, disable);
        }

        /// <summary>Sets or clears <paramref name="bits"/> in the command register (the status is left alone).</summary>
        public void SetCommandBits(ushort bits, bool set)
        {
            ushort command = CommandRegister;
            ushort updated = set ? (ushort)(command | bits) : (ushort)(command & ~bits);
            if (updated != command)
            {
                ConfigWrite16(PciConfig.Command, updated);
            }
        }

        /// <inheritdoc />
        public bool TryGetBar(int index, out PciBar bar)
        {
            if (index < 0 || index >= PciConfig.DeviceBarCount || _bars[index].Size == 0)
            {
                bar = default(PciBar);
                return false;
            }
            bar = _bars[index];
            return true;
        }

        /// <summary>BAR <paramref name="index"/> as decoded (all zero when absent).</summary>
        public PciBar Bar(int index) => _bars[index];

        /// <inheritdoc />
        public IRegisterRegion MapBar(int index)
        {
            PciBar bar;
            if (!TryGetBar(index, out bar) || BarMapper == null)
            {
                MapFailures++;
                return null;
            }
            IRegisterRegion region = BarMapper.Map(this, index, bar);
            if (region == null)
            {
                MapFailures++;
                return null;
            }
            SetCommandBits(bar.IsPortIo ? PciConfig.CommandIoSpace : PciConfig.CommandMemorySpace, true);
            return region;
        }

        /// <summary>
        /// Sizes every BAR by the all-ones method: with I/O and memory decode switched off in the command register,
        /// write all ones, read the mask back, restore the original value (both halves of a 64-bit BAR); then restore
        /// the command register. Called once by the enumerator.
        /// </summary>
        public void SizeBars()
        {
            int count = BarCount;
            if (count == 0)
            {
                return;
            }
            ushort command = CommandRegister;
            ushort decode = PciConfig.CommandIoSpace | PciConfig.CommandMemorySpace;
            if ((command & decode) != 0)
            {
                ConfigWrite16(PciConfig.Command, (ushort)(command & ~decode));
            }
            for (int i = 0; i < count; i++)
            {
                int offset = PciConfig.Bar0 + i * 4;
                uint original = ConfigRead32(offset);
                uint probe = Probe(offset, original);
                PciBar bar = default(PciBar);
                if ((original & PciConfig.BarIoSpace) != 0)
                {
                    uint mask = probe & PciConfig.BarIoAddressMask;
                    if (mask != 0)
                    {
                        if ((mask & 0xFFFF0000u) == 0)
                        {
                            mask |= 0xFFFF0000u; // 16-bit I/O decoder: upper bits read as zero
                        }
                        bar.IsPortIo = true;
                        bar.Address = original & PciConfig.BarIoAddressMask;
                        bar.Size = (ulong)(~mask + 1);
                    }
                }
                else if ((original & PciConfig.BarTypeMask) == PciConfig.BarType64)
                {
                    if (i + 1 < count)
                    {
                        uint originalHigh = ConfigRead32(offset + 4);
                        uint probeHigh = Probe(offset + 4, originalHigh);
                        ulong mask = ((ulong)probeHigh << 32) | (probe & PciConfig.BarMemoryAddressMask);
                        if (mask != 0)
                        {
                            bar.Is64Bit = true;
                            bar.Prefetchable = (original & PciConfig.BarPrefetchable) != 0;
                            bar.Address = ((ulong)originalHigh << 32) | (original & PciConfig.BarMemoryAddressMask);
                            bar.Size = ~mask + 1;
                        }
                    }
                    _bars[i] = bar;
                    i++; // the next slot is the high half
                    continue;
                }
                else
                {
                    uint mask = probe & PciConfig.BarMemoryAddressMask;
                    if (mask != 0)
                    {
                        bar.Prefetchable = (original & PciConfig.BarPrefetchable) != 0;
                        bar.Address = original & PciConfig.BarMemoryAddressMask;
                        bar.Size = (ulong)(~mask + 1);
                    }
                }
                _bars[i] = bar;
            }
            if ((command & decode) != 0)
            {
                ConfigWrite16(PciConfig.Command, command);
            }
        }

        /// <summary>Offset of the first capability, 0 when the function has no capability list.</summary>
        public int FirstCapability()
        {
            if ((StatusRegister & PciConfig.StatusCapabilitiesList) == 0 || HeaderType == PciConfig.HeaderTypeCardBus)
            {
                return 0;
            }
            return ValidCapability(ConfigRead8(PciConfig.CapabilitiesPointer));
        }

        /// <summary>Offset of the capability after the one at <paramref name="offset"/>, 0 at the end of the list.</summary>
        public int NextCapability(int offset)
        {
            return ValidCapability(ConfigRead8(offset + 1));
        }

        /// <summary>ID of the capability at <paramref name="offset"/>.</summary>
        public byte CapabilityId(int offset) => ConfigRead8(offset);

        /// <inheritdoc />
        public int FindCapability(byte capabilityId, int after)
        {
            bool passed = after == 0;
            int offset = FirstCapability();
            for (int n = 0; offset != 0 && n < PciConfig.MaxCapabilities; n++)
            {
                if (passed && CapabilityId(offset) == capabilityId)
                {
                    return offset;
                }
                if (offset == after)
                {
                    passed = true;
                }
                offset = NextCapability(offset);
            }
            return 0;
        }

        /// <summary>Offset of the first capability with id <paramref name="capabilityId"/>, 0 when none.</summary>
        public int FindCapability(byte capabilityId) => FindCapability(capabilityId, 0);

        /// <summary>Locates the MSI-X table and pending bit array; false when the function has no MSI-X capability.</summary>
        public bool TryGetMsix(out PciMsixInfo info)
        {
            info = default(PciMsixInfo);
            int cap = FindCapability(PciCapabilityId.Msix, 0);
            if (cap == 0)
            {
                return false;
            }
            ushort control = ConfigRead16(cap + PciMsix.MessageControl);
            uint table = ConfigRead32(cap + PciMsix.TableOffset);
            uint pba = ConfigRead32(cap + PciMsix.PbaOffset);
            info.CapabilityOffset = cap;
            info.TableSize = (control & PciMsix.TableSizeMask) + 1;
            info.TableBar = (int)(table & PciMsix.BarIndicatorMask);
            info.TableOffset = table & ~PciMsix.BarIndicatorMask;
            info.PbaBar = (int)(pba & PciMsix.BarIndicatorMask);
            info.PbaOffset = pba & ~PciMsix.BarIndicatorMask;
            PciBar bar;
            if (TryGetBar(info.TableBar, out bar) && !bar.IsPortIo)
            {
                info.TableAddress = bar.Address + info.TableOffset;
            }
            if (TryGetBar(info.PbaBar, out bar) && !bar.IsPortIo)
            {
                info.PbaAddress = bar.Address + info.PbaOffset;
            }
            return true;
        }

        /// <summary>Writes "bb:dd.f vvvv:dddd class cc.ss.pp" (no line end).</summary>
        public void WriteAddressAndId(ITextOutput output)
        {
            TextWriting.WriteHex(output, (ulong)Bus, 2);
            output.Write(':');
            TextWriting.WriteHex(output, (ulong)Device, 2);
            output.Write('.');
            TextWriting.WriteHex(output, (ulong)Function, 1);
            output.Write(' ');
            TextWriting.WriteHex(output, VendorId, 4);
            output.Write(':');
            TextWriting.WriteHex(output, DeviceId, 4);
            output.Write(" class ");
            TextWriting.WriteHex(output, ClassCode, 2);
            output.Write('.');
            TextWriting.WriteHex(output, Subclass, 2);
            output.Write('.');
            TextWriting.WriteHex(output, ProgIf, 2);
        }

        /// <summary>Writes all ones to a BAR, reads the mask back and restores <paramref name="original"/>.</summary>
        private uint Probe(int offset, uint original)
        {
            ConfigWrite32(offset, 0xFFFFFFFFu);
            uint probe = ConfigRead32(offset);
            ConfigWrite32(offset, original);
            return probe;
        }

        /// <summary>
        /// The dword at <paramref name="alignedOffset"/> prepared for a partial write. In the command/status dword the
        /// status half is zeroed, so that its write-one-to-clear bits are only cleared when the caller writes them.
        /// </summary>
        private uint ReadForMerge(int alignedOffset)
        {
            uint dword = _access.Read32(Bus, Device, Function, alignedOffset);
            if (alignedOffset == CommandStatusDword)
            {
                dword &= 0x0000FFFFu;
            }
            return dword;
        }

        /// <summary>A capability pointer with its reserved bits cleared, or 0 when it points into the standard header.</summary>
        private static int ValidCapability(byte pointer)
        {
            int offset = pointer & 0xFC;
            return offset < PciConfig.FirstCapabilityOffset ? 0 : offset;
        }
    }
}
