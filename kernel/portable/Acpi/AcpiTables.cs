namespace Keel.Kernel.Acpi
{
    /// <summary>Why ACPI parsing stopped (or <see cref="Ok"/>).</summary>
    public enum AcpiStatus
    {
        Ok,
        NoRsdp,
        BadRsdp,
        BadRootTable,
        NoFadt,
        BadFadt,
        BadDsdt,
        NoS5,
    }

    /// <summary>
    /// Finds and checks the ACPI tables Keel uses (ACPI 6.5 chapter 5): RSDP → XSDT (or RSDT) → FADT ("FACP")
    /// → DSDT (the <c>\_S5</c> package) for power-off, and the MADT ("APIC") for the interrupt controllers.
    /// Every table's signature, length and checksum is checked; a bad table is skipped, never trusted.
    /// </summary>
    public sealed class AcpiTables
    {
        /// <summary>Size of a system description table header.</summary>
        public const int HeaderLength = 36;

        /// <summary>Largest table accepted (a DSDT is a few KiB to a few hundred KiB).</summary>
        public const uint MaxTableLength = 4 * 1024 * 1024;

        private const int MaxRootEntries = 256;

        private readonly IPhysicalMemoryReader _memory;

        /// <summary>Power-off information (FADT, \_S5).</summary>
        public readonly AcpiPowerInfo Power = new AcpiPowerInfo();

        /// <summary>PM timer (FADT) and HPET (HPET table).</summary>
        public readonly AcpiTimerInfo Timers = new AcpiTimerInfo();

        /// <summary>Interrupt controllers (MADT).</summary>
        public readonly MadtInfo Madt = new MadtInfo();

        /// <summary>True when a valid MADT was found.</summary>
        public bool HasMadt;

        /// <summary>RSDP revision (0 = ACPI 1.0 with an RSDT, 2 = with an XSDT).</summary>
        public int Revision;

        /// <summary>Physical address of the root table used (XSDT or RSDT).</summary>
        public ulong RootAddress;

        /// <summary>Tables listed by the root table (including ones skipped for a bad checksum).</summary>
        public int TableCount;

        /// <summary>Tables skipped: bad signature, length or checksum.</summary>
        public int BadTables;

        /// <summary>Length of the DSDT at <see cref="AcpiPowerInfo.DsdtAddress"/>; 0 when there is no valid one.</summary>
        public uint DsdtLength;

        public AcpiTables(IPhysicalMemoryReader memory)
        {
            _memory = memory;
        }

        /// <summary>
        /// The virtio-mmio devices the DSDT describes (<see cref="AmlMmioDevices"/>), in table order, into
        /// <paramref name="devices"/>; returns how many (0 without a valid DSDT).
        /// </summary>
        public int FindMmioDevices(Keel.Kernel.Platform.MmioDevice[] devices)
        {
            if (DsdtLength <= HeaderLength)
            {
                return 0;
            }
            return AmlMmioDevices.Find(_memory, Power.DsdtAddress + HeaderLength, DsdtLength - HeaderLength, devices);
        }

        /// <summary>Looks for "RSD PTR " on 16-byte boundaries in [start, end) (the BIOS area 0xE0000-0xFFFFF); 0 if none.</summary>
        public ulong FindRsdp(ulong start, ulong end)
        {
            for (ulong address = (start + 15) & ~15UL; address + 20 <= end; address += 16)
            {
                if (IsSignature(address, "RSD PTR ") && Checksum(address, 20) == 0)
                {
                    return address;
                }
            }
            return 0;
        }

        /// <summary>Parses everything reachable from the RSDP at <paramref name="rsdpAddress"/>.</summary>
        public AcpiStatus Parse(ulong rsdpAddress)
        {
            if (rsdpAddress == 0)
            {
                return AcpiStatus.NoRsdp;
            }
            if (!_memory.CanRead(rsdpAddress, 20) || !IsSignature(rsdpAddress, "RSD PTR ") || Checksum(rsdpAddress, 20) != 0)
            {
                return AcpiStatus.BadRsdp;
            }
            Revision = _memory.Read8(rsdpAddress + 15);
            bool extended = false;
            if (Revision >= 2 && _memory.CanRead(rsdpAddress, 36))
            {
                uint length = Read32(rsdpAddress + 20);
                ulong xsdt = Read64(rsdpAddress + 24);
                if (length >= 36 && _memory.CanRead(rsdpAddress, length) && Checksum(rsdpAddress, length) == 0 && xsdt != 0)
                {
                    RootAddress = xsdt;
                    extended = true;
                }
            }
            if (!extended)
            {
                RootAddress = Read32(rsdpAddress + 16);
            }
            uint rootLength;
            if (!CheckTable(RootAddress, extended ? "XSDT" : "RSDT", out rootLength))
            {
                return AcpiStatus.BadRootTable;
            }
            int entrySize = extended ? 8 : 4;
            int entries = (int)((rootLength - HeaderLength) / (uint)entrySize);
            if (entries > MaxRootEntries)
            {
                entries = MaxRootEntries;
            }
            ulong fadt = 0;
            for (int i = 0; i < entries; i++)
            {
                ulong entry = RootAddress + HeaderLength + (ulong)(i * entrySize);
                ulong table = extended ? Read64(entry) : Read32(entry);
                TableCount++;
                uint length;
                if (!_memory.CanRead(table, HeaderLength))
                {
                    BadTables++;
                }
                else if (IsSignature(table, "FACP"))
                {
                    if (CheckTable(table, "FACP", out length))
                    {
                        fadt = table;
                    }
                }
                else if (IsSignature(table, "HPET"))
                {
                    // The event timer block's base address: a generic address structure at 40, in memory space.
                    if (CheckTable(table, "HPET", out length) && length >= 56 && _memory.Read8(table + 40) == 0)
                    {
                        Timers.HpetAddress = Read64(table + 44);
                    }
                }
                else if (IsSignature(table, "APIC"))
                {
                    if (CheckTable(table, "APIC", out length))
                    {
                        HasMadt = ParseMadt(table, length);
                    }
                }
            }
            if (fadt == 0)
            {
                return AcpiStatus.NoFadt;
            }
            return ParseFadt(fadt);
        }

        private AcpiStatus ParseFadt(ulong fadt)
        {
            uint length = Read32(fadt + 4);
            if (length < 116)
            {
                return AcpiStatus.BadFadt;
            }
            AcpiPowerInfo power = Power;
            power.SmiCommandPort = Read32(fadt + 48);
            power.AcpiEnableValue = _memory.Read8(fadt + 52);
            power.Pm1aControlPort = Read32(fadt + 64);
            power.Pm1bControlPort = Read32(fadt + 68);
            uint flags = Read32(fadt + 112);
            power.HardwareReduced = (flags & (1u << 20)) != 0;
            Timers.PmTimerPort = ExtendedPort(fadt, length, 208, Read32(fadt + 76));
            Timers.PmTimer32Bit = (flags & (1u << 8)) != 0;
            if (length >= 256 && _memory.Read8(fadt + 244) == 0)
            {
                // SLEEP_CONTROL_REG (hardware-reduced ACPI), a generic address structure in memory space.
                power.SleepControlAddress = Read64(fadt + 248);
            }
            ulong dsdt = Read32(fadt + 40);
            if (length >= 148)
            {
                ulong extendedDsdt = Read64(fadt + 140);
                if (extendedDsdt != 0)
                {
                    dsdt = extendedDsdt;
                }
            }
            // The 64-bit generic address structures win when present and in system I/O space (space id 1).
            power.Pm1aControlPort = ExtendedPort(fadt, length, 172, power.Pm1aControlPort);
            power.Pm1bControlPort = ExtendedPort(fadt, length, 184, power.Pm1bControlPort);
            power.DsdtAddress = dsdt;
            uint dsdtLength;
            if (!CheckTable(dsdt, "DSDT", out dsdtLength))
            {
                return AcpiStatus.BadDsdt;
            }
            DsdtLength = dsdtLength;
            if (!AmlSleepPackage.TryFind(_memory, dsdt + HeaderLength, dsdtLength - HeaderLength, out power.SleepTypeA, out power.SleepTypeB))
            {
                return AcpiStatus.NoS5;
            }
            power.HasS5 = true;
            return AcpiStatus.Ok;
        }

        private uint ExtendedPort(ulong fadt, uint length, uint offset, uint legacy)
        {
            if (length < offset + 12 || _memory.Read8(fadt + offset) != 1)
            {
                return legacy;
            }
            ulong address = Read64(fadt + offset + 4);
            if (address == 0 || address > 0xFFFF)
            {
                return legacy;
            }
            return (uint)address;
        }

        private bool ParseMadt(ulong madt, uint length)
        {
            if (length < 44)
            {
                return false;
            }
            MadtInfo info = Madt;
            info.LocalApicAddress = Read32(madt + 36);
            ulong offset = 44;
            while (offset + 2 <= length)
            {
                ulong entry = madt + offset;
                byte type = _memory.Read8(entry);
                byte entryLength = _memory.Read8(entry + 1);
                if (entryLength < 2 || offset + entryLength > length)
                {
                    BadTables++;
                    break;
                }
                switch (type)
                {
                    case 0:
                        if (entryLength >= 8)
                        {
                            info.ProcessorCount++;
                        }
                        break;
                    case 1:
                        if (entryLength >= 12)
                        {
                            if (info.IoApicCount == 0)
                            {
                                info.IoApicAddress = Read32(entry + 4);
                                info.IoApicGsiBase = Read32(entry + 8);
                            }
                            if (info.IoApicCount < MadtInfo.MaxIoApics)
                            {
                                info.IoApicAddresses[info.IoApicCount] = Read32(entry + 4);
                                info.IoApicGsiBases[info.IoApicCount] = Read32(entry + 8);
                            }
                            info.IoApicCount++;
                        }
                        break;
                    case 2:
                        if (entryLength >= 10 && _memory.Read8(entry + 2) == 0 && info.OverrideCount < MadtInfo.MaxOverrides)
                        {
                            InterruptOverride item;
                            item.Source = _memory.Read8(entry + 3);
                            item.Gsi = Read32(entry + 4);
                            item.Flags = (ushort)(_memory.Read8(entry + 8) | (_memory.Read8(entry + 9) << 8));
                            info.Overrides[info.OverrideCount++] = item;
                        }
                        break;
                    case 5:
                        if (entryLength >= 12)
                        {
                            info.LocalApicAddress = Read64(entry + 4);
                        }
                        break;
                }
                offset += entryLength;
            }
            return true;
        }

        /// <summary>True when <paramref name="address"/> holds a readable table with this signature, a sane length and a zero checksum.</summary>
        private bool CheckTable(ulong address, string signature, out uint length)
        {
            length = 0;
            if (address == 0 || !_memory.CanRead(address, HeaderLength) || !IsSignature(address, signature))
            {
                return false;
            }
            length = Read32(address + 4);
            if (length < HeaderLength || length > MaxTableLength || !_memory.CanRead(address, length) || Checksum(address, length) != 0)
            {
                BadTables++;
                length = 0;
                return false;
            }
            return true;
        }

        private bool IsSignature(ulong address, string signature)
        {
            for (int i = 0; i < signature.Length; i++)
            {
                if (_memory.Read8(address + (ulong)i) != (byte)signature[i])
                {
                    return false;
                }
            }
            return true;
        }

        private byte Checksum(ulong address, uint length)
        {
            byte sum = 0;
            for (uint i = 0; i < length; i++)
            {
                sum = (byte)(sum + _memory.Read8(address + i));
            }
            return sum;
        }

        private uint Read32(ulong address)
        {
            return (uint)(_memory.Read8(address) | (_memory.Read8(address + 1) << 8) | (_memory.Read8(address + 2) << 16) | (_memory.Read8(address + 3) << 24));
        }

        private ulong Read64(ulong address)
        {
            return Read32(address) | ((ulong)Read32(address + 4) << 32);
        }
    }
}
