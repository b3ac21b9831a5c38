using System.Runtime.InteropServices;

namespace System.Runtime.CompilerServices
{
    /// <summary>Runs lazy static constructors; the compiler calls this before touching such statics.</summary>
    internal static unsafe class ClassConstructorRunner
    {
        private static IntPtr CheckStaticClassConstructionReturnNonGCStaticBase(ref StaticClassConstructionContext context, IntPtr nonGcStaticBase)
        {
            RunIfNeeded(ref context);
            return nonGcStaticBase;
        }

        private static object CheckStaticClassConstructionReturnGCStaticBase(ref StaticClassConstructionContext context, object gcStaticBase)
        {
            RunIfNeeded(ref context);
            return gcStaticBase;
        }

        private static void RunIfNeeded(ref StaticClassConstructionContext context)
        {
            IntPtr constructor = context.cctorMethodAddress;
            if (constructor != IntPtr.Zero)
            {
                // Cleared first: a constructor that (indirectly) touches its own statics must not re-enter.
                context.cctorMethodAddress = IntPtr.Zero;
                ((delegate*<void>)(void*)constructor)();
            }
        }
    }

    /// <summary>Compiler contract: address of a not-yet-run static constructor (zero once run).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct StaticClassConstructionContext
    {
        public IntPtr cctorMethodAddress;
    }
}
