using System.Runtime.InteropServices;
using Keel.Hal;
using Keel.Runtime;

namespace Keel.Kernel.Interrupts
{
    /// <summary>
    /// The one managed entry for every interrupt and exception. Exceptions (vectors 0-31) are reported
    /// and stop the machine; device vectors call their registered <see cref="IInterruptHandler"/>s, which
    /// only acknowledge the device and schedule work; then the local APIC gets its end-of-interrupt.
    /// </summary>
    public static unsafe class InterruptDispatcher
    {
        /// <summary>First vector available to devices.</summary>
        public const int FirstDeviceVector = 0x20;

        /// <summary>Most handlers that may share one vector.</summary>
        public const int MaxHandlersPerVector = 4;

        private static IInterruptHandler[] s_handlers;
        private static long[] s_counts;

        /// <summary>Interrupts taken since boot.</summary>
        public static long TotalInterrupts;

        /// <summary>Set by <see cref="Initialize"/>; interrupts before that are exceptions only.</summary>
        private static bool s_ready;

        public static void Initialize()
        {
            s_handlers = new IInterruptHandler[256 * MaxHandlersPerVector];
            s_counts = new long[256];
            s_ready = true;
        }

        /// <summary>Adds a handler on a vector (shared vectors allowed). False when the vector is full.</summary>
        public static bool Register(int vector, IInterruptHandler handler)
        {
            for (int i = 0; i < MaxHandlersPerVector; i++)
            {
                int slot = vector * MaxHandlersPerVector + i;
                if ((object)s_handlers[slot] == null)
                {
                    s_handlers[slot] = handler;
                    return true;
                }
            }
            return false;
        }

        /// <summary>Removes a handler from a vector.</summary>
        public static void Unregister(int vector, IInterruptHandler handler)
        {
            for (int i = 0; i < MaxHandlersPerVector; i++)
            {
                int slot = vector * MaxHandlersPerVector + i;
                if ((object)s_handlers[slot] == (object)handler)
                {
                    s_handlers[slot] = null;
                }
            }
        }

        /// <summary>True when some handler is registered on <paramref name="vector"/>.</summary>
        public static bool HasHandlers(int vector)
        {
            for (int i = 0; i < MaxHandlersPerVector; i++)
            {
                if ((object)s_handlers[vector * MaxHandlersPerVector + i] != null)
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>Removes every handler from a vector.</summary>
        public static void UnregisterAll(int vector)
        {
            for (int i = 0; i < MaxHandlersPerVector; i++)
            {
                s_handlers[vector * MaxHandlersPerVector + i] = null;
            }
        }

        /// <summary>Interrupts counted on a vector.</summary>
        public static long Count(int vector) => s_counts[vector];

        [UnmanagedCallersOnly(EntryPoint = "KeelInterruptDispatch")]
        private static void Dispatch(InterruptFrame* frame)
        {
            int vector = (int)frame->Vector;
            if (vector < FirstDeviceVector)
            {
                ExceptionReporter.Report(frame);
                return;
            }
            TotalInterrupts++;
            if (s_ready)
            {
                s_counts[vector]++;
                for (int i = 0; i < MaxHandlersPerVector; i++)
                {
                    IInterruptHandler handler = s_handlers[vector * MaxHandlersPerVector + i];
                    if ((object)handler != null)
                    {
                        handler.HandleInterrupt();
                    }
                }
            }
            if (vector != LocalApic.SpuriousVector)
            {
                LocalApic.EndOfInterrupt();
            }
        }
    }
}
