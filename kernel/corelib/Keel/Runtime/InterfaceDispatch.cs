using System.Runtime;
using Internal.Runtime;

namespace Keel.Runtime
{
    /// <summary>
    /// Resolves interface calls. ILC emits each interface call site as a call through a dispatch cell whose
    /// stub starts as RhpInitialDynamicInterfaceDispatch (boot/dispatch.asm); that stub calls
    /// <see cref="Resolve"/> with the object and the cell and jumps to the returned code.
    /// Results are kept in a direct-mapped cache keyed by (cell, type) so a hot call site costs a few loads.
    /// </summary>
    internal static unsafe class InterfaceDispatch
    {
        /// <summary>Tag bits in a cell's cache word (initial form).</summary>
        private const ulong CellTagMask = 3;
        private const ulong CellTagInterfacePointer = 1;
        private const ulong CellTagIndirectedRelative = 2;
        private const ulong CellTagInterfaceRelative = 3;

        private const int CacheSize = 4096;

        /// <summary>Cache entries: cell, type, target (3 words each). Non-GC static storage.</summary>
        // Reached only through a fixed pointer to its words, which the compiler does not count as a use.
#pragma warning disable CS0169
        private static CacheTable s_cache;
#pragma warning restore CS0169

        /// <summary>Resolutions that missed the cache (walked a dispatch map).</summary>
        public static long Misses;

        [RuntimeExport("KeelResolveInterfaceDispatch")]
        private static void* Resolve(object obj, InterfaceDispatchCell* cell)
        {
            if ((object)obj == null)
            {
                Panic.Fail("null reference (interface call)");
            }
            MethodTable* type = obj.GetMethodTable();
            ulong hash = (((ulong)cell >> 3) ^ ((ulong)type >> 4) * 0x9E3779B1UL) & (CacheSize - 1);
            fixed (ulong* cache = s_cache.Words)
            {
                ulong* entry = cache + hash * 3;
                if (entry[0] == (ulong)cell && entry[1] == (ulong)type)
                {
                    return (void*)entry[2];
                }
                void* target = ResolveSlow(type, cell);
                entry[0] = (ulong)cell;
                entry[1] = (ulong)type;
                entry[2] = (ulong)target;
                return target;
            }
        }

        private static void* ResolveSlow(MethodTable* type, InterfaceDispatchCell* cell)
        {
            Misses++;
            InterfaceDispatchCell* terminator = cell;
            while (terminator->Stub != 0)
            {
                terminator++;
            }
            if ((terminator->Cache >> 16) != 0)
            {
                Panic.Fail("unsupported dispatch cell kind", terminator->Cache);
            }
            ushort slot = (ushort)terminator->Cache;
            MethodTable* interfaceType = DecodeInterface(cell);
            for (MethodTable* current = type; current != null; current = current->RelatedType)
            {
                DispatchMap* map = current->DispatchMap;
                if (map != null)
                {
                    DispatchMapEntry* entries = (DispatchMapEntry*)(map + 1);
                    MethodTable** interfaces = current->InterfaceMap;
                    for (int i = 0; i < map->StandardEntryCount; i++)
                    {
                        if (entries[i].InterfaceMethodSlot == slot && interfaces[entries[i].InterfaceIndex] == interfaceType)
                        {
                            ushort implementation = entries[i].ImplementationSlot;
                            if (implementation < current->NumVtableSlots)
                            {
                                return type->Vtable[implementation];
                            }
                            return current->SealedVirtualSlot(implementation - current->NumVtableSlots);
                        }
                    }
                }
                if (current->IsParameterized)
                {
                    break;
                }
            }
            Panic.Fail("interface method not implemented; interface type", (ulong)interfaceType);
            return null;
        }

        private static MethodTable* DecodeInterface(InterfaceDispatchCell* cell)
        {
            ulong cache = cell->Cache;
            ulong tag = cache & CellTagMask;
            if (tag == CellTagInterfacePointer)
            {
                return (MethodTable*)(cache & ~CellTagMask);
            }
            if (tag == CellTagInterfaceRelative || tag == CellTagIndirectedRelative)
            {
                ulong address = (ulong)&cell->Cache + (ulong)(long)(int)(uint)cache;
                address &= ~CellTagMask;
                return tag == CellTagInterfaceRelative ? (MethodTable*)address : *(MethodTable**)address;
            }
            Panic.Fail("unsupported dispatch cell", cache);
            return null;
        }
    }

    /// <summary>Storage of the interface dispatch cache.</summary>
    internal unsafe struct CacheTable
    {
        internal fixed ulong Words[4096 * 3];
    }

    /// <summary>An interface dispatch cell as emitted by ILC: stub address and cache word.</summary>
    // Written by ILC into the image and read through pointers, never assigned in C#.
#pragma warning disable CS0649
    internal struct InterfaceDispatchCell
    {
        internal ulong Stub;
        internal ulong Cache;
    }
#pragma warning restore CS0649
}
