using System.Runtime.CompilerServices;
using Internal.Runtime;
using Keel.Runtime;

namespace System.Runtime
{
    /// <summary>Boxing helpers the compiler calls by name (struct → object/interface and back).</summary>
    internal static unsafe class RuntimeExports
    {
        /// <summary>Boxes a value: a new object of <paramref name="type"/> with a copy of the value's bytes.</summary>
        public static object RhBox(MethodTable* type, ref byte data)
        {
            int size = (int)type->BaseSize - 16;
            void* memory = RuntimeServices.AllocateZeroed(type->BaseSize);
            *(MethodTable**)memory = type;
            SpanHelpers.NativeMemmove((byte*)memory + 8, Unsafe.AsPointer(ref data), (nuint)(size > 0 ? size : 0));
            return Unsafe.As<byte, object>(ref *(byte*)&memory);
        }

        public static object RhBoxAny(ref byte data, MethodTable* type) => RhBox(type, ref data);

        /// <summary>Reference to the value inside a box; fails on a box of another type.</summary>
        public static ref byte RhUnbox2(MethodTable* type, object obj)
        {
            if ((object)obj == null || obj.GetMethodTable() != type)
            {
                Panic.Fail("invalid unbox");
            }
            return ref Unsafe.Add(ref Unsafe.As<RawData>(obj).Data, 0);
        }

        public static void RhUnboxAny(object obj, ref byte data, MethodTable* type)
        {
            ref byte source = ref RhUnbox2(type, obj);
            int size = (int)type->BaseSize - 16;
            SpanHelpers.NativeMemmove(Unsafe.AsPointer(ref data), Unsafe.AsPointer(ref source), (nuint)(size > 0 ? size : 0));
        }

        public static void RhUnboxNullable(ref byte data, MethodTable* type, object obj)
        {
            Panic.Fail("unboxing Nullable<T> is not supported");
        }

        public static object RhNewObject(MethodTable* type)
        {
            void* memory = RuntimeServices.AllocateZeroed(type->BaseSize);
            *(MethodTable**)memory = type;
            return Unsafe.As<byte, object>(ref *(byte*)&memory);
        }

        private sealed class RawData
        {
#pragma warning disable 649
            public byte Data;
#pragma warning restore 649
        }
    }
}
