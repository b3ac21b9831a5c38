using Internal.Runtime;

namespace Keel.Runtime
{
    /// <summary>
    /// The kernel's hooks into the runtime: where object memory comes from, and module start-up
    /// (static bases, eager static constructors). Call <see cref="SetAllocator"/> and then
    /// <see cref="InitializeModules"/> before any code touches a static field of reference type.
    /// </summary>
    public static unsafe class RuntimeServices
    {
        /// <summary>Module header signature ("RTR").</summary>
        private const uint ReadyToRunSignature = 0x00525452;

        /// <summary>Section id: GC static base cells.</summary>
        private const int GCStaticRegionSection = 201;

        /// <summary>Section id: eager static constructors.</summary>
        private const int EagerCctorSection = 205;

        /// <summary>Section id: module initializers.</summary>
        private const int ModuleInitializerListSection = 213;

        private const ulong StaticUninitialized = 1;
        private const ulong StaticHasPreinitData = 2;
        private const ulong StaticFlagsMask = 3;

        private static delegate*<nuint, void*> s_allocate;
        private static delegate*<void*, void> s_free;

        /// <summary>Objects allocated through the runtime since boot.</summary>
        public static long ObjectsAllocated;

        /// <summary>Bytes allocated through the runtime since boot.</summary>
        public static long BytesAllocated;

        /// <summary>Interface calls that had to walk a dispatch map (cache misses).</summary>
        public static long InterfaceDispatchMisses => InterfaceDispatch.Misses;

        /// <summary>Objects given back with <see cref="FreeObject"/>.</summary>
        public static long ObjectsFreed;

        /// <summary>Installs the memory source for new objects. The allocator must return zeroed memory.</summary>
        public static void SetAllocator(delegate*<nuint, void*> allocate, delegate*<void*, void> free)
        {
            s_allocate = allocate;
            s_free = free;
        }

        /// <summary>Gives an object's memory back. The caller guarantees nothing references it any more.</summary>
        public static void FreeObject(object value)
        {
            if ((object)value == null)
            {
                return;
            }
            ObjectsFreed++;
            s_free(*(void**)&value);
        }

        internal static void* AllocateZeroed(nuint size)
        {
            if (s_allocate == null)
            {
                Panic.Fail("allocation before the heap exists, size", size);
            }
            void* memory = s_allocate(size);
            if (memory == null)
            {
                Panic.Fail("out of memory, size", size);
            }
            ObjectsAllocated++;
            BytesAllocated += (long)size;
            return memory;
        }

        /// <summary>Walks every module header: allocates static bases, copies preinitialised data, runs eager constructors.</summary>
        public static void InitializeModules()
        {
            ulong* bounds = stackalloc ulong[2];
            Native.ModulesBounds(bounds);
            for (ulong* entry = (ulong*)bounds[0]; entry < (ulong*)bounds[1]; entry++)
            {
                if (*entry != 0)
                {
                    InitializeStatics((ReadyToRunHeader*)*entry);
                }
            }
            for (ulong* entry = (ulong*)bounds[0]; entry < (ulong*)bounds[1]; entry++)
            {
                if (*entry != 0)
                {
                    RunInitializers((ReadyToRunHeader*)*entry, EagerCctorSection);
                    RunInitializers((ReadyToRunHeader*)*entry, ModuleInitializerListSection);
                }
            }
        }

        private static void InitializeStatics(ReadyToRunHeader* header)
        {
            if (header->Signature != ReadyToRunSignature)
            {
                Panic.Fail("bad module header", header->Signature);
            }
            byte* start;
            byte* end;
            if (!FindSection(header, GCStaticRegionSection, out start, out end))
            {
                return;
            }
            for (int* cell = (int*)start; cell < (int*)end; cell++)
            {
                // Each entry is a relative pointer to a static base cell, which initially holds a relative
                // pointer to the statics' MethodTable with flag bits in the low bits.
                byte* baseCell = (byte*)cell + *cell;
                ulong value = (ulong)(baseCell + *(int*)baseCell);
                if ((value & StaticUninitialized) == 0)
                {
                    continue;
                }
                MethodTable* type = (MethodTable*)(value & ~StaticFlagsMask);
                void* instance = AllocateZeroed(type->BaseSize);
                *(MethodTable**)instance = type;
                if ((value & StaticHasPreinitData) != 0)
                {
                    byte* data = baseCell + 4 + *(int*)(baseCell + 4);
                    SpanCopy((byte*)instance + 8, data, (int)type->BaseSize - 16);
                }
                *(void**)baseCell = instance;
            }
        }

        private static void RunInitializers(ReadyToRunHeader* header, int section)
        {
            byte* start;
            byte* end;
            if (!FindSection(header, section, out start, out end))
            {
                return;
            }
            for (int* cell = (int*)start; cell < (int*)end; cell++)
            {
                delegate*<void> method = (delegate*<void>)((byte*)cell + *cell);
                method();
            }
        }

        private static bool FindSection(ReadyToRunHeader* header, int id, out byte* start, out byte* end)
        {
            ModuleSection* sections = (ModuleSection*)(header + 1);
            for (int i = 0; i < header->NumberOfSections; i++)
            {
                if (sections[i].SectionId == id)
                {
                    start = (byte*)sections[i].Start;
                    end = (byte*)sections[i].End;
                    return true;
                }
            }
            start = null;
            end = null;
            return false;
        }

        private static void SpanCopy(byte* destination, byte* source, int count)
        {
            for (int i = 0; i < count; i++)
            {
                destination[i] = source[i];
            }
        }
    }

    // The module header and its section table are written by ILC into the image and read through pointers,
    // never assigned in C#.
#pragma warning disable CS0649
    /// <summary>Module header emitted by ILC (one per module).</summary>
    internal struct ReadyToRunHeader
    {
        internal uint Signature;
        internal ushort MajorVersion;
        internal ushort MinorVersion;
        internal uint Flags;
        internal ushort NumberOfSections;
        internal byte EntrySize;
        internal byte EntryType;
    }

    /// <summary>One row of the module header's section table.</summary>
    internal struct ModuleSection
    {
        internal int SectionId;
        internal int Flags;
        internal ulong Start;
        internal ulong End;
    }
#pragma warning restore CS0649
}
