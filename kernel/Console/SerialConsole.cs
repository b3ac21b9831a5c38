using Keel.Hal;

namespace Keel.Kernel.Console
{
    /// <summary>The kernel console: <see cref="ITextOutput"/> over COM1. "\n" is sent as CR LF.</summary>
    public sealed class SerialConsole : ITextOutput
    {
        public void Write(string text)
        {
            if ((object)text == null)
            {
                return;
            }
            for (int i = 0; i < text.Length; i++)
            {
                Write(text[i]);
            }
        }

        public void Write(char character)
        {
            if (character == '\n')
            {
                SerialPort.Write((byte)'\r');
            }
            SerialPort.Write((byte)character);
        }

        public void Write(long value)
        {
            if (value < 0)
            {
                Write('-');
                WriteUnsigned((ulong)(-value));
                return;
            }
            WriteUnsigned((ulong)value);
        }

        public void WriteHex(ulong value)
        {
            Write('0');
            Write('x');
            bool started = false;
            for (int shift = 60; shift >= 0; shift -= 4)
            {
                int digit = (int)((value >> shift) & 0xf);
                if (digit != 0 || started || shift == 0)
                {
                    started = true;
                    Write((char)(digit < 10 ? '0' + digit : 'a' + digit - 10));
                }
            }
        }

        public void WriteLine()
        {
            Write('\n');
        }

        private void WriteUnsigned(ulong value)
        {
            int count = 0;
            ulong rest = value;
            do
            {
                count++;
                rest /= 10;
            }
            while (rest != 0);
            for (int position = count - 1; position >= 0; position--)
            {
                ulong divisor = 1;
                for (int i = 0; i < position; i++)
                {
                    divisor *= 10;
                }
                Write((char)('0' + (int)((value / divisor) % 10)));
            }
        }
    }
}
