using System;
using Keel.Apps.Iperf3.Json;
using Keel.Hal;

namespace Keel.Apps.Iperf3
{
    /// <summary>
    /// A line of ASCII text built in a fixed byte array (no string formatting exists in the kernel): the
    /// per-test log line, which also goes to the client as server_output_text. Text that does not fit is cut off.
    /// </summary>
    public sealed class TextBuffer
    {
        private readonly byte[] _bytes;

        public TextBuffer(int capacity)
        {
            _bytes = new byte[capacity];
        }

        public int Length { get; private set; }

        public ReadOnlySpan<byte> Text => new ReadOnlySpan<byte>(_bytes, 0, Length);

        public void Clear() => Length = 0;

        public void Append(char c)
        {
            if (Length < _bytes.Length)
            {
                _bytes[Length++] = (byte)c;
            }
        }

        public void Append(string text)
        {
            for (int i = 0; i < text.Length; i++)
            {
                Append(text[i]);
            }
        }

        public void Append(long value)
        {
            Span<byte> digits = stackalloc byte[JsonNumber.MaxLength];
            AppendBytes(digits.Slice(0, JsonNumber.FormatInt64(value, digits)));
        }

        /// <summary>A double with a fixed number of decimals ("3.00").</summary>
        public void AppendFixed(double value, int decimals)
        {
            Span<byte> digits = stackalloc byte[JsonNumber.MaxLength];
            AppendBytes(digits.Slice(0, JsonNumber.FormatFixed(value, decimals, digits)));
        }

        /// <summary>A rate in bits per second with a unit: "941.23 Mbit/s".</summary>
        public void AppendBitRate(double bitsPerSecond)
        {
            if (bitsPerSecond >= 1e9)
            {
                AppendFixed(bitsPerSecond / 1e9, 2);
                Append(" Gbit/s");
            }
            else if (bitsPerSecond >= 1e6)
            {
                AppendFixed(bitsPerSecond / 1e6, 2);
                Append(" Mbit/s");
            }
            else if (bitsPerSecond >= 1e3)
            {
                AppendFixed(bitsPerSecond / 1e3, 2);
                Append(" Kbit/s");
            }
            else
            {
                AppendFixed(bitsPerSecond, 0);
                Append(" bit/s");
            }
        }

        /// <summary>A dotted address and port.</summary>
        public void Append(Keel.Net.IPEndPoint endPoint)
        {
            for (int i = 0; i < 4; i++)
            {
                if (i > 0)
                {
                    Append('.');
                }
                Append((long)endPoint.Address.GetOctet(i));
            }
            Append(':');
            Append((long)endPoint.Port);
        }

        private void AppendBytes(ReadOnlySpan<byte> bytes)
        {
            for (int i = 0; i < bytes.Length; i++)
            {
                Append((char)bytes[i]);
            }
        }

        /// <summary>Writes the text and a line end to <paramref name="output"/>.</summary>
        public void WriteLineTo(ITextOutput output)
        {
            if (output == null)
            {
                return;
            }
            for (int i = 0; i < Length; i++)
            {
                output.Write((char)_bytes[i]);
            }
            output.WriteLine();
        }
    }
}
