using System;
using System.Text;
using Keel.Hal;

namespace Keel.HostStack
{
    /// <summary>ITextOutput to stdout, a line at a time, each line prefixed with the elapsed seconds.</summary>
    public sealed class ConsoleTextOutput : ITextOutput
    {
        private readonly StringBuilder _line = new StringBuilder();
        private readonly HostClock _clock;

        public ConsoleTextOutput(HostClock clock)
        {
            _clock = clock;
        }

        public void Write(string text) => _line.Append(text);

        public void Write(char character) => _line.Append(character);

        public void Write(long value) => _line.Append(value);

        public void WriteHex(ulong value) => _line.Append("0x").Append(value.ToString("x"));

        public void WriteLine()
        {
            double seconds = (_clock.NowNanoseconds - 1_000_000_000L) / 1e9;
            Console.Out.Write("[" + seconds.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture) + "] ");
            Console.Out.WriteLine(_line.ToString());
            Console.Out.Flush();
            _line.Clear();
        }
    }
}
