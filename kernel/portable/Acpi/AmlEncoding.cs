namespace Keel.Kernel.Acpi
{
    /// <summary>
    /// The pieces of the AML encoding (ACPI 6.5 §20.2) the table scanners share: integer constants and
    /// PkgLength. Every read is bounded by an end address the caller has checked with
    /// <see cref="IPhysicalMemoryReader.CanRead"/>.
    /// </summary>
    internal static class AmlEncoding
    {
        private const byte ZeroOp = 0x00;
        private const byte OneOp = 0x01;
        private const byte OnesOp = 0xFF;
        private const byte BytePrefix = 0x0A;
        private const byte WordPrefix = 0x0B;
        private const byte DWordPrefix = 0x0C;
        private const byte QWordPrefix = 0x0E;

        /// <summary>An integer constant (ZeroOp, OneOp, OnesOp, Byte/Word/DWord/QWord prefix) at <paramref name="at"/>; advances past it.</summary>
        public static bool TryReadInteger(IPhysicalMemoryReader memory, ref ulong at, ulong end, out ulong value)
        {
            value = 0;
            if (at >= end)
            {
                return false;
            }
            int size;
            switch (memory.Read8(at))
            {
                case ZeroOp:
                    at++;
                    return true;
                case OneOp:
                    value = 1;
                    at++;
                    return true;
                case OnesOp:
                    value = ulong.MaxValue;
                    at++;
                    return true;
                case BytePrefix:
                    size = 1;
                    break;
                case WordPrefix:
                    size = 2;
                    break;
                case DWordPrefix:
                    size = 4;
                    break;
                case QWordPrefix:
                    size = 8;
                    break;
                default:
                    return false;
            }
            if (at + 1 + (ulong)size > end)
            {
                return false;
            }
            for (int i = 0; i < size; i++)
            {
                value |= (ulong)memory.Read8(at + 1 + (ulong)i) << (8 * i);
            }
            at += (ulong)(1 + size);
            return true;
        }

        /// <summary>
        /// PkgLength at <paramref name="at"/> (§20.2.4: lead byte bits 7-6 = following bytes; 0 → 6-bit length,
        /// else the low 4 bits and 8 bits per following byte). <paramref name="packageEnd"/> is where the package
        /// ends (the length counts itself), <paramref name="contents"/> where its contents begin. False when the
        /// encoding is cut off or the package would end past <paramref name="end"/>.
        /// </summary>
        public static bool TryReadPackage(IPhysicalMemoryReader memory, ulong at, ulong end, out ulong packageEnd, out ulong contents)
        {
            packageEnd = 0;
            contents = 0;
            if (at >= end)
            {
                return false;
            }
            byte lead = memory.Read8(at);
            int follow = lead >> 6;
            if (at + 1 + (ulong)follow > end)
            {
                return false;
            }
            ulong length = follow == 0 ? (ulong)(lead & 0x3F) : (ulong)(lead & 0x0F);
            for (int i = 0; i < follow; i++)
            {
                length |= (ulong)memory.Read8(at + 1 + (ulong)i) << (4 + 8 * i);
            }
            contents = at + 1 + (ulong)follow;
            packageEnd = at + length;
            return length >= (ulong)(1 + follow) && packageEnd <= end;
        }
    }
}
