using Keel.Runtime;

namespace Keel.Kernel.Interrupts
{
    /// <summary>Prints a CPU exception with its registers and stops the machine with a failure status.</summary>
    public static unsafe class ExceptionReporter
    {
        private const int PageFaultVector = 14;
        private const ulong NullPageLimit = 0x1000;

        public static void Report(InterruptFrame* frame)
        {
            int vector = (int)frame->Vector;
            Panic.WriteText("\r\nCPU EXCEPTION ");
            Panic.WriteText(Name(vector));
            Panic.WriteText(" vector=");
            Panic.WriteHex((ulong)vector);
            Panic.WriteText(" error=");
            Panic.WriteHex(frame->ErrorCode);
            Panic.WriteText("\r\n");
            if (vector == PageFaultVector)
            {
                ulong address = Native.ReadCr2();
                Panic.WriteText("  CR2=");
                Panic.WriteHex(address);
                if (address < NullPageLimit)
                {
                    Panic.WriteText("  (null reference)");
                }
                Panic.WriteText("\r\n");
            }
            Line("  RIP=", frame->Rip, " RSP=", frame->Rsp, " RFLAGS=", frame->Rflags);
            Line("  RAX=", frame->Rax, " RBX=", frame->Rbx, " RCX=", frame->Rcx);
            Line("  RDX=", frame->Rdx, " RSI=", frame->Rsi, " RDI=", frame->Rdi);
            Line("  RBP=", frame->Rbp, " R8 =", frame->R8, " R9 =", frame->R9);
            Line("  R10=", frame->R10, " R11=", frame->R11, " R12=", frame->R12);
            Line("  R13=", frame->R13, " R14=", frame->R14, " R15=", frame->R15);
            Line("  CS =", frame->Cs, " SS =", frame->Ss, " CR3=", Native.ReadCr3());
            Panic.Fail(vector == PageFaultVector && Native.ReadCr2() < NullPageLimit ? "null reference (page fault)" : "CPU exception");
        }

        private static void Line(string a, ulong va, string b, ulong vb, string c, ulong vc)
        {
            Panic.WriteText(a);
            Panic.WriteHex(va);
            Panic.WriteText(b);
            Panic.WriteHex(vb);
            Panic.WriteText(c);
            Panic.WriteHex(vc);
            Panic.WriteText("\r\n");
        }

        private static string Name(int vector)
        {
            switch (vector)
            {
                case 0: return "#DE divide error";
                case 1: return "#DB debug";
                case 2: return "NMI";
                case 3: return "#BP breakpoint";
                case 4: return "#OF overflow";
                case 5: return "#BR bound range";
                case 6: return "#UD invalid opcode";
                case 7: return "#NM device not available";
                case 8: return "#DF double fault";
                case 10: return "#TS invalid TSS";
                case 11: return "#NP segment not present";
                case 12: return "#SS stack fault";
                case 13: return "#GP general protection";
                case 14: return "#PF page fault";
                case 16: return "#MF x87 error";
                case 17: return "#AC alignment check";
                case 18: return "#MC machine check";
                case 19: return "#XM SIMD error";
                default: return "(reserved)";
            }
        }
    }
}
