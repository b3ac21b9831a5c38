using System.Runtime.InteropServices;

namespace Keel.Kernel.Interrupts
{
    /// <summary>Registers saved by boot/interrupts.asm, in stack order (lowest address first).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct InterruptFrame
    {
        public ulong Rax, Rbx, Rcx, Rdx, Rsi, Rdi, Rbp, R8, R9, R10, R11, R12, R13, R14, R15;

        /// <summary>Vector number pushed by the stub.</summary>
        public ulong Vector;

        /// <summary>CPU error code, or 0 for vectors without one.</summary>
        public ulong ErrorCode;

        // Pushed by the CPU.
        public ulong Rip, Cs, Rflags, Rsp, Ss;
    }
}
