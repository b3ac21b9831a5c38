using Keel.Kernel.Platform;

namespace Keel.Kernel.Acpi
{
    /// <summary>
    /// Finds virtio-mmio devices in a DSDT's AML without an interpreter (ACPI 6.5 §20 encoding, §6.4 resource
    /// descriptors): every <c>Device()</c> (ExtOpPrefix 0x5B, DeviceOp 0x82, PkgLength, NameString, TermList)
    /// whose <c>Name(_HID, "LNRO0005")</c> (or <c>_CID</c>) names a virtio-mmio transport, with the register window
    /// and interrupt its <c>Name(_CRS, ResourceTemplate(){…})</c> buffer lists: Memory32Fixed, Memory32 or a
    /// DWord/QWord memory address space; an Extended Interrupt or an IRQ descriptor (trigger mode and polarity
    /// from its flags). A <c>Name(_STA, n)</c> without the present bit hides the device; a <c>Name(_UID, n)</c>
    /// becomes the id. Only names declared with a constant are understood (QEMU microvm and Firecracker write
    /// them so); a device whose <c>_CRS</c> is a method is not found. Every length is checked against its
    /// enclosing package and the table.
    /// </summary>
    public static class AmlMmioDevices
    {
        /// <summary>The ACPI hardware id Linux's virtio_mmio driver matches.</summary>
        public const string VirtioMmioHid = "LNRO0005";

        private const byte ExtOpPrefix = 0x5B;
        private const byte DeviceOp = 0x82;
        private const byte NameOp = 0x08;
        private const byte StringPrefix = 0x0D;
        private const byte BufferOp = 0x11;
        private const byte RootChar = 0x5C;
        private const byte ParentPrefix = 0x5E;
        private const byte DualNamePrefix = 0x2E;
        private const byte MultiNamePrefix = 0x2F;

        // Resource descriptor types (§6.4.2 small, §6.4.3 large).
        private const int SmallIrq = 0x04;
        private const int SmallEnd = 0x0F;
        private const int LargeMemory32 = 0x05;
        private const int LargeMemory32Fixed = 0x06;
        private const int LargeDWordAddress = 0x07;
        private const int LargeExtendedInterrupt = 0x09;
        private const int LargeQWordAddress = 0x0A;

        /// <summary>
        /// Searches the AML in [<paramref name="start"/>, +<paramref name="length"/>) (a DSDT after its header)
        /// and fills <paramref name="devices"/> in table order, one entry per register window. Returns how many.
        /// </summary>
        public static int Find(IPhysicalMemoryReader memory, ulong start, uint length, MmioDevice[] devices)
        {
            if (!memory.CanRead(start, length))
            {
                return 0;
            }
            ulong end = start + length;
            int count = 0;
            for (ulong at = start; at + 2 < end && count < devices.Length; at++)
            {
                if (memory.Read8(at) != ExtOpPrefix || memory.Read8(at + 1) != DeviceOp)
                {
                    continue;
                }
                ulong deviceEnd;
                ulong terms;
                if (!AmlEncoding.TryReadPackage(memory, at + 2, end, out deviceEnd, out terms) || !TrySkipNameString(memory, ref terms, deviceEnd))
                {
                    continue;
                }
                MmioDevice device;
                if (TryReadDevice(memory, terms, deviceEnd, out device) && !Contains(devices, count, device.Base))
                {
                    devices[count++] = device;
                }
            }
            return count;
        }

        private static bool Contains(MmioDevice[] devices, int count, ulong address)
        {
            for (int i = 0; i < count; i++)
            {
                if (devices[i].Base == address)
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>Reads the named objects directly inside one device's TermList (nested devices are skipped).</summary>
        private static bool TryReadDevice(IPhysicalMemoryReader memory, ulong at, ulong end, out MmioDevice device)
        {
            device = default;
            device.Id = -1;
            device.Source = MmioDeviceSource.Acpi;
            bool virtio = false;
            bool hasMemory = false;
            bool hasInterrupt = false;
            bool present = true;
            while (at + 5 < end)
            {
                byte op = memory.Read8(at);
                if (op == ExtOpPrefix && memory.Read8(at + 1) == DeviceOp)
                {
                    ulong nestedEnd;
                    ulong ignored;
                    at = AmlEncoding.TryReadPackage(memory, at + 2, end, out nestedEnd, out ignored) ? nestedEnd : at + 1;
                    continue;
                }
                if (op != NameOp)
                {
                    at++;
                    continue;
                }
                ulong value = at + 5;
                ulong next;
                if (IsSegment(memory, at + 1, "_HID") || IsSegment(memory, at + 1, "_CID"))
                {
                    if (TryMatchString(memory, value, end, VirtioMmioHid, out next))
                    {
                        virtio = true;
                        at = next;
                        continue;
                    }
                }
                else if (IsSegment(memory, at + 1, "_CRS"))
                {
                    if (TryReadResources(memory, value, end, ref device, ref hasMemory, ref hasInterrupt, out next))
                    {
                        at = next;
                        continue;
                    }
                }
                else if (IsSegment(memory, at + 1, "_UID") || IsSegment(memory, at + 1, "_STA"))
                {
                    ulong integer;
                    if (AmlEncoding.TryReadInteger(memory, ref value, end, out integer))
                    {
                        if (memory.Read8(at + 2) == (byte)'U')
                        {
                            device.Id = integer > long.MaxValue ? -1 : (long)integer;
                        }
                        else
                        {
                            present = (integer & 1) != 0;
                        }
                        at = value;
                        continue;
                    }
                }
                at++;
            }
            return virtio && present && hasMemory && hasInterrupt;
        }

        /// <summary>Reads a resource template buffer: the first memory window and the first interrupt.</summary>
        private static bool TryReadResources(IPhysicalMemoryReader memory, ulong at, ulong end, ref MmioDevice device,
            ref bool hasMemory, ref bool hasInterrupt, out ulong next)
        {
            next = at;
            if (at >= end || memory.Read8(at) != BufferOp)
            {
                return false;
            }
            ulong bufferEnd;
            ulong bytes;
            if (!AmlEncoding.TryReadPackage(memory, at + 1, end, out bufferEnd, out bytes))
            {
                return false;
            }
            ulong declared;
            if (!AmlEncoding.TryReadInteger(memory, ref bytes, bufferEnd, out declared))
            {
                return false;
            }
            next = bufferEnd;
            ulong limit = declared < bufferEnd - bytes ? bytes + declared : bufferEnd;
            ulong p = bytes;
            while (p < limit)
            {
                byte tag = memory.Read8(p);
                if ((tag & 0x80) == 0)
                {
                    int type = (tag >> 3) & 0x0F;
                    int length = tag & 0x07;
                    if (p + 1 + (ulong)length > limit || type == SmallEnd)
                    {
                        break;
                    }
                    if (type == SmallIrq && length >= 2 && !hasInterrupt)
                    {
                        ReadSmallIrq(memory, p + 1, length, ref device, ref hasInterrupt);
                    }
                    p += 1 + (ulong)length;
                    continue;
                }
                if (p + 3 > limit)
                {
                    break;
                }
                int largeType = tag & 0x7F;
                ulong size = Read16(memory, p + 1);
                ulong data = p + 3;
                if (data + size > limit)
                {
                    break;
                }
                if (!hasMemory)
                {
                    hasMemory = TryReadMemory(memory, largeType, data, size, ref device);
                }
                if (largeType == LargeExtendedInterrupt && size >= 6 && !hasInterrupt && memory.Read8(data + 1) >= 1)
                {
                    byte flags = memory.Read8(data);
                    uint gsi = Read32(memory, data + 2);
                    if (gsi <= int.MaxValue)
                    {
                        device.Irq = (int)gsi;
                        device.HasTriggerMode = true;
                        device.LevelTriggered = (flags & 0x02) == 0;
                        device.ActiveLow = (flags & 0x04) != 0;
                        hasInterrupt = true;
                    }
                }
                p = data + size;
            }
            return true;
        }

        /// <summary>IRQ descriptor: a 16-bit mask (the lowest set bit is used) and optional flags (edge/level, polarity).</summary>
        private static void ReadSmallIrq(IPhysicalMemoryReader memory, ulong data, int length, ref MmioDevice device, ref bool hasInterrupt)
        {
            ulong mask = Read16(memory, data);
            if (mask == 0)
            {
                return;
            }
            int irq = 0;
            while ((mask & (1UL << irq)) == 0)
            {
                irq++;
            }
            byte flags = length >= 3 ? memory.Read8(data + 2) : (byte)0x01;
            device.Irq = irq;
            device.HasTriggerMode = true;
            device.LevelTriggered = (flags & 0x01) == 0;
            device.ActiveLow = (flags & 0x08) != 0;
            hasInterrupt = true;
        }

        /// <summary>Base and length of a memory descriptor of <paramref name="type"/>; false for other descriptors.</summary>
        private static bool TryReadMemory(IPhysicalMemoryReader memory, int type, ulong data, ulong size, ref MmioDevice device)
        {
            ulong address;
            ulong length;
            switch (type)
            {
                case LargeMemory32Fixed:
                    if (size < 9)
                    {
                        return false;
                    }
                    address = Read32(memory, data + 1);
                    length = Read32(memory, data + 5);
                    break;
                case LargeMemory32:
                    // Information, minimum, maximum, alignment, length: a fixed window when minimum == maximum.
                    if (size < 17 || Read32(memory, data + 1) != Read32(memory, data + 5))
                    {
                        return false;
                    }
                    address = Read32(memory, data + 1);
                    length = Read32(memory, data + 13);
                    break;
                case LargeDWordAddress:
                    // Resource type 0 = memory; granularity, minimum, maximum, translation, length.
                    if (size < 23 || memory.Read8(data) != 0)
                    {
                        return false;
                    }
                    address = Read32(memory, data + 7);
                    length = Read32(memory, data + 19);
                    break;
                case LargeQWordAddress:
                    if (size < 43 || memory.Read8(data) != 0)
                    {
                        return false;
                    }
                    address = Read64(memory, data + 11);
                    length = Read64(memory, data + 35);
                    break;
                default:
                    return false;
            }
            if (length == 0 || address + length < address)
            {
                return false;
            }
            device.Base = address;
            device.Size = length;
            return true;
        }

        /// <summary>Steps over a NameString (§20.2.2): root or parent prefixes, then a NameSeg, dual, multi or null name.</summary>
        private static bool TrySkipNameString(IPhysicalMemoryReader memory, ref ulong at, ulong end)
        {
            if (at < end && memory.Read8(at) == RootChar)
            {
                at++;
            }
            while (at < end && memory.Read8(at) == ParentPrefix)
            {
                at++;
            }
            if (at >= end)
            {
                return false;
            }
            byte first = memory.Read8(at);
            int segments;
            if (first == 0)
            {
                at++;
                return true;
            }
            if (first == DualNamePrefix)
            {
                segments = 2;
                at++;
            }
            else if (first == MultiNamePrefix)
            {
                if (at + 1 >= end)
                {
                    return false;
                }
                segments = memory.Read8(at + 1);
                at += 2;
            }
            else
            {
                segments = 1;
            }
            for (int i = 0; i < segments; i++)
            {
                if (at + 4 > end || !IsLeadNameChar(memory.Read8(at)))
                {
                    return false;
                }
                at += 4;
            }
            return true;
        }

        private static bool IsLeadNameChar(byte c) => (c >= 'A' && c <= 'Z') || c == '_';

        /// <summary>True when the four bytes at <paramref name="at"/> are the NameSeg <paramref name="name"/>.</summary>
        private static bool IsSegment(IPhysicalMemoryReader memory, ulong at, string name)
        {
            for (int i = 0; i < 4; i++)
            {
                if (memory.Read8(at + (ulong)i) != (byte)name[i])
                {
                    return false;
                }
            }
            return true;
        }

        /// <summary>True when a String object (0x0D, ASCII, NUL) equal to <paramref name="text"/> is at <paramref name="at"/>.</summary>
        private static bool TryMatchString(IPhysicalMemoryReader memory, ulong at, ulong end, string text, out ulong next)
        {
            next = at;
            ulong last = at + 1 + (ulong)text.Length;
            if (last >= end || memory.Read8(at) != StringPrefix || memory.Read8(last) != 0)
            {
                return false;
            }
            for (int i = 0; i < text.Length; i++)
            {
                if (memory.Read8(at + 1 + (ulong)i) != (byte)text[i])
                {
                    return false;
                }
            }
            next = last + 1;
            return true;
        }

        private static ulong Read16(IPhysicalMemoryReader memory, ulong at)
        {
            return (ulong)(memory.Read8(at) | (memory.Read8(at + 1) << 8));
        }

        private static uint Read32(IPhysicalMemoryReader memory, ulong at)
        {
            return (uint)(memory.Read8(at) | (memory.Read8(at + 1) << 8) | (memory.Read8(at + 2) << 16) | (memory.Read8(at + 3) << 24));
        }

        private static ulong Read64(IPhysicalMemoryReader memory, ulong at)
        {
            return Read32(memory, at) | ((ulong)Read32(memory, at + 4) << 32);
        }
    }
}
