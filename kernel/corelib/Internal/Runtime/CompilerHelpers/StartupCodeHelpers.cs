using System;
using System.Runtime;
using Internal.Runtime;
using Keel.Runtime;

namespace Internal.Runtime.CompilerHelpers
{
    /// <summary>
    /// Runtime entry points the compiled code calls by symbol name: allocation, write barriers (plain stores:
    /// there is no GC), transitions (no-ops: one thread, no GC), and failure paths.
    /// </summary>
    internal static unsafe class StartupCodeHelpers
    {
        [RuntimeExport("RhpNewFast")]
        private static void* RhpNewFast(MethodTable* type)
        {
            void* result = RuntimeServices.AllocateZeroed(type->BaseSize);
            *(MethodTable**)result = type;
            return result;
        }

        [RuntimeExport("RhpNewFinalizable")]
        private static void* RhpNewFinalizable(MethodTable* type) => RhpNewFast(type);

        [RuntimeExport("RhpNewFastAlign8")]
        private static void* RhpNewFastAlign8(MethodTable* type) => RhpNewFast(type);

        [RuntimeExport("RhpNewFastMisalign")]
        private static void* RhpNewFastMisalign(MethodTable* type) => RhpNewFast(type);

        [RuntimeExport("RhpNewArray")]
        private static void* RhpNewArray(MethodTable* type, int length) => NewArray(type, length);

        [RuntimeExport("RhpNewArrayFast")]
        private static void* RhpNewArrayFast(MethodTable* type, int length) => NewArray(type, length);

        [RuntimeExport("RhpNewPtrArrayFast")]
        private static void* RhpNewPtrArrayFast(MethodTable* type, int length) => NewArray(type, length);

        [RuntimeExport("RhpNewArrayFastAlign8")]
        private static void* RhpNewArrayFastAlign8(MethodTable* type, int length) => NewArray(type, length);

        [RuntimeExport("RhNewString")]
        private static void* RhNewString(MethodTable* type, int length) => NewArray(type, length);

        private static void* NewArray(MethodTable* type, int length)
        {
            if (length < 0)
            {
                Panic.Fail("negative array length", (ulong)(uint)length);
            }
            ulong size = type->BaseSize + (ulong)length * type->ComponentSize;
            size = (size + 7) & ~7UL;
            if (size > 0x40000000)
            {
                Panic.Fail("array too large, bytes", size);
            }
            void* result = RuntimeServices.AllocateZeroed((nuint)size);
            *(MethodTable**)result = type;
            *(int*)((byte*)result + 8) = length;
            return result;
        }

        [RuntimeExport("RhpAssignRef")]
        private static void RhpAssignRef(void** destination, void* value) { *destination = value; }

        [RuntimeExport("RhpCheckedAssignRef")]
        private static void RhpCheckedAssignRef(void** destination, void* value) { *destination = value; }

        [RuntimeExport("RhpReversePInvoke")]
        private static void RhpReversePInvoke(IntPtr frame) { }

        [RuntimeExport("RhpReversePInvokeReturn")]
        private static void RhpReversePInvokeReturn(IntPtr frame) { }

        [RuntimeExport("RhpPInvoke")]
        private static void RhpPInvoke(IntPtr frame) { }

        [RuntimeExport("RhpPInvokeReturn")]
        private static void RhpPInvokeReturn(IntPtr frame) { }

        [RuntimeExport("RhpGcPoll")]
        private static void RhpGcPoll() { }

        [RuntimeExport("RhpFallbackFailFast")]
        private static void RhpFallbackFailFast() => Panic.Fail("runtime fail-fast");

        [RuntimeExport("RhpThrowEx")]
        private static void RhpThrowEx(object exception)
        {
            Exception ex = exception as Exception;
            if ((object)ex != null && (object)ex._message != null)
            {
                Panic.WriteText("\r\nexception: ");
                Panic.WriteText(ex._message);
            }
            Panic.Fail("exception thrown (kernel code must not throw)");
        }

        [RuntimeExport("RhpRethrow")]
        private static void RhpRethrow() => Panic.Fail("exception rethrown");

        [RuntimeExport("RhpThrowHwEx")]
        private static void RhpThrowHwEx() => Panic.Fail("hardware exception");

        [RuntimeExport("RhpStelemRef")]
        private static void RhpStelemRef(object[] array, nint index, object value) => TypeCast.StelemRef(array, index, value);
    }
}
