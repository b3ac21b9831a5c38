using System.Text;
using Keel.Hal;

namespace Keel.Tests.Fakes
{
    /// <summary>
    /// The one <see cref="ITextOutput"/> of the tests: collects text in memory for assertions, written as the
    /// kernel's serial console writes it (hex with "0x", "\n" line ends). Test only; allocates.
    /// </summary>
    public sealed class TextCapture : ITextOutput
    {
        private readonly StringBuilder _text = new StringBuilder();

        /// <summary>Everything written so far.</summary>
        public string Text => _text.ToString();

        /// <summary>Forgets what was written.</summary>
        public void Clear() => _text.Clear();

        public void Write(string text) => _text.Append(text);

        public void Write(char character) => _text.Append(character);

        public void Write(long value) => _text.Append(value);

        public void WriteHex(ulong value) => _text.Append("0x").Append(value.ToString("x"));

        public void WriteLine() => _text.Append('\n');

        public override string ToString() => _text.ToString();
    }
}
