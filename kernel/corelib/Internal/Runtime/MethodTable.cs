using System.Runtime.InteropServices;

namespace Internal.Runtime
{
    /// <summary>
    /// The fixed head of a type's MethodTable as ILC 10.0 lays it out (pinned compiler version):
    /// flags, base size, related type (base type / element type), vtable slot count, interface count, hash.
    /// The vtable follows, then the interface map (MethodTable pointers), then relative-pointer fields.
    /// </summary>
    [StructLayout(LayoutKind.Sequential)]
    internal unsafe struct MethodTable
    {
        /// <summary>Low 16 bits: component size (arrays, strings) when HasComponentSize; high bits: flags.</summary>
        internal uint Flags;

        /// <summary>Size of an instance in bytes (arrays/strings: without the elements).</summary>
        internal uint BaseSize;

        /// <summary>Base type for classes, element type for arrays.</summary>
        internal MethodTable* RelatedType;

        /// <summary>Number of vtable slots that follow this header.</summary>
        internal ushort NumVtableSlots;

        /// <summary>Number of interface map entries after the vtable.</summary>
        internal ushort NumInterfaces;

        /// <summary>Type hash code.</summary>
        internal uint HashCode;

        internal const uint HasComponentSizeFlag = 0x80000000;
        internal const uint HasDispatchMapFlag = 0x00040000;
        internal const uint HasFinalizerFlag = 0x00100000;
        internal const uint ElementTypeMask = 0x7C000000;
        internal const int ElementTypeShift = 26;
        internal const uint KindMask = 0x00030000;
        internal const uint ParameterizedKind = 0x00020000;
        internal const uint ElementTypeInterface = 0x15;
        internal const uint ElementTypeArray = 0x17;
        internal const uint ElementTypeSzArray = 0x18;

        internal ushort ComponentSize => (Flags & HasComponentSizeFlag) != 0 ? (ushort)Flags : (ushort)0;

        internal uint ElementType => (Flags & ElementTypeMask) >> ElementTypeShift;

        internal bool IsInterface => ElementType == ElementTypeInterface;

        internal bool IsArray => ElementType == ElementTypeArray || ElementType == ElementTypeSzArray;

        internal bool IsParameterized => (Flags & KindMask) == ParameterizedKind;

        internal MethodTable** InterfaceMap
        {
            get
            {
                fixed (MethodTable* self = &this)
                {
                    return (MethodTable**)((byte*)self + sizeof(MethodTable) + 8 * NumVtableSlots);
                }
            }
        }

        internal void** Vtable
        {
            get
            {
                fixed (MethodTable* self = &this)
                {
                    return (void**)((byte*)self + sizeof(MethodTable));
                }
            }
        }

        /// <summary>Offset of the first relative-pointer field after the interface map (type manager cell).</summary>
        private int OptionalFieldsStart => sizeof(MethodTable) + 8 * NumVtableSlots + 8 * NumInterfaces;

        /// <summary>The dispatch map (interface slot → implementation slot), or null.</summary>
        internal DispatchMap* DispatchMap
        {
            get
            {
                if ((Flags & HasDispatchMapFlag) == 0)
                {
                    return null;
                }
                fixed (MethodTable* self = &this)
                {
                    // Type manager cell, writable data cell, then the dispatch map: 4-byte relative pointers.
                    int* cell = (int*)((byte*)self + OptionalFieldsStart + 8);
                    return (DispatchMap*)((byte*)cell + *cell);
                }
            }
        }

        /// <summary>Code address of sealed virtual slot <paramref name="index"/>.</summary>
        internal void* SealedVirtualSlot(int index)
        {
            fixed (MethodTable* self = &this)
            {
                int offset = OptionalFieldsStart + 8;
                if ((Flags & HasDispatchMapFlag) != 0)
                {
                    offset += 4;
                }
                if ((Flags & HasFinalizerFlag) != 0)
                {
                    offset += 4;
                }
                int* cell = (int*)((byte*)self + offset);
                int* table = (int*)((byte*)cell + *cell);
                int* slot = table + index;
                return (byte*)slot + *slot;
            }
        }
    }

    /// <summary>Interface dispatch map of a type: counts, then 6-byte entries.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct DispatchMap
    {
        internal ushort StandardEntryCount;
        internal ushort DefaultEntryCount;
        internal ushort StandardStaticEntryCount;
        internal ushort DefaultStaticEntryCount;
        // DispatchMapEntry entries follow.
    }

    /// <summary>One dispatch map entry.</summary>
    [StructLayout(LayoutKind.Sequential)]
    internal struct DispatchMapEntry
    {
        internal ushort InterfaceIndex;
        internal ushort InterfaceMethodSlot;
        internal ushort ImplementationSlot;
    }
}
