namespace Keel.Kernel.Acpi
{
    /// <summary>
    /// Finds <c>Name(_S5, Package(){ SLP_TYPa, SLP_TYPb, … })</c> in AML (ACPI 6.5 §20) without an interpreter:
    /// NameOp (0x08), an optional root prefix '\', the name "_S5_", PackageOp (0x12), PkgLength, NumElements,
    /// then integer elements (ZeroOp, OneOp, BytePrefix 0x0A, WordPrefix 0x0B, DWordPrefix 0x0C).
    /// </summary>
    public static class AmlSleepPackage
    {
        private const byte NameOp = 0x08;
        private const byte RootPrefix = 0x5C;
        private const byte PackageOp = 0x12;

        /// <summary>Searches [<paramref name="start"/>, +<paramref name="length"/>) for the \_S5 package.</summary>
        public static bool TryFind(IPhysicalMemoryReader memory, ulong start, uint length, out byte sleepTypeA, out byte sleepTypeB)
        {
            sleepTypeA = 0;
            sleepTypeB = 0;
            if (!memory.CanRead(start, length))
            {
                return false;
            }
            ulong end = start + length;
            for (ulong at = start + 1; at + 4 < end; at++)
            {
                if (memory.Read8(at) != (byte)'_' || memory.Read8(at + 1) != (byte)'S' || memory.Read8(at + 2) != (byte)'5' || memory.Read8(at + 3) != (byte)'_')
                {
                    continue;
                }
                byte before = memory.Read8(at - 1);
                bool named = before == NameOp || (before == RootPrefix && at - 2 >= start && memory.Read8(at - 2) == NameOp);
                if (named && TryReadPackage(memory, at + 4, end, out sleepTypeA, out sleepTypeB))
                {
                    return true;
                }
            }
            return false;
        }

        private static bool TryReadPackage(IPhysicalMemoryReader memory, ulong at, ulong end, out byte a, out byte b)
        {
            a = 0;
            b = 0;
            if (at + 3 > end || memory.Read8(at) != PackageOp)
            {
                return false;
            }
            at++;
            byte lead = memory.Read8(at);
            int followBytes = lead >> 6;
            at += (ulong)(1 + followBytes);
            if (at >= end)
            {
                return false;
            }
            int elements = memory.Read8(at);
            at++;
            if (elements < 1)
            {
                return false;
            }
            ulong value;
            if (!AmlEncoding.TryReadInteger(memory, ref at, end, out value) || value > 7)
            {
                return false;
            }
            a = (byte)value;
            if (elements >= 2)
            {
                if (!AmlEncoding.TryReadInteger(memory, ref at, end, out value) || value > 7)
                {
                    return false;
                }
                b = (byte)value;
            }
            return true;
        }
    }
}
