namespace Keel.Runtime
{
    /// <summary>
    /// Last-resort failure reporting: prints the reason and the return addresses found on the stack to
    /// COM1, then makes QEMU exit with <see cref="FailureExitValue"/> through the isa-debug-exit device.
    /// Needs nothing initialised (no heap, no statics with references), so it works at any time.
    /// </summary>
    public static unsafe class Panic
    {
        /// <summary>Value written to the debug-exit port on failure (QEMU status (3&lt;&lt;1)|1 = 7).</summary>
        public const byte FailureExitValue = 3;

        /// <summary>I/O port of QEMU's isa-debug-exit device.</summary>
        public const ushort DebugExitPort = 0xf4;

        private const ushort Com1 = 0x3f8;
        private const ushort LineStatus = Com1 + 5;
        private const byte TransmitEmpty = 0x20;

        /// <summary>Nesting guard: a fault while panicking stops at once.</summary>
        private static int s_depth;

        /// <summary>Address of the top of the boot stack (set by the kernel; 0 = scan 64 KiB).</summary>
        public static ulong StackTop;

        /// <summary>Prints "PANIC: reason", the stack's return addresses, and stops with a failure status.</summary>
        public static void Fail(string reason)
        {
            Native.DisableInterrupts();
            s_depth++;
            if (s_depth > 1)
            {
                WriteText("\r\nPANIC (nested)\r\n");
                Exit(FailureExitValue);
            }
            WriteText("\r\nPANIC: ");
            WriteText(reason);
            WriteText("\r\n");
            PrintStack();
            Exit(FailureExitValue);
        }

        /// <summary>Like <see cref="Fail"/>, with a number after the reason.</summary>
        public static void Fail(string reason, ulong value)
        {
            Native.DisableInterrupts();
            WriteText("\r\nPANIC: ");
            WriteText(reason);
            WriteText(" ");
            WriteHex(value);
            Fail("(see above)");
        }

        /// <summary>Stops QEMU with status (value&lt;&lt;1)|1; halts forever if no debug-exit device exists.</summary>
        public static void Exit(byte value)
        {
            Native.Out8(DebugExitPort, value);
            Native.HaltForever();
        }

        /// <summary>Prints every stack word that points into the kernel image (likely return addresses).</summary>
        public static void PrintStack()
        {
            ulong* bounds = stackalloc ulong[2];
            Native.ImageBounds(bounds);
            ulong rsp = Native.ReadStackPointer();
            ulong top = StackTop != 0 ? StackTop : rsp + 65536;
            WriteText("stack (return addresses):\r\n");
            int shown = 0;
            for (ulong* p = (ulong*)rsp; (ulong)p < top && shown < 24; p++)
            {
                ulong value = *p;
                if (value >= bounds[0] && value < bounds[1])
                {
                    WriteText("  ");
                    WriteHex(value);
                    WriteText("\r\n");
                    shown++;
                }
            }
        }

        public static void WriteText(string text)
        {
            if ((object)text == null)
            {
                return;
            }
            for (int i = 0; i < text.Length; i++)
            {
                WriteByte((byte)text[i]);
            }
        }

        public static void WriteHex(ulong value)
        {
            WriteByte((byte)'0');
            WriteByte((byte)'x');
            for (int shift = 60; shift >= 0; shift -= 4)
            {
                int digit = (int)((value >> shift) & 0xf);
                WriteByte((byte)(digit < 10 ? '0' + digit : 'a' + digit - 10));
            }
        }

        public static void WriteByte(byte value)
        {
            int spins = 0;
            while ((Native.In8(LineStatus) & TransmitEmpty) == 0 && spins < 100000)
            {
                spins++;
            }
            Native.Out8(Com1, value);
        }
    }
}
