using System.Text;
using Keel.Hal;

namespace Keel.Tests.Kernel
{
    /// <summary>An <see cref="ITextOutput"/> that collects text in memory for assertions.</summary>
    public sealed class StringTextOutput : ITextOutput
    {
        /// <summary>Everything written so far.</summary>
        private readonly StringBuilder _text = new StringBuilder();

        /// <summary>Everything written so far ("\n" for line ends).</summary>
        public string Text => _text.ToString();

        /// <summary>Forgets what was written.</summary>
        public void Clear() => _text.Clear();

        /// <inheritdoc />
        public void Write(string text) => _text.Append(text);

        /// <inheritdoc />
        public void Write(char character) => _text.Append(character);

        /// <inheritdoc />
        public void Write(long value) => _text.Append(value);

        /// <inheritdoc />
        public void WriteHex(ulong value) => _text.Append("0x").Append(value.ToString("x"));

        /// <inheritdoc />
        public void WriteLine() => _text.Append('\n');
    }
}
