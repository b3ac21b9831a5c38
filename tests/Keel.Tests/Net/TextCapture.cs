using System.Text;
using Keel.Hal;

namespace Keel.Tests.Net
{
    /// <summary>ITextOutput into a string (test only; allocates).</summary>
    public sealed class TextCapture : ITextOutput
    {
        public readonly StringBuilder Text = new StringBuilder();

        public void Write(string text) => Text.Append(text);

        public void Write(char character) => Text.Append(character);

        public void Write(long value) => Text.Append(value);

        public void WriteHex(ulong value) => Text.Append(value.ToString("x"));

        public void WriteLine() => Text.Append('\n');

        public override string ToString() => Text.ToString();
    }
}
