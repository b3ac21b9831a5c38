namespace Keel.Hal
{
    /// <summary>
    /// Where diagnostic and shell text goes (the serial console in the kernel, a string builder in tests).
    /// Numbers are written by the sink itself, so portable code never needs string formatting.
    /// </summary>
    public interface ITextOutput
    {
        void Write(string text);
        void Write(char character);
        void Write(long value);
        void WriteHex(ulong value);
        void WriteLine();
    }
}
