using System;
using System.Collections.Generic;
using Keel.Kernel.Pci;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// A simulated PCI configuration space: functions with 256-byte config spaces, BARs that answer the all-ones
    /// probe with their size mask, a write-one-to-clear status register and read-only ID/class fields. Records
    /// BAR writes made while I/O or memory decode was enabled (a sizing bug).
    /// </summary>
    public sealed class FakePciConfigSpace : IPciConfigAccess
    {
        /// <summary>One simulated function.</summary>
        public sealed class Function
        {
            public readonly byte[] Config = new byte[256];

            /// <summary>Writable address bits of each BAR dword (0 = BAR not implemented).</summary>
            public readonly uint[] BarMask = new uint[6];

            /// <summary>Next free capability offset.</summary>
            public int NextCap = 0x40;

            /// <summary>Offset of the last capability added (its next pointer is patched by the next add).</summary>
            public int LastCap;

            public uint Read32(int offset) => BitConverter.ToUInt32(Config, offset);

            public void Set32(int offset, uint value) => BitConverter.GetBytes(value).CopyTo(Config, offset);

            public void Set16(int offset, ushort value) => BitConverter.GetBytes(value).CopyTo(Config, offset);

            public ushort Command => BitConverter.ToUInt16(Config, 4);

            public ushort Status => BitConverter.ToUInt16(Config, 6);

            /// <summary>Adds a capability with <paramref name="body"/> after its id/next bytes; returns its offset.</summary>
            public int AddCapability(byte id, params byte[] body)
            {
                int offset = NextCap;
                Config[offset] = id;
                Config[offset + 1] = 0;
                body.CopyTo(Config, offset + 2);
                if (LastCap == 0)
                {
                    Config[0x34] = (byte)offset;
                    Set16(6, (ushort)(Status | 0x10));
                }
                else
                {
                    Config[LastCap + 1] = (byte)offset;
                }
                LastCap = offset;
                NextCap = (offset + 2 + body.Length + 3) & ~3;
                return offset;
            }

            /// <summary>Makes BAR <paramref name="index"/> a 32-bit memory BAR.</summary>
            public void MemoryBar32(int index, uint address, uint size, bool prefetchable = false)
            {
                BarMask[index] = ~(size - 1);
                Set32(0x10 + 4 * index, address | (prefetchable ? 8u : 0u));
            }

            /// <summary>Makes BARs <paramref name="index"/>, +1 a 64-bit memory BAR.</summary>
            public void MemoryBar64(int index, ulong address, ulong size, bool prefetchable)
            {
                ulong mask = ~(size - 1);
                BarMask[index] = (uint)mask & 0xFFFFFFF0u;
                BarMask[index + 1] = (uint)(mask >> 32);
                Set32(0x10 + 4 * index, (uint)address | 4u | (prefetchable ? 8u : 0u));
                Set32(0x14 + 4 * index, (uint)(address >> 32));
            }

            /// <summary>Makes BAR <paramref name="index"/> an I/O BAR with a 16-bit decoder.</summary>
            public void IoBar(int index, ushort port, uint size)
            {
                BarMask[index] = ~(size - 1) & 0xFFFCu;
                Set32(0x10 + 4 * index, (uint)port | 1u);
            }
        }

        private readonly Dictionary<(int, int, int), Function> _functions = new Dictionary<(int, int, int), Function>();

        /// <summary>BAR writes seen while decode was enabled in the command register.</summary>
        public int BarWritesWithDecodeOn;

        /// <summary>Reads of functions that do not exist.</summary>
        public int EmptyReads;

        /// <summary>Every config read.</summary>
        public int Reads;

        /// <summary>Adds a function with its identity and header type.</summary>
        public Function Add(int bus, int device, int function, ushort vendor, ushort deviceId, byte classCode, byte subclass, byte progIf, byte headerType)
        {
            var f = new Function();
            f.Set16(0, vendor);
            f.Set16(2, deviceId);
            f.Config[8] = 1;
            f.Config[9] = progIf;
            f.Config[10] = subclass;
            f.Config[11] = classCode;
            f.Config[0x0E] = headerType;
            _functions[(bus, device, function)] = f;
            return f;
        }

        public Function Get(int bus, int device, int function) => _functions[(bus, device, function)];

        /// <summary>Puts an existing function (e.g. the simulated virtio-net PCI function's) at bus/device/function.</summary>
        public void Attach(int bus, int device, int function, Function f)
        {
            _functions[(bus, device, function)] = f;
        }

        public uint Read32(int bus, int device, int function, int offset)
        {
            Assert(offset);
            Reads++;
            if (!_functions.TryGetValue((bus, device, function), out Function f))
            {
                EmptyReads++;
                return 0xFFFFFFFF;
            }
            return f.Read32(offset);
        }

        public void Write32(int bus, int device, int function, int offset, uint value)
        {
            Assert(offset);
            if (!_functions.TryGetValue((bus, device, function), out Function f))
            {
                return;
            }
            int header = f.Config[0x0E] & 0x7F;
            int bars = header == 0 ? 6 : header == 1 ? 2 : 0;
            if (offset >= 0x10 && offset < 0x10 + 4 * bars)
            {
                int index = (offset - 0x10) / 4;
                if ((f.Command & 3) != 0)
                {
                    BarWritesWithDecodeOn++;
                }
                uint old = f.Read32(offset);
                bool upperHalf = IsUpper(f, index);
                uint flags = upperHalf ? 0 : (old & 1) != 0 ? old & 0x3 : old & 0xF;
                f.Set32(offset, (value & f.BarMask[index]) | flags);
                return;
            }
            switch (offset)
            {
                case 0x00: // IDs: read-only
                case 0x08: // class: read-only
                    return;
                case 0x04:
                    ushort status = (ushort)(f.Status & ~(value >> 16));
                    f.Set16(4, (ushort)value);
                    f.Set16(6, status);
                    return;
                case 0x0C:
                    // Header type byte (0x0E) is read-only; others are writable.
                    byte headerType = f.Config[0x0E];
                    f.Set32(offset, value);
                    f.Config[0x0E] = headerType;
                    return;
            }
            f.Set32(offset, value);
        }

        /// <summary>True when BAR slot <paramref name="index"/> is the high half of the 64-bit BAR before it.</summary>
        private static bool IsUpper(Function f, int index)
        {
            int i = 0;
            while (i < index)
            {
                bool is64 = (f.Read32(0x10 + 4 * i) & 7) == 4;
                if (is64 && i + 1 == index)
                {
                    return true;
                }
                i += is64 ? 2 : 1;
            }
            return false;
        }

        private static void Assert(int offset)
        {
            if ((offset & 3) != 0 || offset < 0 || offset > 252)
            {
                throw new ArgumentOutOfRangeException(nameof(offset), "unaligned config access");
            }
        }
    }
}
