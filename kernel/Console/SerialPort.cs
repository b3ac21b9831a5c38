using Keel.Runtime;

namespace Keel.Kernel.Console
{
    /// <summary>16550 UART on COM1: polled output, input by polling or its interrupt (IRQ 4).</summary>
    public static class SerialPort
    {
        public const ushort Com1 = 0x3f8;
        private const ushort Data = Com1 + 0;
        private const ushort InterruptEnable = Com1 + 1;
        private const ushort FifoControl = Com1 + 2;
        private const ushort LineControl = Com1 + 3;
        private const ushort ModemControl = Com1 + 4;
        private const ushort LineStatus = Com1 + 5;
        private const byte LineStatusDataReady = 0x01;
        private const byte LineStatusTransmitEmpty = 0x20;
        private const byte LineControlDlab = 0x80;
        private const byte LineControl8N1 = 0x03;
        private const byte FifoEnableClear14 = 0xC7;
        private const byte ModemControlDtrRtsOut2 = 0x0B;
        private const byte InterruptEnableReceived = 0x01;

        /// <summary>Legacy IRQ line of COM1.</summary>
        public const int Irq = 4;

        /// <summary>115200 baud, 8N1, FIFOs on.</summary>
        public static void Initialize()
        {
            Native.Out8(InterruptEnable, 0);
            Native.Out8(LineControl, LineControlDlab);
            Native.Out8(Data, 1);
            Native.Out8(InterruptEnable, 0);
            Native.Out8(LineControl, LineControl8N1);
            Native.Out8(FifoControl, FifoEnableClear14);
            Native.Out8(ModemControl, ModemControlDtrRtsOut2);
        }

        /// <summary>Asks the UART to interrupt when a byte arrives.</summary>
        public static void EnableReceiveInterrupt()
        {
            Native.Out8(InterruptEnable, InterruptEnableReceived);
        }

        public static void Write(byte value)
        {
            while ((Native.In8(LineStatus) & LineStatusTransmitEmpty) == 0)
            {
                Native.Pause();
            }
            Native.Out8(Data, value);
        }

        /// <summary>Reads one byte if one is waiting.</summary>
        public static bool TryRead(out byte value)
        {
            if ((Native.In8(LineStatus) & LineStatusDataReady) == 0)
            {
                value = 0;
                return false;
            }
            value = Native.In8(Data);
            return true;
        }
    }
}
